"""Clerical review on the sample observatory: the queue, decisions applied by later runs, undo,
and `segura review` driven as an analyst would type it."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

from segura import Workspace
from segura.cli import app
from segura.pipeline import DEMO_SETTINGS, run_demo
from segura.reconcile.review import (
    DETAIL_FIELDS,
    ReviewError,
    decide,
    decisions,
    pair_details,
    review_queue,
    undo,
)

pytestmark = pytest.mark.slow  # builds and reconciles the sample observatory (~15 s)
runner = CliRunner()


DUPLICATE_FREE = DEMO_SETTINGS["reconcile.duplicate_free_sources"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample observatory, reconciled once (model trained and saved); tests work on copies."""
    root = tmp_path_factory.mktemp("review") / "sample"
    with contextlib.redirect_stdout(io.StringIO()):  # Splink prints its training
        result = run_demo(root, indicators=False)
    assert result.adds_up and result.reconciliation.review_queue > 0
    return root


@pytest.fixture
def ws(sample: Path, tmp_path: Path) -> Workspace:
    root = tmp_path / "obs"
    shutil.copytree(sample, root)
    return Workspace.open(root)


@contextlib.contextmanager
def connection(ws: Workspace) -> Iterator[duckdb.DuckDBPyConnection]:
    with ws.warehouse() as wh:
        yield wh.con


def band(ws: Workspace) -> tuple[float, float]:
    lo, hi = ws.settings["reconcile.review_band"]
    return float(lo), float(hi)


def rerun(ws: Workspace) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        result = ws.reconcile()
    assert not result.trained, "the saved model is reused"
    return result.decisions_applied


def cluster_of(con: duckdb.DuckDBPyConnection, person_id: str) -> str:
    return str(con.execute("SELECT cluster_id FROM link WHERE person_id = ?", [person_id]).fetchone()[0])  # type: ignore[index]


def said(result: Result) -> str:
    """The command's output with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def names_of(con: duckdb.DuckDBPyConnection, *person_ids: str) -> set[str]:
    rows = con.execute(
        "SELECT given_names, first_surname, second_surname, full_name, document_number FROM person_identity "
        "WHERE person_id IN (SELECT unnest(?))",
        [list(person_ids)],
    ).fetchall()
    return {v for r in rows for v in r if v and len(v) > 3}


# -- the queue ----------------------------------------------------------------------------------------


def test_the_queue_holds_undecided_pairs_of_the_band_most_uncertain_first(ws: Workspace) -> None:
    lo, hi = band(ws)
    with connection(ws) as con:
        queue = review_queue(con, lo, hi, duplicate_free=DUPLICATE_FREE)
        in_band = con.execute(
            "SELECT count(*) FROM link_pair WHERE match_probability BETWEEN ? AND ? AND NOT (split_part(person_id_l, ':', 1) = "
            "split_part(person_id_r, ':', 1) AND list_contains(?, split_part(person_id_l, ':', 1)))",
            [lo, hi, DUPLICATE_FREE],
        ).fetchone()[0]  # type: ignore[index]
        assert len(queue) == in_band > 10
        assert all(lo <= p.match_probability <= hi for p in queue)
        distance = [abs(p.match_probability - 0.5) for p in queue]
        assert distance == sorted(distance)
        assert [p.person_id_l for p in review_queue(con, lo, hi, limit=3, duplicate_free=DUPLICATE_FREE)] == [p.person_id_l for p in queue[:3]]

        first, second = queue[0], queue[1]
        decide(con, first.person_id_l, first.person_id_r, "same")
        decide(con, second.person_id_r, second.person_id_l, "different")  # either order
        after = review_queue(con, lo, hi, duplicate_free=DUPLICATE_FREE)
        pairs = {(p.person_id_l, p.person_id_r) for p in after}
        assert len(after) == len(queue) - 2
        assert (first.person_id_l, first.person_id_r) not in pairs and (second.person_id_l, second.person_id_r) not in pairs


def test_a_newer_decision_supersedes_and_undo_returns_the_pair_to_the_queue(ws: Workspace) -> None:
    lo, hi = band(ws)
    with connection(ws) as con:
        pair = review_queue(con, lo, hi, limit=1, duplicate_free=DUPLICATE_FREE)[0]
        first = decide(con, pair.person_id_l, pair.person_id_r, "same")
        second = decide(con, pair.person_id_r, pair.person_id_l, "different", note="distinta edad")
        assert second > first
        active = decisions(con)
        assert [(d.decision_id, d.decision, d.note) for d in active] == [(second, "different", "distinta edad")]
        history = decisions(con, include_undone=True)
        assert [d.decision_id for d in history] == [first, second] and not history[0].active

        undone = undo(con, second)
        assert undone.undone_at is not None
        assert decisions(con) == [], "undoing never revives the superseded decision"
        assert review_queue(con, lo, hi, limit=1, duplicate_free=DUPLICATE_FREE)[0] == pair
        with pytest.raises(ReviewError, match="already undone"):
            undo(con, second)
        with pytest.raises(ReviewError, match="--list"):
            undo(con, 999)
        with pytest.raises(ReviewError, match="not one of"):
            decide(con, pair.person_id_l, pair.person_id_r, "maybe")
        with pytest.raises(ReviewError, match="no record"):
            decide(con, pair.person_id_l, "police:NO-SUCH-RECORD", "same")


def test_pair_details_show_both_records_with_provenance(ws: Workspace) -> None:
    lo, hi = band(ws)
    with connection(ws) as con:
        pair = next(p for p in review_queue(con, lo, hi, duplicate_free=DUPLICATE_FREE) if len(set(p.sources)) == 2)
        left, right = pair_details(con, pair.person_id_l, pair.person_id_r)
        identity = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT person_id, given_names, first_surname, document_number FROM person_identity WHERE person_id IN (?, ?)",
                [pair.person_id_l, pair.person_id_r],
            ).fetchall()
        }
    assert {key for key, _, _ in DETAIL_FIELDS} <= left.keys() == right.keys()
    for side, person_id in ((left, pair.person_id_l), (right, pair.person_id_r)):
        assert f"{side['source']}:{side['record_id']}" == person_id
        assert side["load_file"].startswith(side["source"]) and side["row_number"] > 0
        assert side["territory_code"] and side["territory_name"] and side["iccs_code"]
        given, surname, document = identity.get(person_id, (None, None, None))
        assert (side["given_names"], side["first_surname"]) == (given, surname)
        assert (document is None) or document in (side["document"] or "")


# -- decisions applied by later runs --------------------------------------------------------------------


def test_decisions_are_applied_by_every_later_run_and_undo_restores_the_link(ws: Workspace) -> None:
    lo, hi = band(ws)
    with connection(ws) as con:
        queue = review_queue(con, lo, hi, duplicate_free=DUPLICATE_FREE)
        # two institutions the run did not link: the analyst says they are one victim
        joined = next(p for p in queue if not p.linked and len(set(p.sources)) == 2)
        # two institutions the run linked, alone in their victim: the analyst says they are two
        a, b = con.execute(
            """SELECT p.person_id_l, p.person_id_r FROM link_pair p
               JOIN link l ON l.person_id = p.person_id_l JOIN link r ON r.person_id = p.person_id_r
               WHERE p.linked AND l.source_id <> r.source_id AND l.person_id NOT IN (?, ?) AND r.person_id NOT IN (?, ?)
                 AND (SELECT count(*) FROM link k WHERE k.cluster_id = l.cluster_id) = 2
               ORDER BY abs(p.match_probability - 0.5), 1, 2 LIMIT 1""",
            [joined.person_id_l, joined.person_id_r] * 2,
        ).fetchone()  # type: ignore[misc]
        assert cluster_of(con, joined.person_id_l) != cluster_of(con, joined.person_id_r)
        assert cluster_of(con, a) == cluster_of(con, b)
        decide(con, joined.person_id_l, joined.person_id_r, "same")
        different = decide(con, a, b, "different")

    assert rerun(ws) == 2
    with connection(ws) as con:
        assert cluster_of(con, joined.person_id_l) == cluster_of(con, joined.person_id_r)
        assert cluster_of(con, a) != cluster_of(con, b)
        linked = dict(con.execute("SELECT person_id_l || '|' || person_id_r, linked FROM link_pair").fetchall())
        assert linked[f"{a}|{b}"] is False
        assert all(p != joined for p in review_queue(con, lo, hi, duplicate_free=DUPLICATE_FREE))
        undo(con, different)

    assert rerun(ws) == 1
    with connection(ws) as con:
        assert cluster_of(con, a) == cluster_of(con, b), "the undone 'different' no longer separates them"
        assert cluster_of(con, joined.person_id_l) == cluster_of(con, joined.person_id_r), "the 'same' survives a second run"
        assert [d.decision for d in decisions(con)] == ["same"]
        assert [d.decision for d in decisions(con, include_undone=True)] == ["same", "different"]


def review_after(ws: Workspace, lo: float, hi: float) -> tuple[str, str]:
    with connection(ws) as con:
        head = review_queue(con, lo, hi, limit=1, duplicate_free=DUPLICATE_FREE)[0]
    return head.person_id_l, head.person_id_r


# -- segura review ----------------------------------------------------------------------------------------


def test_segura_review_decides_lists_and_undoes(ws: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    lo, hi = band(ws)
    with connection(ws) as con:
        first, second = review_queue(con, lo, hi, limit=2, duplicate_free=DUPLICATE_FREE)
        names = names_of(con, first.person_id_l, first.person_id_r)
    w = ["-w", str(ws.root)]

    caplog.set_level(logging.DEBUG)
    result = runner.invoke(app, ["review", "--limit", "5", *w], input="s\nd\nq\n")
    assert result.exit_code == 0, result.output
    out = said(result)
    assert "¿Misma persona? / Same person?" in out
    assert first.person_id_l.split(":", 1)[1] in out and f"{first.match_probability:.3f}" in out
    assert any(n in result.output for n in names), "the analyst sees the names side by side"
    assert "2 decided" in out and "Run `segura reconcile` to apply them" in out
    assert not any(n in caplog.text for n in names), "names never reach a log"

    listed = runner.invoke(app, ["review", "--list", "--json", *w])
    assert listed.exit_code == 0, listed.output
    taken = json.loads(listed.output)
    assert [(d["decision"], d["undone_at"]) for d in taken] == [("same", None), ("different", None)]
    assert {tuple(sorted((d["person_id_l"], d["person_id_r"]))) for d in taken} == {
        tuple(sorted((p.person_id_l, p.person_id_r))) for p in (first, second)
    }

    queue = runner.invoke(app, ["review", "--json", *w])
    assert queue.exit_code == 0, queue.output
    waiting = json.loads(queue.output)["pairs"]
    assert (waiting[0]["person_id_l"], waiting[0]["person_id_r"]) == review_after(ws, lo, hi)
    assert not any(n in queue.output for n in names), "the JSON queue holds record ids, never names"

    undone = runner.invoke(app, ["review", "--undo", str(taken[1]["decision_id"]), *w])
    assert undone.exit_code == 0, undone.output
    assert "undone" in said(undone) and "segura reconcile" in said(undone)
    after = json.loads(runner.invoke(app, ["review", "--list", "--json", *w]).output)
    assert after[0]["undone_at"] is None and after[1]["undone_at"] is not None
    again = runner.invoke(app, ["review", "--undo", str(taken[1]["decision_id"]), *w])
    assert isinstance(again.exception, ReviewError) and again.exception.exit_code == 2
    assert "already undone" in str(again.exception)

    with connection(ws) as con:
        assert review_queue(con, lo, hi, limit=1, duplicate_free=DUPLICATE_FREE)[0] == second, "the undone pair waits for review again"


def test_undo_last_in_the_session_goes_back_to_the_pair(ws: Workspace) -> None:
    result = runner.invoke(app, ["review", "-w", str(ws.root)], input="s\nu\nd\nk\nx\nq\n")
    assert result.exit_code == 0, result.output
    out = said(result)
    assert "back to pair 1" in out and "Type s, d, k, u or q" in out
    assert "1 decided" in out and "skipped / saltados 1." in out
    with connection(ws) as con:
        assert [(d.decision, d.active) for d in decisions(con, include_undone=True)] == [("same", False), ("different", True)]


def test_review_has_help() -> None:
    result = runner.invoke(app, ["review", "--help"])
    assert result.exit_code == 0 and "--undo" in result.output and "--list" in result.output


def test_no_pair_of_one_duplicate_free_source_is_asked_about(ws: Workspace) -> None:
    lo, hi = band(ws)
    with connection(ws) as con:
        everything = review_queue(con, lo, hi)
        asked = review_queue(con, lo, hi, duplicate_free=DUPLICATE_FREE)
    within = [p for p in everything if p.sources[0] == p.sources[1] and p.sources[0] in DUPLICATE_FREE]
    assert within, "the sample has such pairs in the band"
    assert not [p for p in asked if p.sources[0] == p.sources[1] and p.sources[0] in DUPLICATE_FREE]
    assert len(asked) == len(everything) - len(within)
