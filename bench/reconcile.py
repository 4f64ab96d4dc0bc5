"""Benchmark: reconcile three institutions of about 100,000 victim records each, side by side, in one run.

The workspace is the sample observatory drawn at `--scale` (41 gives 93,208 police, 107,259 forensic
and 99,479 prosecutor records: 299,946 in all, about 100,000 per institution), loaded once with the
demo's settings and cached in bench/out/ (this setup is not timed). Variants, each in its own process
so that peak memory (ru_maxrss) is its own:

  segura       `Workspace.reconcile(retrain=True)`: linkage input from the warehouse, training,
               prediction, one-to-one clustering, and the link, link_pair and victim tables written
  splink-docs  the script a user would write from Splink 5's README ("Getting started") on the same
               records exported from the warehouse as one flat table with the raw name columns
               (lower-cased and trimmed; no other cleaning): DuckDBAPI, SettingsCreator, block_on,
               NameComparison / ExactMatch / date comparisons, estimate_u_using_random_sampling, EM,
               predict, cluster_pairwise_predictions_at_threshold(0.95). The README blocks on first
               name alone and on surname alone: here that is 1.08 billion pairs, so the script blocks
               on pairs of columns, as Splink's blocking tutorial advises

Both are scored against the generator's truth (truth/victims.csv) with segura.reconcile.evaluate, in
the parent process (so evaluation is neither timed nor counted in a variant's peak memory).

Usage:  .venv/bin/python bench/reconcile.py --scale 41 --repeat 3
        .venv/bin/python bench/reconcile.py --profile      (where Segura's time goes, one run)
        .venv/bin/python bench/reconcile.py --public --repeat 1   (Segura's linker on fake_1000 and
                                                                 historical_figures_with_errors_50k)
Results: printed as Markdown tables and written to bench/out/reconcile.json, reconcile_profile.json
and reconcile_public.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- setup (not timed) ----------------------------------------------------------------------------

FLAT_QUERY = """
    SELECT p.person_id AS unique_id, p.source_id AS source,
           nullif(lower(trim(i.given_names)), '') AS first_name,
           nullif(lower(trim(i.first_surname)), '') AS surname_1,
           nullif(lower(trim(i.second_surname)), '') AS surname_2,
           p.sex, p.age, coalesce(e.occurred_date, e.reported_date) AS event_date,
           e.territory_code AS municipality
    FROM person_current p
    JOIN event_current e ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id
    LEFT JOIN person_identity i ON i.load_id = p.load_id AND i.person_id = p.person_id
    WHERE p.role = 'victim'
    ORDER BY p.person_id
"""


def prepare(scale: float, seed: int) -> Path:
    """The loaded workspace and the flat export for the splink-docs variant, built once per scale and seed."""
    from segura import Workspace
    from segura.ingest.population import import_population
    from segura.ingest.territory import import_territories
    from segura.pipeline import DEMO_EXTRACTS, DEMO_SETTINGS
    from segura.sample import generate_sample, packaged_path

    root = OUT / f"reconcile_s{scale:g}_seed{seed}"
    done = root / "READY"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    t = time.perf_counter()
    ws = Workspace.init(root, name="Benchmark observatory", country="MX", settings=DEMO_SETTINGS)
    summary = generate_sample(ws.root, seed=seed, scale=scale)
    with ws.warehouse() as wh:
        import_territories(wh, packaged_path("territory.geojson"), ws.settings)
        import_population(wh, packaged_path("population.csv"), source="CONAPO")
    for source, name in DEMO_EXTRACTS:
        report = ws.ingest(source, ws.root / "inbox" / name)
        assert report.adds_up, report
    with ws.warehouse() as wh:
        wh.con.execute(f"COPY ({FLAT_QUERY}) TO '{root / 'flat.parquet'}' (FORMAT parquet)")  # noqa: S608 (our own path)
        n = wh.con.execute(f"SELECT count(*) FROM '{root / 'flat.parquet'}'").fetchone()[0]  # noqa: S608
    done.write_text(json.dumps({"records": summary.records, "victims": summary.victims, "linkage_records": n}), encoding="utf-8")
    print(f"workspace at scale {scale:g}: {summary.records} ({n:,} victim records loaded) in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return root


# -- variants (run in a child process) ------------------------------------------------------------


def run_segura(root: Path) -> dict:
    from segura import Workspace

    ws = Workspace.open(root)
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        result = ws.reconcile(retrain=True)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "records": result.records, "clusters": result.victims, "pairs": result.pairs}


def run_splink_docs(root: Path) -> dict:
    """Splink 5's README example, with this data's columns and blocking rules that stay within
    memory on 300,000 records (block on a single common name alone would make billions of pairs)."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t = time.perf_counter()
    db_api = DuckDBAPI()
    df = duckdb.read_parquet(str(root / "flat.parquet")).arrow()
    df = df.read_all() if hasattr(df, "read_all") else df
    df_sdf = db_api.register(df, dataset_display_name="victims")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname_1"),
            cl.NameComparison("surname_2"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("age"),
            cl.AbsoluteDateDifferenceAtThresholds("event_date", input_is_string=False, metrics=["day", "day", "day"], thresholds=[1, 7, 30]),
            cl.ExactMatch("municipality").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname_1"),
            block_on("surname_1", "surname_2"),
            block_on("municipality", "event_date"),
        ],
    )
    linker = Linker(df_sdf, settings)
    linker.training.estimate_probability_two_random_records_match([block_on("first_name", "surname_1", "surname_2")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname_1"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("municipality", "event_date"))
    pairwise_predictions = linker.inference.predict(threshold_match_weight=-10)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairwise_predictions, 0.95)
    rel = clusters.as_duckdbpyrelation().select("unique_id, cluster_id")
    rel.write_parquet(str(root / "splink_docs_clusters.parquet"))
    seconds = time.perf_counter() - t
    n_clusters = rel.aggregate("count(DISTINCT cluster_id)").fetchone()[0]
    return {"seconds": seconds, "records": df.num_rows, "clusters": n_clusters, "pairs": pairwise_predictions.as_duckdbpyrelation().count("*").fetchone()[0]}


VARIANTS = {"segura": run_segura, "splink-docs": run_splink_docs}


# -- profile: where Segura's time goes --------------------------------------------------------------


class _TimedConnection:
    """A DuckDB connection that records how long each `execute` takes (first line of the SQL)."""

    def __init__(self, con: object) -> None:
        self._con = con
        self.times: list[tuple[str, float]] = []

    def execute(self, sql: str, *args: object) -> object:
        t = time.perf_counter()
        out = self._con.execute(sql, *args)  # type: ignore[attr-defined]
        self.times.append((" ".join(sql.split())[:90], time.perf_counter() - t))
        return out

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def run_profile(root: Path) -> dict:
    """`reconcile(retrain=True)` as it is, with its steps wrapped in timers: the warehouse statements,
    linkage_input, the blocking check, the Splink linker, each training call, predict, clustering,
    with the process's peak memory after each. Then the pairs each prediction blocking rule makes."""
    import logging

    from splink.internals.linker_components.inference import LinkerInference
    from splink.internals.linker_components.training import LinkerTraining

    from segura import Workspace
    from segura.reconcile import link, model, run
    from segura.store import Warehouse

    logging.getLogger("splink").setLevel(logging.WARNING)
    steps: list[dict] = []
    depth = [0]
    returned: dict[str, object] = {}

    def timed(owner: object, name: str, label: object = None) -> None:
        inner = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            what = label(args, kwargs) if callable(label) else (label or name)
            depth[0] += 1
            t0 = time.perf_counter()
            try:
                returned[name] = out = inner(*args, **kwargs)
                return out
            finally:
                depth[0] -= 1
                steps.append({"step": what, "depth": depth[0], "seconds": time.perf_counter() - t0, "peak_mb_after": peak_mb()})

        setattr(owner, name, wrapper)

    timed(run, "linkage_input", "linkage_input (warehouse -> name keys, neighbours)")
    timed(run, "blocking_sizes", "blocking_sizes (pairs per rule, sampled)")
    timed(run, "run_linkage")
    timed(link, "_linker", "Linker (one table per institution)")
    timed(link, "train", "train")
    timed(LinkerTraining, "estimate_probability_two_random_records_match", "train: probability two random records match")
    timed(LinkerTraining, "estimate_u_using_random_sampling", "train: u by random sampling")
    timed(LinkerTraining, "estimate_parameters_using_expectation_maximisation",
          lambda a, k: "train: EM on " + ", ".join(re.findall(r'l\."(\w+)"', a[1].get_blocking_rule("duckdb").blocking_rule_sql)))
    timed(LinkerInference, "predict", "predict (all prediction blocking rules)")
    timed(link, "_single_best_links", "cluster: one-to-one (single best links)")
    timed(link, "cluster", "cluster: connected components")
    timed(run, "_write_victims", "write victim")
    ws = Workspace.open(root)
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), ws.warehouse() as wh:
        con = _TimedConnection(wh.con)
        result = run.reconcile(Warehouse(con=con, path=wh.path), ws.settings, root=ws.root, retrain=True)  # type: ignore[arg-type]
    total = time.perf_counter() - t
    print(f"reconcile(retrain=True): {total:.1f} s, peak {peak_mb():,.0f} MB, {result.pairs:,} pairs kept", file=sys.stderr)
    for s in sorted(steps, key=lambda s: s["step"] == "run_linkage"):
        print(f"  {'  ' * s['depth']}{s['step']:60s} {s['seconds']:7.1f} s  peak {s['peak_mb_after']:7.0f} MB", file=sys.stderr)
    statements = sorted(con.times, key=lambda x: -x[1])[:6]
    for sql, seconds in statements:
        print(f"  sql {seconds:7.1f} s  {sql}", file=sys.stderr)
    import duckdb

    scratch = duckdb.connect()
    scratch.register("_input", returned["linkage_input"])
    rules = []
    for cols in model.PREDICTION_BLOCKS:  # pairs in each rule's blocks (before Splink drops pairs an earlier rule made)
        names = ", ".join(cols)
        not_null = " AND ".join(f"{c} IS NOT NULL" for c in cols)
        n = scratch.execute(f"SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM _input WHERE {not_null} GROUP BY {names})").fetchone()[0]  # noqa: S608
        rules.append({"rule": names, "pairs": int(n)})
        print(f"  block on {names:45s} {int(n):>14,} pairs", file=sys.stderr)
    return {"seconds": total, "steps": steps, "statements": statements, "blocks": rules}


VARIANTS["profile"] = run_profile


# -- the public linkage benchmarks: Segura's linker on generic data --------------------------------

FAKE_1000 = SHARED / "linkage" / "fake_1000.csv"
HISTORICAL = SHARED / "linkage" / "historical_figures_with_errors_50k.parquet"
# Segura's prediction keys that this data can feed are few (no age, no document, no parent
# territory); the adaptation keeps every comparison and the training and blocks on pairs of the
# identifying columns instead (single columns, as for fake_1000, would make too many pairs at 50k).
HISTORICAL_BLOCKS = (("given_1", "surname_1"), ("surname_1", "event_date"), ("given_1", "event_date"), ("territory_code", "event_date"))


def fake_1000() -> tuple[list[dict], dict[str, str], tuple[tuple[str, ...], ...]]:
    """fake_1000's records, truth and adapted blocking keys, as the accuracy test maps them (one definition)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.reconcile.test_linkage_accuracy import EACH_COLUMN_ALONE, fake_1000_records

    records, truth = fake_1000_records()
    return records, truth, EACH_COLUMN_ALONE


def historical() -> tuple[list[dict], dict[str, str], tuple[tuple[str, ...], ...]]:
    """first_name -> given names, surname -> first surname, dob -> the date (impossible dates such as
    1856-86-18 become null, as ingest would reject them), gender -> sex, birth_place -> the
    municipality; full_name, postcode and occupation unused. Truth: record -> `cluster`."""
    import datetime as dt

    import pyarrow.parquet as pq

    table = pq.read_table(HISTORICAL, columns=["unique_id", "cluster", "first_name", "surname", "dob", "gender", "birth_place"])
    records, truth = [], {}
    for row in table.to_pylist():
        try:
            dob = dt.date.fromisoformat(row["dob"]) if row["dob"] else None
        except ValueError:
            dob = None
        records.append({
            "unique_id": row["unique_id"], "source": "historical", "given_names": row["first_name"], "first_surname": row["surname"],
            "event_date": dob, "sex": {"male": "M", "female": "F"}.get(row["gender"] or ""), "territory_code": row["birth_place"],
        })
        truth[row["unique_id"]] = row["cluster"]
    return records, truth, HISTORICAL_BLOCKS


PUBLIC = {"fake-1000": fake_1000, "historical": historical}


def _write_clusters(variant: str, clusters: dict[str, str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = list(clusters)
    pq.write_table(pa.table({"unique_id": ids, "cluster_id": [clusters[i] for i in ids]}), OUT / f"{variant.replace('-', '_')}_clusters.parquet")


def run_public(variant: str) -> dict:
    """`<data set>-model`: Segura's model as it is; `<data set>-adapted`: with blocking keys the data can feed."""
    from segura.reconcile.link import dedupe_records
    from segura.reconcile.prepare import linkage_table
    from segura.settings import Settings

    dataset, _, how = variant.rpartition("-")
    records, _, blocks = PUBLIC[dataset]()
    t = time.perf_counter()
    result = dedupe_records(
        linkage_table(records), threshold=float(Settings()["reconcile.threshold"]), blocks=blocks if how == "adapted" else None
    )
    seconds = time.perf_counter() - t
    _write_clusters(variant, result.clusters)
    return {"seconds": seconds, "records": len(result.clusters), "clusters": len(set(result.clusters.values())), "pairs": result.pairs.num_rows}


def run_fake_1000_splink_readme(_root: Path) -> dict:
    """Splink 5's README example, as printed there, on fake_1000 (the data set it was written for)."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    t = time.perf_counter()
    db_api = DuckDBAPI()
    df = duckdb.sql(f"SELECT * EXCLUDE (cluster) FROM read_csv('{FAKE_1000}', all_varchar = true)").arrow()  # noqa: S608 (our own path)
    df = df.read_all() if hasattr(df, "read_all") else df
    df_sdf = db_api.register(df, dataset_display_name="fake_1000")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.9, 0.7]),
            cl.JaroAtThresholds("surname", [0.9, 0.7]),
            cl.DateOfBirthComparison("dob", input_is_string=True, datetime_metrics=["year", "month"], datetime_thresholds=[1, 1]),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
        ],
        blocking_rules_to_generate_predictions=[block_on("first_name"), block_on("surname")],
    )
    linker = Linker(df_sdf, settings)
    linker.training.estimate_probability_two_random_records_match([block_on("first_name", "surname")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    pairwise_predictions = linker.inference.predict(threshold_match_weight=-10)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairwise_predictions, 0.95)
    found = {str(u): str(c) for u, c in clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall()}
    seconds = time.perf_counter() - t
    _write_clusters("fake-1000-splink-readme", found)
    return {"seconds": seconds, "records": len(found), "clusters": len(set(found.values())), "pairs": None}


for _dataset in PUBLIC:
    for _how in ("model", "adapted"):
        VARIANTS[f"{_dataset}-{_how}"] = lambda _root, v=f"{_dataset}-{_how}": run_public(v)
VARIANTS["fake-1000-splink-readme"] = run_fake_1000_splink_readme


def child(variant: str, root: Path) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    with contextlib.redirect_stdout(sys.stderr):  # Splink prints progress; stdout carries only the result
        result = VARIANTS[variant](root)
    result["peak_mb"] = peak_mb()
    print(json.dumps(result))


def predicted_clusters(variant: str, root: Path) -> dict[str, str]:
    import duckdb

    if variant == "segura":
        con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
        rows = con.execute("SELECT person_id, cluster_id FROM link").fetchall()
        con.close()
    else:
        file = root / "splink_docs_clusters.parquet" if variant == "splink-docs" else OUT / f"{variant.replace('-', '_')}_clusters.parquet"
        rows = duckdb.sql(f"SELECT unique_id, cluster_id FROM '{file}'").fetchall()  # noqa: S608 (our own path)
    return {str(a): str(b) for a, b in rows}


# -- driver ---------------------------------------------------------------------------------------


def machine() -> dict:
    """What the figures were measured on, and which version of the linkage code."""
    import hashlib
    import platform

    import duckdb
    import psutil
    import splink

    src = Path(__file__).resolve().parents[1] / "src" / "segura" / "reconcile"
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=src).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", str(src)], capture_output=True, text=True, check=False, cwd=src).stdout.split()
    return {
        "cores": psutil.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30), "python": platform.python_version(),
        "duckdb": duckdb.__version__, "splink": splink.__version__, "git_head": head, "reconcile_changed_since_head": dirty[1::2],
        "sha256": {f.name: hashlib.sha256(f.read_bytes()).hexdigest()[:12] for f in sorted(src.glob("*.py"))},
    }


def run_variants(variants: list[str], repeat: int, root: Path, truth: dict[str, str]) -> dict[str, list[dict]]:
    """Each variant `repeat` times, interleaved, each run in its own process; scored here."""
    from segura.reconcile.evaluate import evaluate

    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(repeat):
        for variant in variants:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--root", str(root)], capture_output=True, text=True, check=False
            )
            if proc.returncode != 0:
                print(proc.stderr[-5000:], file=sys.stderr)
                raise SystemExit(f"{variant} failed")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            ev = evaluate(predicted_clusters(variant, root), truth)
            result["evaluation"] = ev.to_dict()
            runs[variant].append(result)
            print(
                f"{variant:18s} {result['seconds']:7.1f} s  peak {result['peak_mb']:7.0f} MB  "
                f"pairwise P {ev.pairwise.precision:.4f} R {ev.pairwise.recall:.4f} F1 {ev.pairwise.f1:.4f}  "
                f"cluster P {ev.cluster.precision:.4f} R {ev.cluster.recall:.4f} F1 {ev.cluster.f1:.4f}",
                file=sys.stderr,
            )
    return runs


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    summary = {}
    for v, rs in runs.items():
        ev = rs[-1]["evaluation"]  # the same in every run (fixed seeds); checked in the README
        summary[v] = {
            "runs": len(rs), "median_s": statistics.median(r["seconds"] for r in rs), "peak_mb": max(r["peak_mb"] for r in rs),
            "records": rs[-1]["records"], "clusters": rs[-1]["clusters"], "pairwise": ev["pairwise"], "cluster": ev["cluster"],
        }
    base = next(iter(summary.values()))["median_s"]
    first = next(iter(summary))
    print(f"\n| variant | runs | median s | vs {first} | peak MB | pairwise P | pairwise R | pairwise F1 | cluster P | cluster R | cluster F1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for v, s in summary.items():
        pw, cl = s["pairwise"], s["cluster"]
        print(
            f"| {v} | {s['runs']} | {s['median_s']:.1f} | {s['median_s'] / base:.2f}x | {s['peak_mb']:,.0f} | "
            f"{pw['precision']:.4f} | {pw['recall']:.4f} | {pw['f1']:.4f} | {cl['precision']:.4f} | {cl['recall']:.4f} | {cl['f1']:.4f} |"
        )
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=41.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of each variant (interleaved)")
    ap.add_argument("--variants", default="segura,splink-docs")
    ap.add_argument("--profile", action="store_true", help="one run of Segura's steps, each timed (no comparison)")
    ap.add_argument("--public", action="store_true", help="Segura's linker on fake_1000 and historical_figures_with_errors_50k")
    ap.add_argument("--child", choices=VARIANTS)
    ap.add_argument("--root", type=Path)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.root)
        return
    from segura.reconcile.evaluate import read_truth

    OUT.mkdir(exist_ok=True)
    info = machine()
    if args.public:
        if not HISTORICAL.is_file() or not FAKE_1000.is_file():
            raise SystemExit(f"{SHARED / 'linkage'} is not here: the public linkage benchmarks live in ../shared/data next to the project")
        report = {"machine": info}
        for dataset, variants in (("fake-1000", ["fake-1000-model", "fake-1000-adapted", "fake-1000-splink-readme"]),
                                  ("historical", ["historical-model", "historical-adapted"])):
            _, truth, _ = PUBLIC[dataset]()
            runs = run_variants(variants, args.repeat, OUT, truth)
            report[dataset] = {"summary": summarise(runs), "runs": runs}
        (OUT / "reconcile_public.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        return
    root = prepare(args.scale, args.seed)
    setup = json.loads((root / "READY").read_text(encoding="utf-8"))
    if args.profile:
        proc = subprocess.run([sys.executable, __file__, "--child", "profile", "--root", str(root)], stdout=subprocess.PIPE, text=True, check=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        (OUT / "reconcile_profile.json").write_text(json.dumps({"machine": info, "setup": setup, **result}, indent=2), encoding="utf-8")
        return
    truth = read_truth(root / "truth" / "victims.csv")
    runs = run_variants(args.variants.split(","), args.repeat, root, truth)
    summary = summarise(runs)
    (OUT / "reconcile.json").write_text(
        json.dumps({"scale": args.scale, "seed": args.seed, "machine": info, "setup": setup, "summary": summary, "runs": runs}, indent=2),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
