"""Accuracy of the linkage against ground truth: the sample observatory (issue 3's target) and the
public `fake_1000` benchmark (Splink's, MIT), run through Segura's own model.

The floors on fake_1000 are measured values less a small margin, not targets: the figures are in
bench/README.md, with the larger `historical_figures_with_errors_50k` run by bench/reconcile.py.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from segura import Workspace
from segura.pipeline import DemoResult, run_demo
from segura.reconcile.evaluate import Evaluation, evaluate
from segura.reconcile.link import dedupe_records
from segura.reconcile.prepare import INPUT_QUERY, LINKAGE_SCHEMA, linkage_input, linkage_table
from segura.settings import Settings

LINKAGE_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "linkage"
needs_linkage_data = pytest.mark.skipif(
    not (LINKAGE_DATA / "fake_1000.csv").is_file(),
    reason=f"the public linkage benchmarks are not at {LINKAGE_DATA} (../shared/data next to the project root)",
)

# Issue 3: on the sample observatory, pairwise precision at least 0.99 and recall at least 0.95.
TARGET_PRECISION = 0.99
TARGET_RECALL = 0.95


# -- the sample observatory -----------------------------------------------------------------------


@dataclass
class Demo:
    ws: Workspace
    result: DemoResult


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    with contextlib.redirect_stdout(io.StringIO()):  # Splink prints its progress
        result = run_demo(tmp_path_factory.mktemp("accuracy") / "ws", indicators=False)
    return Demo(result.workspace, result)


def _reconcile(demo: Demo, run: str) -> Any:
    if run == "trained by the demo":
        return demo.result.reconciliation
    with contextlib.redirect_stdout(io.StringIO()):
        return demo.ws.reconcile(retrain=False, truth=demo.ws.root / "truth" / "victims.csv")


@pytest.mark.slow
@pytest.mark.parametrize("run", ["trained by the demo", "saved model reused"])
def test_sample_observatory_meets_the_target(demo: Demo, run: str) -> None:
    result = _reconcile(demo, run)
    assert result.trained == (run == "trained by the demo")
    ev: Evaluation = result.evaluation
    assert ev is not None
    assert ev.records == result.records, "every linked record has a truth"
    # Measured 2026-11-25 at ec9a111: precision 0.9995, recall 0.9832 (6,506 of 6,617 true pairs).
    assert ev.pairwise.precision >= TARGET_PRECISION, ev.pairwise
    assert ev.pairwise.recall >= TARGET_RECALL, ev.pairwise


@pytest.mark.slow
def test_linkage_table_builds_what_linkage_input_builds(demo: Demo) -> None:
    """The generic builder (used on the public benchmarks) gives the warehouse path's columns and keys."""
    with demo.ws.warehouse(read_only=True) as wh:
        level = str(demo.ws.settings["territory.event_level"])
        from_warehouse = linkage_input(wh.con, level)
        rows = wh.con.execute(INPUT_QUERY).fetchall()
    assert from_warehouse.schema.equals(LINKAGE_SCHEMA)
    records = [
        {"unique_id": pid, "source": src, "record_id": rec, "sex": sex, "age": age, "age_is_estimate": est, "event_date": date,
         "territory_code": terr, "parent_code": parent, "given_names": given, "first_surname": s1, "second_surname": s2,
         "full_name": full, "document_number": doc, "iccs_code": iccs}
        for (pid, src, rec, sex, age, est, date, _reg, terr, parent, iccs, _ctx, given, s1, s2, full, doc) in rows
    ]
    generic = linkage_table(records)
    assert generic.schema.equals(LINKAGE_SCHEMA)
    same = ("unique_id", "source", "sex", "age", "event_date", "event_month", "event_week", "territory_code", "document_number",
            "given_1", "given_all", "surname_1", "surname_2", "surnames_sorted", "full_name")
    assert generic.select(same).equals(from_warehouse.select(same))


# -- fake_1000 (Splink's public benchmark: 1,000 records, 251 people) -------------------------------

# Segura's prediction keys need sex, age and a parent territory, which fake_1000 does not have: only
# exact first name + surname, city + week of the date, and the e-mail find pairs. The adaptation keeps
# every comparison and the training, and blocks on each identifying column alone instead (as Splink's
# own README does on fake_1000), which 1,000 records afford.
EACH_COLUMN_ALONE = (("document_number",), ("given_1",), ("surname_1",), ("event_date",), ("territory_code",))


def fake_1000_records() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """fake_1000 as linkage records: first name -> given names, surname -> first surname, dob -> the
    date, city -> the municipality (no parent, no neighbours), e-mail -> the identity document (an
    identifier compared exactly); no sex, no age. And the truth: record -> `cluster`."""
    records, truth = [], {}
    with (LINKAGE_DATA / "fake_1000.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                dob = dt.date.fromisoformat(row["dob"])
            except ValueError:
                dob = None
            records.append({
                "unique_id": row["unique_id"], "source": "fake_1000", "given_names": row["first_name"] or None,
                "first_surname": row["surname"] or None, "event_date": dob, "territory_code": row["city"] or None,
                "document_number": row["email"] or None,
            })
            truth[row["unique_id"]] = row["cluster"]
    return records, truth


@needs_linkage_data
def test_fake_1000_labels_agree_with_the_cluster_column() -> None:
    """The clerical labels are every true pair (2,031) and 1,145 hard non-pairs: the cluster column is the truth."""
    _, truth = fake_1000_records()
    with (LINKAGE_DATA / "fake_1000_labels.csv").open(encoding="utf-8", newline="") as fh:
        labels = [(r["unique_id_l"], r["unique_id_r"], float(r["clerical_match_score"])) for r in csv.DictReader(fh)]
    assert len(truth) == 1000 and len(set(truth.values())) == 251
    assert all((truth[a] == truth[b]) == (score == 1.0) for a, b, score in labels)
    assert sum(score == 1.0 for *_, score in labels) == 2031


@needs_linkage_data
@pytest.mark.parametrize(
    ("blocks", "floors"),
    [
        # Measured 2026-11-25 at the workspace threshold (0.5): pairwise P 1.000, R 0.481, F1 0.649; cluster
        # F1 0.224 (with the prediction keys before a7f4962, which had city + week of the date: R 0.612).
        # Recall depends on which of the model's keys this data can feed; precision should not move.
        pytest.param(None, {"precision": 0.99, "recall": 0.45, "f1": 0.62, "cluster_f1": 0.20}, id="segura-model"),
        # Measured 2026-11-25: pairwise P 0.942, R 0.814, F1 0.873; cluster F1 0.553 (same with both sets of keys).
        pytest.param(EACH_COLUMN_ALONE, {"precision": 0.92, "recall": 0.79, "f1": 0.85, "cluster_f1": 0.53}, id="blocks-on-each-column"),
    ],
)
def test_fake_1000(blocks: tuple[tuple[str, ...], ...] | None, floors: dict[str, float]) -> None:
    records, truth = fake_1000_records()
    with contextlib.redirect_stdout(io.StringIO()):
        result = dedupe_records(linkage_table(records), threshold=float(Settings()["reconcile.threshold"]), blocks=blocks)
    ev = evaluate(result.clusters, truth)
    assert ev.records == 1000
    assert ev.pairwise.precision >= floors["precision"], ev.pairwise
    assert ev.pairwise.recall >= floors["recall"], ev.pairwise
    assert ev.pairwise.f1 >= floors["f1"], ev.pairwise
    assert ev.cluster.f1 >= floors["cluster_f1"], ev.cluster
