"""Benchmark: the query modeler against pandas pivot_table, side by side in one run.

A warehouse of N generated reconciled victims (default 10 million) over 2,457 municipalities in
32 states and 10 years; the query is victims by municipality x month x sex with rates per
100,000 (the population of each municipality, year and sex), through `segura.indicators`
(Ibis on DuckDB, the allow-list, the complete table with zeros, the population join).
pandas answers the same question with `pivot_table` on an in-memory DataFrame of the same
rows (its load time is not counted) plus a merge with the population. Warm runs: each side
runs once before timing. Medians and their ratio are printed and written as JSON.

    .venv/bin/python bench/query.py --events 10000000 --repeat 7
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from segura.indicators import Query, duckdb_context, load_catalogue
from segura.indicators.query import aggregate
from segura.settings import Settings
from segura.store import open_warehouse

STATES, MUNICIPALITIES, YEARS = 32, 2457, list(range(2015, 2025))


def build(path: Path, events: int) -> Settings:
    settings = Settings()
    wh = open_warehouse(path, settings)
    con = wh.con
    con.execute("INSERT INTO territory (code, name, level, parent_code, name_key) VALUES ('MX', 'México', 'country', NULL, 'mexico')")
    con.execute(f"""INSERT INTO territory (code, name, level, parent_code, name_key)
        SELECT lpad(s::VARCHAR, 2, '0'), 'Estado ' || s, 'admin1', 'MX', 'estado ' || s FROM range(1, {STATES + 1}) t(s)""")
    con.execute(f"""INSERT INTO territory (code, name, level, parent_code, name_key)
        SELECT lpad((1 + m % {STATES})::VARCHAR, 2, '0') || lpad((m // {STATES} + 1)::VARCHAR, 3, '0'),
               'Municipio ' || m, 'admin2', lpad((1 + m % {STATES})::VARCHAR, 2, '0'), 'municipio ' || m
        FROM range({MUNICIPALITIES}) t(m)""")
    con.execute(f"""INSERT INTO population
        SELECT t.code, y, s, '_T', 5000 + hash(t.code || y || s) % 200000, 'bench'
        FROM territory t, range({YEARS[0]}, {YEARS[-1] + 1}) r(y), (VALUES ('F'), ('M'), ('_T')) x(s)
        WHERE t.level = 'admin2'""")
    # one load of one institution covering the ten years (the months indicators report on)
    con.execute("""INSERT INTO load (load_id, source_id, file_name, sha256, status, rows_read, rows_loaded,
        rows_quarantined, rows_with_warnings, started_at, finished_at)
        VALUES (1, 'police', 'bench', 'bench', 'loaded', 0, 0, 0, 0, now(), now())""")
    con.execute(f"""INSERT INTO load_period SELECT 1, 'police', m::DATE
        FROM range(DATE '{YEARS[0]}-01-01', DATE '{YEARS[-1] + 1}-01-01', INTERVAL 1 MONTH) t(m)""")
    con.execute("""INSERT INTO reconcile_run VALUES (1, now(), now(), 0, 0, 0, 0.5, 'bench', false, 0)""")
    con.execute(f"""INSERT INTO victim (run_id, cluster_id, records, sources, sex, age, event_date, territory_code,
                                        iccs_code, weapon, relationship, femicide_legal)
        WITH codes AS (SELECT row_number() OVER () - 1 AS i, code FROM territory WHERE level = 'admin2')
        SELECT 1, 'v' || r, 1, ['police'], CASE WHEN random() < 0.12 THEN 'F' ELSE 'M' END,
               (15 + random() * 60)::INTEGER, DATE '{YEARS[0]}-01-01' + (random() * {len(YEARS) * 365 - 1})::INTEGER,
               c.code, '0101', 'firearm', 'stranger', false
        FROM range({events}) t(r) JOIN codes c ON c.i = (hash(r) % {MUNICIPALITIES})""")
    wh.close()
    return settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path("bench/out/query.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        t0 = time.perf_counter()
        settings = build(path, args.events)
        print(f"built {args.events:,} victims in {time.perf_counter() - t0:.1f} s")
        con = duckdb.connect(str(path), read_only=True)
        con.execute("SET threads = 2")
        ctx = duckdb_context(con, settings)
        indicator = load_catalogue().get("sdg_16_1_1")
        query = Query("sdg_16_1_1", ("territory", "period", "sex"), grain="month")

        def segura_run() -> int:
            frame = aggregate(query, indicator, ctx).frame
            frame["rate"] = frame["numerator"] / frame["denominator"] * 100_000
            return len(frame)

        rows = con.execute("SELECT territory_code, event_date, sex FROM victim").df()
        pop = con.execute("SELECT territory_code, year, sex, population FROM population WHERE sex IN ('F', 'M')").df()

        def pandas_run() -> int:
            frame = rows.assign(month=rows["event_date"].dt.to_period("M"))
            table = frame.pivot_table(index=["territory_code", "month"], columns="sex", values="event_date",
                                      aggfunc="size", fill_value=0)
            long = table.stack().rename("victims").reset_index()
            long["year"] = long["month"].dt.year
            long = long.merge(pop, on=["territory_code", "year", "sex"], how="left")
            long["rate"] = long["victims"] / long["population"] * 100_000
            return len(long)

        results = {}
        for name, fn in (("segura", segura_run), ("pandas_pivot_table", pandas_run)):
            n = fn()  # warm
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            results[name] = {"rows": n, "median_s": statistics.median(times), "times_s": times}
            print(f"{name:20s} rows {n:,}  median {statistics.median(times) * 1000:.0f} ms  "
                  f"min {min(times) * 1000:.0f} ms")
        ratio = results["pandas_pivot_table"]["median_s"] / results["segura"]["median_s"]
        print(f"pandas / segura (median): {ratio:.1f}x")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"events": args.events, "repeat": args.repeat, **results, "ratio": ratio}, indent=1))


if __name__ == "__main__":
    main()
