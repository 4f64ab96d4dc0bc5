"""Reconcile the workspace: link the current victim records and write the reconciled victims.

    records (person_current) -> linkage input -> Splink (trained once, model saved in the
    workspace) -> one-to-one clustering with the analysts' decisions -> link, link_pair, victim

Each run replaces the previous run's tables in one transaction; the model in
`<workspace>/models/linkage.json` is reused until `--retrain`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from segura.reconcile.blocking import blocking_sizes, check_blocking, check_identifiers
from segura.reconcile.evaluate import Evaluation, evaluate
from segura.reconcile.link import LinkResult, run_linkage
from segura.reconcile.prepare import linkage_input
from segura.reconcile.review import review_queue
from segura.settings import Settings
from segura.store import Warehouse

log = logging.getLogger(__name__)
ATTRIBUTES = ("sex", "age", "event_date", "territory", "classification", "weapon", "relationship")


@dataclass
class ReconcileResult:
    run_id: int
    records: int
    victims: int
    pairs: int
    trained: bool
    decisions_applied: int
    by_source: dict[str, int] = field(default_factory=dict)  # records per institution
    found_by: dict[str, int] = field(default_factory=dict)  # "all" | "some" | "one" -> victims
    review_queue: int = 0
    blocking: list[dict[str, Any]] = field(default_factory=list)  # pairs per blocking rule (estimated)
    evaluation: Evaluation | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "evaluation"}
        out["evaluation"] = self.evaluation.to_dict() if self.evaluation else None
        return out


def model_path(root: Path) -> Path:
    return root / "models" / "linkage.json"


def active_decisions(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return [
        (a, b, d)
        for a, b, d in con.execute(
            "SELECT person_id_l, person_id_r, decision FROM review_decision WHERE undone_at IS NULL ORDER BY decision_id"
        ).fetchall()
    ]


def reconcile(
    wh: Warehouse,
    settings: Settings,
    *,
    root: Path | None,
    retrain: bool = False,
    truth: dict[str, str] | None = None,
) -> ReconcileResult:
    started = dt.datetime.now()
    con = wh.con
    level = str(settings["territory.event_level"])
    table = linkage_input(con, level)
    duplicate_free = list(settings["reconcile.duplicate_free_sources"])
    sources = sorted(set(table.column("source").to_pylist()))
    decisions = active_decisions(con)
    blocking: list[Any] = []
    if len(sources) == 1 and sources[0] in duplicate_free:
        # One institution that never records a victim twice: each record is a victim, nothing to link.
        ids = table.column("unique_id").to_pylist()
        result = LinkResult(clusters={i: i for i in ids}, pairs=pa.table({
            "unique_id_l": pa.array([], pa.string()), "unique_id_r": pa.array([], pa.string()),
            "match_probability": pa.array([], pa.float64())}), trained=False, model_json={})
    else:
        check_identifiers(table)
        # Count the pairs each blocking rule makes (on a sample when the input is large) before scoring.
        blocking = blocking_sizes(table, sample=min(1.0, 50_000 / max(table.num_rows, 1)))
        check_blocking(blocking)
        result = run_linkage(
            table,
            model_path=model_path(root) if root else None,
            retrain=retrain,
            decisions=decisions,
            max_pairs=float(settings["reconcile.max_pairs"]),
            threshold=float(settings["reconcile.threshold"]),
            duplicate_free=duplicate_free,
        )
    model_sha = hashlib.sha256(json.dumps(result.model_json, sort_keys=True).encode()).hexdigest()
    clusters = pa.table(
        {"person_id": list(result.clusters), "cluster_id": [result.clusters[k] for k in result.clusters]}
    )
    with wh.transaction():
        run_id = int(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM reconcile_run").fetchone()[0])  # type: ignore[index]
        con.register("_clusters", clusters)
        con.register("_pairs", result.pairs)
        con.execute("DELETE FROM link")
        con.execute("DELETE FROM link_pair")
        con.execute("DELETE FROM victim")
        con.execute(
            """
            INSERT INTO link_pair
            SELECT ?, p.unique_id_l, p.unique_id_r, p.match_probability, cl.cluster_id = cr.cluster_id
            FROM _pairs p JOIN _clusters cl ON cl.person_id = p.unique_id_l JOIN _clusters cr ON cr.person_id = p.unique_id_r""",
            [run_id],
        )
        con.execute(
            """
            INSERT INTO link
            WITH best AS (
                SELECT person_id, max(p) AS p FROM (
                    SELECT person_id_l AS person_id, match_probability AS p FROM link_pair WHERE linked
                    UNION ALL
                    SELECT person_id_r, match_probability FROM link_pair WHERE linked)
                GROUP BY person_id)
            SELECT ?, c.person_id, split_part(c.person_id, ':', 1), c.cluster_id, coalesce(b.p, 1.0)
            FROM _clusters c LEFT JOIN best b USING (person_id)""",
            [run_id],
        )
        _write_victims(con, run_id, settings)
        victims = con.execute("SELECT count(*) FROM victim").fetchone()[0]  # type: ignore[index]
        con.execute(
            "INSERT INTO reconcile_run VALUES (?, ?, now(), ?, ?, ?, ?, ?, ?, ?)",
            [run_id, started, table.num_rows, victims, result.pairs.num_rows, float(settings["reconcile.threshold"]), model_sha, result.trained, len(decisions)],
        )
        con.unregister("_clusters")
        con.unregister("_pairs")
    out = ReconcileResult(run_id=run_id, records=table.num_rows, victims=int(victims), pairs=result.pairs.num_rows, trained=result.trained, decisions_applied=len(decisions))
    out.blocking = [b.__dict__ for b in blocking]
    out.by_source = dict(con.execute("SELECT source_id, count(*) FROM link GROUP BY 1 ORDER BY 1").fetchall())
    n_sources = len(out.by_source)
    for label, n in con.execute(
        "SELECT CASE WHEN len(sources) = ? THEN 'all' WHEN len(sources) = 1 THEN 'one' ELSE 'some' END, count(*) FROM victim GROUP BY 1",
        [n_sources],
    ).fetchall():
        out.found_by[label] = n
    lo, hi = (float(x) for x in settings["reconcile.review_band"])
    out.review_queue = review_queue_size(con, lo, hi, list(settings["reconcile.duplicate_free_sources"]))
    if truth is not None:
        out.evaluation = evaluate(result.clusters, truth)
    out.seconds = (dt.datetime.now() - started).total_seconds()
    return out


def review_queue_size(con: duckdb.DuckDBPyConnection, lo: float, hi: float, duplicate_free: list[str]) -> int:
    return len(review_queue(con, lo, hi, duplicate_free=duplicate_free))


def _write_victims(con: duckdb.DuckDBPyConnection, run_id: int, settings: Settings) -> None:
    """One row per cluster; each attribute from the first source in its authority order that has
    a value (ties within a source broken by record id), with that source as its provenance."""
    authority: dict[str, list[str]] = dict(settings["reconcile.authoritative"])
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _records AS
        SELECT l.cluster_id, l.person_id, l.source_id, p.sex, p.age, coalesce(e.occurred_date, e.reported_date) AS event_date,
               e.territory_code, e.iccs_code, e.weapon, p.relationship, coalesce(list_contains(e.context, 'femicide'), false) AS femicide
        FROM link l JOIN person_current p ON p.person_id = l.person_id
        JOIN event_current e ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id"""
    )
    parts, params = [], []
    for attr, col in (("sex", "sex"), ("age", "age"), ("event_date", "event_date"), ("territory", "territory_code"),
                      ("classification", "iccs_code"), ("weapon", "weapon"), ("relationship", "relationship")):
        order = list(authority.get(attr, []))
        rank = ("CASE source_id " + " ".join("WHEN ? THEN " + str(i) for i in range(len(order))) + f" ELSE {len(order)} END") if order else "0"
        key = f"struct_pack(r := {rank}, id := person_id)"
        parts.append(f"arg_min({col}, {key}) FILTER (WHERE {col} IS NOT NULL)")
        parts.append(f"arg_min(source_id, {key}) FILTER (WHERE {col} IS NOT NULL)")
        params += order * 2
    con.execute(
        f"""
        INSERT INTO victim
        SELECT ?, cluster_id, count(*), list_sort(list_distinct(list(source_id))), {", ".join(parts)}, bool_or(femicide)
        FROM _records GROUP BY cluster_id
        """,  # noqa: S608 (our own column names; source names are bound parameters)
        [run_id, *params],
    )
    con.execute("DROP TABLE IF EXISTS temp._records")
