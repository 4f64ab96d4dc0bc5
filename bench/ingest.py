"""Benchmark: ingest a large police extract, side by side, in one run.

Variants, each in its own process so that peak memory (ru_maxrss) is its own:
  floor   DuckDB's read_csv of the same file into a table of a database file, no validation
  segura  `Workspace.ingest` with the sample's police mapping: every rule, quarantine, load report
  pandas  pandas.read_csv plus a pandera schema with the same rules, what a user would write by hand

Usage:  .venv/bin/python bench/ingest.py --rows 5000000 --repeat 3
Results: printed as a Markdown table and written to bench/out/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- variants (run in a child process) ------------------------------------------------------------


def run_floor(file: Path, work: Path) -> dict:
    import duckdb

    db = work / "floor.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db), config={"threads": 2, "memory_limit": "1GB"})
    con.execute("SET enable_progress_bar = false")
    t = time.perf_counter()
    con.execute("CREATE TABLE x AS SELECT * FROM read_csv(?, delim = ';', header = true, all_varchar = true, encoding = 'latin-1')", [str(file)])
    con.close()
    return {"seconds": time.perf_counter() - t, "rows_loaded": None}


def run_segura(file: Path, work: Path) -> dict:
    from segura import Workspace
    from segura.ingest.population import import_population
    from segura.ingest.territory import import_territories
    from segura.sample import mapping_path, packaged_path

    ws_dir = work / "ws"
    shutil.rmtree(ws_dir, ignore_errors=True)
    ws = Workspace.init(ws_dir, country="MX")
    shutil.copy(mapping_path("police"), ws.sources_dir / "police.yaml")
    with ws.warehouse() as wh:
        import_territories(wh, packaged_path("territory.geojson"), ws.settings)
        import_population(wh, packaged_path("population.csv"), source="CONAPO")
    t = time.perf_counter()
    report = ws.ingest("police", file)
    seconds = time.perf_counter() - t
    assert report.adds_up, report
    return {"seconds": seconds, "rows_read": report.rows_read, "rows_loaded": report.rows_loaded, "rows_quarantined": report.rows_quarantined}


def run_pandas(file: Path, work: Path) -> dict:
    """What an analyst would write by hand: read everything as text, derive typed columns, validate."""
    import datetime as dt

    import pandas as pd
    import pandera.pandas as pa
    import yaml

    from segura.model.codes import codelist
    from segura.model.names import fold
    from segura.sample import mapping_path, packaged_path

    m = yaml.safe_load(mapping_path("police").read_text(encoding="utf-8"))
    terr = json.loads(packaged_path("territory.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in terr["features"]]
    state_name = {p["code"]: p["name"] for p in props if p["level"] == "admin1"}
    by_name = {(fold(state_name[p["parent_code"]]), fold(p["name"])): p["code"] for p in props if p["level"] == "admin2"}
    aliases = {fold(k): v for k, v in m["territory"]["aliases"].items()}
    t = time.perf_counter()
    df = pd.read_csv(file, sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    df = df.apply(lambda s: s.str.strip())
    out = pd.DataFrame(index=df.index)
    out["record_id"] = df["FOLIO"].replace("", None)
    out["occurred_date"] = pd.to_datetime(df["FECHA_HECHO"], format="%d/%m/%Y", errors="coerce")
    out["reported_date"] = pd.to_datetime(df["FECHA_REGISTRO"].replace("", None), format="%d/%m/%Y", errors="coerce")
    out["occurred_time"] = pd.to_datetime(df["HORA_HECHO"].replace("", None), format="%H:%M", errors="coerce")
    out["age"] = pd.to_numeric(df["EDAD"].replace("", None), errors="coerce")
    out["latitude"] = pd.to_numeric(df["LATITUD"].str.replace(",", ".").replace("", None), errors="coerce")
    out["longitude"] = pd.to_numeric(df["LONGITUD"].str.replace(",", ".").replace("", None), errors="coerce")
    for col, field in (("SEXO", "sex"), ("ARMA", "weapon"), ("RELACION_AGRESOR", "relationship")):
        lookup = {k.casefold(): k for k in codelist(field)} | {str(k).casefold(): v for k, v in m["values"][field].items()}
        out[field] = df[col].str.casefold().map(lookup)
        out[field + "_raw"] = df[col].replace("", None)
    out["iccs"] = df["DELITO"].str.casefold().map({k.casefold(): v for k, v in m["codes"].items()})
    keys = [(fold(s), fold(n)) for s, n in zip(df["ENTIDAD"], df["MUNICIPIO"], strict=True)]
    out["territory"] = [aliases.get(k[1]) or by_name.get(k) for k in keys]
    for name_col in ("NOMBRE", "APELLIDO_PATERNO", "APELLIDO_MATERNO"):
        out[name_col] = df[name_col]
    today = pd.Timestamp(dt.date.today())
    text_ok = pa.Check(lambda s: s.str.len() <= 300, element_wise=False)
    schema = pa.DataFrameSchema(
        {
            "record_id": pa.Column(str, nullable=False, unique=True),
            "occurred_date": pa.Column("datetime64[ns]", [pa.Check.le(today), pa.Check.ge(pd.Timestamp("1900-01-01"))], nullable=False),
            "reported_date": pa.Column("datetime64[ns]", [pa.Check.le(today), pa.Check.ge(pd.Timestamp("1900-01-01"))], nullable=True),
            "age": pa.Column(float, pa.Check.in_range(0, 120), nullable=True),
            "latitude": pa.Column(float, pa.Check.in_range(-90, 90), nullable=True),
            "longitude": pa.Column(float, pa.Check.in_range(-180, 180), nullable=True),
            "iccs": pa.Column(str, nullable=False),
            "territory": pa.Column(str, nullable=False),
            "NOMBRE": pa.Column(str, text_ok),
            "APELLIDO_PATERNO": pa.Column(str, text_ok),
            "APELLIDO_MATERNO": pa.Column(str, text_ok),
        },
        checks=[
            pa.Check(lambda d: d["sex"].notna() | d["sex_raw"].isna(), name="sex in list"),
            pa.Check(lambda d: d["weapon"].notna() | d["weapon_raw"].isna(), name="weapon in list"),
            pa.Check(lambda d: d["relationship"].notna() | d["relationship_raw"].isna(), name="relationship in list"),
        ],
    )
    try:
        schema.validate(out, lazy=True)
        bad = 0
    except pa.errors.SchemaErrors as e:
        cases = e.failure_cases
        bad = int(cases["index"].dropna().nunique())
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "rows_read": len(df), "rows_loaded": len(df) - bad, "rows_quarantined": bad}


VARIANTS = {"floor": run_floor, "segura": run_segura, "pandas": run_pandas}


def child(variant: str, file: Path, work: Path) -> None:
    result = VARIANTS[variant](file, work)
    result["peak_mb"] = peak_mb()
    print(json.dumps(result))


# -- driver ---------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of floor and segura (interleaved)")
    ap.add_argument("--pandas-repeat", type=int, default=1)
    ap.add_argument("--child", choices=VARIANTS)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.file, args.work)
        return
    OUT.mkdir(exist_ok=True)
    file = OUT / f"police_{args.rows}.csv"
    if not file.exists():
        from segura.sample import write_police_csv

        t = time.perf_counter()
        write_police_csv(file, args.rows, seed=7)
        print(f"generated {file.name} ({file.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    plan = ["floor", "segura"] * args.repeat + ["pandas"] * args.pandas_repeat
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for variant in plan:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", variant, "--file", str(file), "--work", str(OUT)],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            raise SystemExit(f"{variant} failed")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        runs[variant].append(result)
        print(f"{variant:7s} {result['seconds']:7.1f} s  peak {result['peak_mb']:7.0f} MB", file=sys.stderr)
    summary = {}
    for v, rs in runs.items():
        if not rs:
            continue
        med = statistics.median(r["seconds"] for r in rs)
        summary[v] = {"runs": len(rs), "median_s": med, "rows_per_s": args.rows / med, "peak_mb": max(r["peak_mb"] for r in rs), **{k: rs[-1].get(k) for k in ("rows_loaded", "rows_quarantined")}}
    floor, seg = summary["floor"]["median_s"], summary["segura"]["median_s"]
    pandas = summary.get("pandas", {}).get("median_s")
    print("\n| variant | runs | median s | rows/s | peak MB | vs floor |\n|---|---|---|---|---|---|")
    for v, s in summary.items():
        print(f"| {v} | {s['runs']} | {s['median_s']:.1f} | {s['rows_per_s']:,.0f} | {s['peak_mb']:,.0f} | {s['median_s'] / floor:.2f}x |")
    print(f"\nsegura / floor = {seg / floor:.2f} (goal <= 2); pandas+pandera / segura = {pandas / seg:.1f}x (goal >= 5)" if pandas else f"\nsegura / floor = {seg / floor:.2f}")
    (OUT / "ingest.json").write_text(json.dumps({"rows": args.rows, "file_mb": file.stat().st_size / 1e6, "summary": summary, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
