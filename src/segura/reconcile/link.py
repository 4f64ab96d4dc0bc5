"""Run the linkage: train or reuse the model, predict pairs, apply review decisions, cluster.

Splink works in its own in-memory DuckDB; the warehouse receives only record ids, cluster ids
and probabilities (tables `link`, `link_pair`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from segura.reconcile.model import settings, train

log = logging.getLogger(__name__)

MATCH_THRESHOLD = 0.9  # pairs at or above are the same victim
REVIEW_BAND = (0.3, 0.97)  # pairs in this band go to clerical review
KEEP_PAIRS_ABOVE = 0.05
SPLINK_MEMORY = "1GB"


@dataclass
class LinkResult:
    clusters: dict[str, str]  # unique_id -> cluster id
    pairs: pa.Table  # unique_id_l, unique_id_r, match_probability (>= KEEP_PAIRS_ABOVE)
    trained: bool
    model_json: dict[str, Any]


def spill_folder() -> Path:
    """Where Splink's DuckDB spills past its memory limit; removed by `release_spill` after each run."""
    folder = Path(tempfile.gettempdir()) / f"segura-splink-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    return folder


def release_spill(linker: Any) -> None:
    """Close Splink's database and remove its spill files (hundreds of MB at 300k records)."""
    with contextlib.suppress(Exception):
        linker._db_api._con.close()
    shutil.rmtree(spill_folder(), ignore_errors=True)


def _linker(table: pa.Table, model: dict[str, Any] | str | None) -> Any:
    from splink import DuckDBAPI, Linker

    # Splink's own database, bounded like the warehouse (its default would take 80% of the machine).
    con = duckdb.connect(config={"memory_limit": SPLINK_MEMORY, "threads": 2})
    con.execute("SET enable_progress_bar = false")
    con.execute("SET temp_directory = ?", [str(spill_folder())])
    db_api = DuckDBAPI(connection=con)
    # One input table per institution: Splink links across them and deduplicates within each,
    # and knows each record's source (needed for one-to-one clustering).
    sources = sorted(set(table.column("source").to_pylist()))
    frames = [
        db_api.register(table.filter(pc.equal(table.column("source"), src)), table_name=src) for src in sources
    ]
    if len(frames) == 1:  # one institution: find its duplicates only
        spec: Any = dict(model, link_type="dedupe_only") if isinstance(model, dict) else \
            dataclasses.replace(settings(), link_type="dedupe_only")
        return Linker(frames[0], spec, log_level=logging.WARNING)
    spec = dict(model, link_type="link_and_dedupe") if isinstance(model, dict) else settings()
    return Linker(frames, spec, log_level=logging.WARNING)


def run_linkage(
    table: pa.Table,
    *,
    model_path: Path | None,
    retrain: bool = False,
    decisions: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    max_pairs: float = 2e6,
    seed: int = 2026,
    threshold: float = MATCH_THRESHOLD,
    duplicate_free: list[str] | None = None,
) -> LinkResult:
    """Link the records of `table` (see prepare.linkage_input)."""
    reuse = model_path is not None and model_path.is_file() and not retrain
    linker = _linker(table, json.loads(model_path.read_text(encoding="utf-8")) if reuse and model_path else None)
    trained = not reuse
    try:
        if trained:
            train(linker, max_pairs=max_pairs, seed=seed)
        model_json = linker.misc.save_model_to_json()
        if model_path is not None and trained:
            model_path.parent.mkdir(parents=True, exist_ok=True)
            model_path.write_text(json.dumps(model_json, indent=1), encoding="utf-8")
        preds = linker.inference.predict(threshold_match_probability=KEEP_PAIRS_ABOVE)
        pairs = _arrow(preds.as_duckdbpyrelation().select("unique_id_l, unique_id_r, match_probability"))
        ids = table.column("unique_id").to_pylist()
        if duplicate_free and len(set(table.column("source").to_pylist())) > 1:
            clusters = _single_best_links(linker, preds, decisions, duplicate_free, threshold, ids)
        else:
            clusters = cluster(ids, pairs, decisions, threshold)
    finally:
        release_spill(linker)
    return LinkResult(clusters=clusters, pairs=pairs, trained=trained, model_json=model_json)


def _arrow(rel: Any) -> pa.Table:
    out = rel.arrow()
    return out.read_all() if hasattr(out, "read_all") else out


def _single_best_links(linker: Any, preds: Any, decisions: list[tuple[str, str, str]], duplicate_free: list[str], threshold: float, ids: list[str]) -> dict[str, str]:
    """Splink's one-to-one clustering (at most one record of each duplicate-free source per victim),
    on the predictions as amended by the analysts: 'different' pairs score 0, 'same' pairs 1."""
    con = linker._db_api._con  # Splink's own in-memory DuckDB
    name = preds.physical_name
    con.execute("CREATE OR REPLACE TEMP TABLE _decisions (l VARCHAR, r VARCHAR, decision VARCHAR)")
    if decisions:
        con.executemany("INSERT INTO _decisions VALUES (?, ?, ?)", [list(d) for d in decisions])
    con.execute(
        f"""
        CREATE OR REPLACE TABLE _amended AS
        WITH src AS (SELECT unique_id, source_dataset FROM (SELECT DISTINCT unique_id_l AS unique_id, source_dataset_l AS source_dataset FROM {name}
                     UNION SELECT DISTINCT unique_id_r, source_dataset_r FROM {name})),
        same AS (SELECT d.l, d.r FROM _decisions d WHERE d.decision = 'same'),
        scored AS (
            SELECT p.source_dataset_l, p.unique_id_l, p.source_dataset_r, p.unique_id_r,
                   CASE WHEN d.decision = 'different' THEN 0.0 WHEN d.decision = 'same' THEN 1.0 ELSE p.match_probability END AS match_probability
            FROM {name} p LEFT JOIN _decisions d
              ON (d.l = p.unique_id_l AND d.r = p.unique_id_r) OR (d.l = p.unique_id_r AND d.r = p.unique_id_l))
        SELECT *, log2(greatest(match_probability, 1e-12) / greatest(1 - match_probability, 1e-12)) AS match_weight FROM scored
        UNION ALL
        SELECT split_part(s.l, ':', 1), s.l, split_part(s.r, ':', 1), s.r, 1.0, 40.0
        FROM same s WHERE NOT EXISTS (SELECT 1 FROM {name} p
            WHERE (p.unique_id_l = s.l AND p.unique_id_r = s.r) OR (p.unique_id_l = s.r AND p.unique_id_r = s.l))
        """  # noqa: S608 (Splink's own table name)
    )
    amended = linker.table_management.register_table_predict(linker._db_api.register(_arrow(con.sql("SELECT * FROM _amended"))))
    clustered = linker.clustering.cluster_using_single_best_links(
        amended, duplicate_free_datasets=duplicate_free, threshold_match_probability=threshold
    )
    found = {u: str(c) for u, c in clustered.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall()}
    # Name each victim after its smallest record id (stable across runs, no name in it).
    first: dict[str, str] = {}
    for i in ids:
        c = found.get(i, i)
        first[c] = min(first.get(c, i), i)
    return {i: first[found.get(i, i)] for i in ids}


def cluster(ids: list[str], pairs: pa.Table, decisions: list[tuple[str, str, str]], threshold: float) -> dict[str, str]:
    """Connected components of the pairs at or above `threshold`, after the analysts' decisions:
    'same' adds the pair, 'different' removes it. Written by hand (union-find) because Splink's
    clustering takes no must-link or cannot-link decisions; a 'different' pair can still end up in
    one cluster through other records, which the discrepancy report then shows."""
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    different = {tuple(sorted((a, b))) for a, b, d in decisions if d == "different"}
    same = [(a, b) for a, b, d in decisions if d == "same"]
    left = pairs.column("unique_id_l").to_pylist()
    right = pairs.column("unique_id_r").to_pylist()
    prob = pairs.column("match_probability").to_pylist()
    edges = [(a, b) for a, b, p in zip(left, right, prob, strict=True) if p >= threshold and tuple(sorted((a, b))) not in different]
    for a, b in [*edges, *same]:
        if a in parent and b in parent:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in ids}


def dedupe_records(
    table: pa.Table,
    *,
    max_pairs: float = 2e6,
    seed: int = 2026,
    threshold: float = MATCH_THRESHOLD,
    blocks: tuple[tuple[str, ...], ...] | None = None,
) -> LinkResult:
    """Segura's model, trained afresh, on one table of records from a single source (Splink's
    `dedupe_only`: `link_and_dedupe` needs two tables or more), clustered as connected components at
    `threshold`. For data from outside a workspace, such as the public linkage benchmarks; build the
    table with prepare.linkage_table. `blocks` replaces the model's prediction blocking keys, for data
    that lacks the columns they use."""

    from splink import DuckDBAPI, Linker, block_on

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    db_api = DuckDBAPI(connection=con)
    model = dataclasses.replace(settings(), link_type="dedupe_only")
    if blocks is not None:
        model = dataclasses.replace(model, blocking_rules_to_generate_predictions=[block_on(*cols) for cols in blocks])
    linker = Linker(db_api.register(table), model, log_level=logging.WARNING)
    train(linker, max_pairs=max_pairs, seed=seed)
    preds = linker.inference.predict(threshold_match_probability=KEEP_PAIRS_ABOVE)
    pairs = _arrow(preds.as_duckdbpyrelation().select("unique_id_l, unique_id_r, match_probability"))
    clusters = cluster(table.column("unique_id").to_pylist(), pairs, [], threshold)
    return LinkResult(clusters=clusters, pairs=pairs, trained=True, model_json=linker.misc.save_model_to_json())
