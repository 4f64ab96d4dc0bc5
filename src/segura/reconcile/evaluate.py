"""Accuracy of a linkage against a truth file: pairwise and cluster precision, recall and F1.

Pairwise: over all pairs of records, a pair is predicted when both records are in one cluster,
and true when the truth gives them one person. Cluster: a predicted cluster is correct when it
holds exactly the records of one true person (precision over predicted clusters, recall over
true persons).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int
    actual: int


@dataclass(frozen=True)
class Evaluation:
    records: int
    pairwise: Scores
    cluster: Scores

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scores(tp: int, predicted: int, actual: int) -> Scores:
    p = tp / predicted if predicted else 1.0
    r = tp / actual if actual else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return Scores(p, r, f, tp, predicted, actual)


def _pairs(groups: Iterable[list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups:
        ms = sorted(members)
        for i in range(len(ms)):
            for j in range(i + 1, len(ms)):
                out.add((ms[i], ms[j]))
    return out


def evaluate(predicted: Mapping[str, str], truth: Mapping[str, str]) -> Evaluation:
    """`predicted` and `truth` map record id -> cluster / person id; records missing from either are left out."""
    common = predicted.keys() & truth.keys()
    pred_groups: dict[str, list[str]] = defaultdict(list)
    true_groups: dict[str, list[str]] = defaultdict(list)
    for rec in common:
        pred_groups[predicted[rec]].append(rec)
        true_groups[truth[rec]].append(rec)
    pp, tp_pairs = _pairs(pred_groups.values()), _pairs(true_groups.values())
    pairwise = _scores(len(pp & tp_pairs), len(pp), len(tp_pairs))
    pred_sets = {frozenset(v) for v in pred_groups.values()}
    true_sets = {frozenset(v) for v in true_groups.values()}
    exact = len(pred_sets & true_sets)
    cluster = Scores(
        exact / len(pred_sets) if pred_sets else 1.0,
        exact / len(true_sets) if true_sets else 1.0,
        0.0,
        exact,
        len(pred_sets),
        len(true_sets),
    )
    f = 2 * cluster.precision * cluster.recall / (cluster.precision + cluster.recall) if exact else 0.0
    cluster = Scores(cluster.precision, cluster.recall, f, exact, len(pred_sets), len(true_sets))
    return Evaluation(len(common), pairwise, cluster)


def read_truth(path: Path) -> dict[str, str]:
    """A truth CSV: `source,record_id,person_id` (record ids become `source:record_id`), or `record_id,person_id`."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        out = {}
        for row in reader:
            rec = row.get("record_id") or ""
            if not rec:
                continue
            key = f"{row['source']}:{rec}" if row.get("source") else rec
            out[key] = row["person_id"]
    return out
