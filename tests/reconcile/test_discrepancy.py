"""The discrepancy report over the sample observatory: the meeting table's arithmetic holds for
every cell and institution, totals match the linkage, record ids only, and safe exports."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from segura.model.names import fold
from segura.pipeline import run_demo
from segura.reconcile.discrepancy import (
    DUPLICATE,
    MISSING,
    OTHER_CLASSIFICATION,
    OTHER_MONTH,
    OTHER_MUNICIPALITY,
    SHEETS,
    DiscrepancyReport,
    LinkedRecord,
    ReconciledVictim,
    build_report,
    discrepancy_report,
    export_report,
)
from segura.reconcile.prepare import neighbours
from segura.store.export import FORMULA_START, PLAIN_NUMBER

pytestmark = pytest.mark.slow  # builds the demo workspace once (about 15 s)

PLACE = (OTHER_MUNICIPALITY, OTHER_MONTH)
CELL_COUNTS = """
    SELECT l.source_id, e.territory_code, strftime(coalesce(e.occurred_date, e.reported_date), '%Y-%m'), count(*)
    FROM link l JOIN person_current p ON p.person_id = l.person_id
    JOIN event_current e ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id
    GROUP BY ALL
"""


@dataclass
class Demo:
    root: Path
    report: DiscrepancyReport
    files: list[Path]
    counts: dict[tuple[str, str | None, str | None], int]  # (source, territory, month) -> records
    reference: dict[str, tuple[str | None, str | None]]  # cluster -> (territory, month)
    link_counts: dict[str, int]
    current_ids: set[str]
    identities: list[tuple[Any, ...]]  # names and documents, read here only to look for them in the files
    neighbours: dict[str, list[str]]
    police_territory: dict[str, str]  # police person_id -> event territory
    clusters: dict[str, str]  # person_id -> cluster


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("discrepancy")
    with contextlib.redirect_stdout(io.StringIO()):
        ws = run_demo(root / "ws", indicators=False).workspace
    with ws.warehouse(read_only=True) as wh:
        con = wh.con
        report = discrepancy_report(con)
        yield_demo = Demo(
            root=ws.root,
            report=report,
            files=export_report(report, root / "out"),
            counts={(s, t, m): n for s, t, m, n in con.execute(CELL_COUNTS).fetchall()},
            reference={c: (t, m) for c, t, m in con.execute(
                "SELECT cluster_id, territory_code, strftime(event_date, '%Y-%m') FROM victim").fetchall()},
            link_counts=dict(con.execute("SELECT source_id, count(*) FROM link GROUP BY 1").fetchall()),
            current_ids={r[0] for r in con.execute("SELECT person_id FROM person_current").fetchall()},
            identities=con.execute(
                "SELECT full_name, given_names, first_surname, second_surname, document_number FROM person_identity"
            ).fetchall(),
            neighbours=neighbours(con, "admin2"),
            police_territory=dict(con.execute(
                """SELECT p.person_id, e.territory_code FROM person_current p JOIN event_current e
                   ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id WHERE p.source_id = 'police'"""
            ).fetchall()),
            clusters=dict(con.execute("SELECT person_id, cluster_id FROM link").fetchall()),
        )
    yield yield_demo


def test_every_cell_adds_up_for_every_institution(demo: Demo) -> None:
    """count = reconciled - victims it has elsewhere or not at all + records of victims referenced
    elsewhere + extra duplicate records, for every territory x month and institution."""
    r = demo.report
    reconciled = {(c["territory_code"], c["month"]): c["reconciled"] for c in r.cells}
    assert sum(reconciled.values()) == len(demo.reference)
    moved_in: Counter[tuple[Any, ...]] = Counter()
    moved_out: Counter[tuple[Any, ...]] = Counter()
    extra: Counter[tuple[Any, ...]] = Counter()
    effect: Counter[tuple[Any, ...]] = Counter()
    for d in r.differences:
        key = (d["source"], d["territory_code"], d["month"])
        at_reference = demo.reference[d["cluster_id"]] == (d["territory_code"], d["month"])
        effect[key] += d["effect"]
        if d["reason"] == MISSING or (d["reason"] in PLACE and at_reference):
            assert at_reference and d["effect"] == -1, d
            moved_in[key] += 1
        elif d["reason"] in PLACE:
            assert d["effect"] == len(d["record_ids"]) == 1, d
            moved_out[key] += len(d["record_ids"])
        elif d["reason"] == DUPLICATE:
            assert d["effect"] == len(d["record_ids"]) >= 1, d
            extra[key] += len(d["record_ids"])
        else:
            assert d["reason"] == OTHER_CLASSIFICATION and d["effect"] == 0, d
    assert moved_in and moved_out and extra, "the demo has every kind of difference"
    for cell in r.cells:
        where = (cell["territory_code"], cell["month"])
        for source in r.sources:
            key = (source, *where)
            count = demo.counts.get(key, 0)
            assert cell[source] == count, key
            assert count == reconciled[where] - moved_in[key] + moved_out[key] + extra[key], key
            assert count == reconciled[where] + effect[key], key
    assert {(c["territory_code"], c["month"]) for c in r.cells} >= {k[1:] for k in demo.counts}


def test_totals_match_the_linkage(demo: Demo) -> None:
    s = demo.report.summary()
    assert s["records"] == demo.link_counts
    assert s["reconciled"] == len(demo.reference)
    assert sum(s["found_by"].values()) == s["reconciled"]
    assert sum(s["differences"].values()) == len(demo.report.differences)


def test_found_by_all_some_one_add_up_to_the_reconciled_count(demo: Demo) -> None:
    for c in demo.report.cells:
        assert c["found_by_all"] + c["found_by_some"] + c["found_by_one"] == c["reconciled"], c


def test_every_record_id_is_a_current_record(demo: Demo) -> None:
    ids = [i for d in demo.report.differences for i in d["record_ids"]]
    ids += [i for c in demo.report.conflicts for i in c["record_ids"]]
    assert ids and set(ids) <= demo.current_ids


def test_no_name_or_document_reaches_an_export(demo: Demo) -> None:
    texts = []
    for path in demo.files:
        if path.suffix == ".csv":
            texts.append(path.read_text(encoding="utf-8-sig"))
        else:
            wb = load_workbook(path, read_only=True)
            texts.append("\n".join(" | ".join(str(v) for v in row if v is not None) for ws in wb for row in ws.iter_rows(values_only=True)))
    haystack = " " + fold(" | ".join(texts)) + " "
    needles = set()
    for full, given, first, second, document in demo.identities:
        for text in (full, " ".join(p for p in (given, first, second) if p), " ".join(p for p in (given, first) if p), document):
            if text and len(fold(text)) >= 8:
                needles.add(" " + fold(text) + " ")
    assert len(needles) > 1000
    found = sorted(n for n in needles if n in haystack)
    assert not found, found[:5]


def test_xlsx_has_the_four_sheets_and_no_live_formula(demo: Demo) -> None:
    xlsx = next(p for p in demo.files if p.suffix == ".xlsx")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == [sheet for _stem, sheet in SHEETS]
    assert [c.value for c in wb["diferencias (differences)"][1]][:3] == ["territorio / territory", "mes / month", "institución / institution"]
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert not c.value.startswith(FORMULA_START) or PLAIN_NUMBER.match(c.value), c.value
    csvs = {p.name for p in demo.files if p.suffix == ".csv"}
    assert csvs == {f"discrepancies_{stem}.csv" for stem, _sheet in SHEETS}
    for path in demo.files:
        if path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as fh:
                for row in csv.reader(fh):
                    assert not any(v.startswith(FORMULA_START) and not PLAIN_NUMBER.match(v) for v in row), row


def test_a_victim_police_placed_in_the_neighbouring_municipality(demo: Demo) -> None:
    """Hand-checked against the truth file: police recorded the death in a neighbouring municipality.
    Police is first in the demo's authority order for territory, so the reconciled victim sits where
    police put it, and forensic's record in the true municipality is the other_municipality difference."""
    with (demo.root / "truth" / "people.csv").open(encoding="utf-8") as fh:
        true_territory = {r["person_id"]: r["territory_code"] for r in csv.DictReader(fh)}
    with (demo.root / "truth" / "victims.csv").open(encoding="utf-8") as fh:
        truth = [(f"{r['source']}:{r['record_id']}", r["person_id"]) for r in csv.DictReader(fh)]
    forensic_of = {person: rec for rec, person in truth if rec.startswith("forensic:")}
    cases = []
    for rec, person in truth:
        placed = demo.police_territory.get(rec)
        real = true_territory[person]
        if placed and placed != real and placed in demo.neighbours.get(real, []) and person in forensic_of:
            if demo.clusters.get(rec) == demo.clusters.get(forensic_of[person]):  # linked correctly
                cases.append((rec, forensic_of[person], placed, real))
    assert len(cases) >= 10
    police_id, forensic_id, placed, real = sorted(cases)[0]
    cluster = demo.clusters[police_id]
    reference = demo.reference[cluster]
    assert reference[0] == placed
    rows = [d for d in demo.report.differences if d["cluster_id"] == cluster and d["source"] == "forensic"]
    missing_here = [d for d in rows if (d["territory_code"], d["month"]) == reference]
    assert [(d["reason"], d["record_ids"], d["effect"]) for d in missing_here] == [(OTHER_MUNICIPALITY, [forensic_id], -1)]
    assert f"recorded in {real}" in missing_here[0]["detail"]
    mirror = [d for d in rows if d["territory_code"] == real]
    assert [(d["reason"], d["record_ids"], d["effect"]) for d in mirror] == [(OTHER_MUNICIPALITY, [forensic_id], 1)]
    assert police_id in mirror[0]["detail"], "the mirror names the record the reference territory came from"
    conflict = [c for c in demo.report.conflicts if c["cluster_id"] == cluster and c["attribute"] == "municipality"]
    assert len(conflict) == 1 and {police_id, forensic_id} <= set(conflict[0]["record_ids"])
    assert f"{placed} " in conflict[0]["values"] and f"{real} " in conflict[0]["values"]


# -- the rules on a hand-made case (no demo needed) --------------------------------------------------

def _rec(pid: str, cluster: str, territory: str, day: str, **kw: Any) -> LinkedRecord:
    date = dt.date.fromisoformat(day)
    values: dict[str, Any] = {"occurred": date, "iccs": "0101", "sex": "F", "age": 30, "age_is_estimate": False} | kw
    return LinkedRecord(pid, pid.split(":")[0], cluster, territory, day[:7], **values)


def test_reasons_on_a_hand_made_case() -> None:
    records = [
        _rec("police:1", "v1", "001", "2014-03-30"),
        _rec("forensic:1", "v1", "001", "2014-04-01", age=36, sex="M"),  # other month; age and sex disagree
        _rec("prosecutors:1", "v1", "002", "2014-03-30", iccs="0103"),  # other municipality, other classification
        _rec("prosecutors:2", "v1", "002", "2014-05-15"),  # a second case file of the same victim
        _rec("police:2", "v2", "001", "2014-03-02", age=31, age_is_estimate=True),
        _rec("forensic:2", "v2", "001", "2014-03-02", age=35, age_is_estimate=True),  # within 6, estimates: agree
    ]
    victims = [ReconciledVictim("v1", ("forensic", "police", "prosecutors"), "001", "2014-03", "0101", "police"),
               ReconciledVictim("v2", ("forensic", "police"), "001", "2014-03", "0101", "police")]
    report = build_report(1, records, victims, {"001": "Uno", "002": "Dos"})
    got = {(d["source"], d["territory_code"], d["month"], d["reason"], d["effect"], tuple(d["record_ids"])) for d in report.differences}
    assert got == {
        ("forensic", "001", "2014-03", OTHER_MONTH, -1, ("forensic:1",)),
        ("forensic", "001", "2014-04", OTHER_MONTH, 1, ("forensic:1",)),
        ("prosecutors", "001", "2014-03", OTHER_MUNICIPALITY, -1, ("prosecutors:1",)),
        ("prosecutors", "002", "2014-03", OTHER_MUNICIPALITY, 1, ("prosecutors:1",)),
        ("prosecutors", "002", "2014-03", OTHER_CLASSIFICATION, 0, ("prosecutors:1",)),
        ("prosecutors", "002", "2014-05", DUPLICATE, 1, ("prosecutors:2",)),
        ("prosecutors", "001", "2014-03", MISSING, -1, ()),
    }
    cells = {(c["territory_code"], c["month"]): c for c in report.cells}
    assert (cells[("001", "2014-03")]["police"], cells[("001", "2014-03")]["reconciled"]) == (2, 2)
    assert (cells[("001", "2014-03")]["found_by_all"], cells[("001", "2014-03")]["found_by_some"]) == (1, 1)
    conflicts = {(c["cluster_id"], c["attribute"]) for c in report.conflicts}
    assert conflicts == {("v1", "sex"), ("v1", "age"), ("v1", "municipality"), ("v1", "date"), ("v1", "classification")}
    date = next(c for c in report.conflicts if c["attribute"] == "date")
    assert date["values"] == "2014-04-01 (forensic:1) / 2014-03-30 (police:1, prosecutors:1) / 2014-05-15 (prosecutors:2)"
    summary = report.summary()
    assert summary["records"] == {"forensic": 2, "police": 2, "prosecutors": 2}
    assert summary["reconciled"] == 2 and summary["differences"][DUPLICATE] == 1


def test_a_warehouse_without_a_run_says_what_to_do() -> None:
    from segura.reconcile.discrepancy import NoReconciliation
    from segura.store import open_warehouse

    with open_warehouse(None) as wh, pytest.raises(NoReconciliation, match="segura reconcile"):
        discrepancy_report(wh.con)

