"""Benchmark: Local Moran and Gi* for Mexico's 2,457 municipalities, 999 permutations, Segura
against esda side by side in one run.

Data: the municipal boundaries of ../shared/data/mx (2,457 polygons, INEGI via diegovalle's
new.crimenmexico) with the homicides registered in 2015 by municipality of occurrence (INEGI) over
CONAPO's 2015 population, as local empirical Bayes rates per 100,000 (segura.indicators.stats.eb_local),
queen contiguity. Without that folder, a synthetic 50 x 50 grid (2,500 cells, planted blobs) stands
in, and the output says so.

Variants, each in its own process (so that imports, first calls and ru_maxrss are its own), rounds
interleaved:
  segura         segura.territorial.clusters.local_moran + getis_ord_gi_star on the cached weights
                 (each builds its W, runs esda, adds FDR and the labels); esda is imported on first use
  segura-warmed  the same after `warm_up()` at start, as a server would: its import column includes it
  esda           esda.Moran_Local(transformation="r") + esda.G_Local(transform="B", star=True), both
                 with n_jobs=1, keep_simulations=False: the fastest way to call esda on 2 cores
  esda-defaults  the same with esda's defaults (keep_simulations=True; G_Local's n_jobs=-1 runs joblib)

Each process reports the import of the statistics' modules, the first call of the pair (cold) and
`--calls` further calls (warm); the table gives medians over every warm call of every round.

Usage:  .venv/bin/python bench/territorial_clusters.py --rounds 3 --calls 7
Results: printed as Markdown tables and written to bench/out/territorial_clusters.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
WORK = OUT / "territorial_clusters"
MX = Path(__file__).resolve().parents[2] / "shared" / "data" / "mx"
PERMUTATIONS, SEED, YEAR = 999, 12345, 2015


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- data (prepared once by the driver) -----------------------------------------------------------


def territories() -> tuple[object, str]:
    """(GeoDataFrame with `code`, description) of the real municipalities or the synthetic grid."""
    import geopandas as gpd
    from shapely.geometry import box

    shp = MX / "mx_municipios_2457.shp"
    if shp.exists():
        frame = gpd.read_file(shp).rename(columns={"id": "code"})
        return frame, f"Mexico's {len(frame):,} municipalities (../shared/data/mx)"
    cells = [(f"{r:02d}{c:02d}", box(c, r, c + 1, r + 1)) for r in range(50) for c in range(50)]
    frame = gpd.GeoDataFrame({"code": [c for c, _ in cells]}, geometry=[g for _, g in cells], crs="EPSG:4326")
    return frame, "a SYNTHETIC 50 x 50 grid (2,500 cells): ../shared/data/mx is missing"


def prepare() -> dict:
    """Codes and smoothed homicide rates, written to WORK/rates.npz."""
    import pandas as pd

    from segura.indicators.stats import eb_local
    from segura.territorial.weights import build_weights

    frame, described = territories()
    weights = build_weights(frame, "queen", cache_dir=WORK)
    codes = list(weights.ids)
    if (MX / "mx_municipios_2457.shp").exists():
        deaths = pd.read_csv(MX / "inegi_homicidios_mun_ocurrencia_mes_registro_1990_2015_long.csv.gz",
                             dtype={"cve_mun_ocurrencia": str})
        deaths = deaths[deaths["anio_registro"] == YEAR].groupby("cve_mun_ocurrencia")["homicidios"].sum()
        population = pd.read_csv(MX / "conapo_poblacion_municipal_total.csv", dtype={"CVE": str}).set_index("CVE")[str(YEAR)]
        counts = deaths.reindex(codes, fill_value=0).to_numpy(dtype=float)
        pop = population.reindex(codes).to_numpy(dtype=float)
        source = f"INEGI homicides registered in {YEAR} (municipality of occurrence) / CONAPO {YEAR} population"
    else:
        rng = np.random.default_rng(7)
        pop = rng.integers(2_000, 200_000, size=len(codes)).astype(float)
        rc = np.array([(int(c[:2]), int(c[2:])) for c in codes])
        risk = 1 + 3 * np.exp(-((rc - [12, 30]) ** 2).sum(1) / 40) + 2 * np.exp(-((rc - [38, 10]) ** 2).sum(1) / 20)
        counts = rng.poisson(pop * 2e-4 * risk).astype(float)
        source = "synthetic counts (two planted high-risk blobs)"
    rates = eb_local(counts, pop, weights.to_w()) * 1e5
    WORK.mkdir(parents=True, exist_ok=True)
    np.savez(WORK / "rates.npz", codes=np.array(codes, dtype=str), rates=rates)
    return {"territories": described, "values": f"local EB rates per 100,000: {source}", "units": len(codes),
            "links": int(weights.matrix.nnz), "islands": len(weights.islands), "total_events": float(counts.sum())}


# -- variants (run in a child process) ------------------------------------------------------------


def run_segura(calls: int, warmed: bool = False) -> dict:
    saved = np.load(WORK / "rates.npz")
    codes, y = [str(c) for c in saved["codes"]], saved["rates"]
    t = time.perf_counter()
    from segura.territorial.clusters import getis_ord_gi_star, local_moran, warm_up
    from segura.territorial.weights import build_weights

    if warmed:
        warm_up()  # what a server does when it starts: esda imported, both statistics run once
    imported = time.perf_counter() - t
    frame, _ = territories()
    t = time.perf_counter()
    weights = build_weights(frame, "queen", cache_dir=WORK)  # read from the workspace cache
    weights_s = time.perf_counter() - t
    assert list(weights.ids) == codes

    def pair() -> tuple[float, float, dict]:
        t0 = time.perf_counter()
        moran = local_moran(y, weights, permutations=PERMUTATIONS, seed=SEED)
        t1 = time.perf_counter()
        gi = getis_ord_gi_star(y, weights, permutations=PERMUTATIONS, seed=SEED)
        t2 = time.perf_counter()
        raw = {"moran_raw": moran.frame.loc[moran.frame["p_sim"] <= 0.05, "quadrant"].value_counts().to_dict(),
               "moran_fdr": moran.counts(), "gi_fdr": gi.counts()}
        return t1 - t0, t2 - t1, raw

    return _timed(pair, calls, imported, weights_s)


def run_esda(calls: int, defaults: bool = False) -> dict:
    saved = np.load(WORK / "rates.npz")
    codes, y = [str(c) for c in saved["codes"]], saved["rates"]
    t = time.perf_counter()
    import esda
    from libpysal.weights import Queen

    imported = time.perf_counter() - t
    frame, _ = territories()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(frame, ids=list(frame["code"]), use_index=False)
    weights_s = time.perf_counter() - t
    order = [w.id_order.index(c) for c in codes]
    assert order == list(range(len(codes)))
    options = {} if defaults else {"keep_simulations": False, "n_jobs": 1}

    def pair() -> tuple[float, float, dict]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            lm = esda.Moran_Local(y, w, transformation="r", permutations=PERMUTATIONS, seed=SEED, **options)
            t1 = time.perf_counter()
            g = esda.G_Local(y, w, transform="B", star=True, permutations=PERMUTATIONS, seed=SEED, **options)
            t2 = time.perf_counter()
        names = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
        raw = {"moran_raw": {names[q]: int(((lm.q == q) & (lm.p_sim <= 0.05)).sum()) for q in names},
               "gi_raw_hot": int(((g.Zs > 0) & (g.p_sim <= 0.05)).sum())}
        return t1 - t0, t2 - t1, raw

    return _timed(pair, calls, imported, weights_s)


def _timed(pair, calls: int, imported: float, weights_s: float) -> dict:  # type: ignore[no-untyped-def]
    first_moran, first_gi, found = pair()
    warm = [pair()[:2] for _ in range(calls)]
    return {"import_s": imported, "weights_s": weights_s, "first_s": first_moran + first_gi,
            "first_moran_s": first_moran, "first_gi_s": first_gi,
            "warm_moran_s": [m for m, _ in warm], "warm_gi_s": [g for _, g in warm],
            "warm_pair_s": [m + g for m, g in warm], "found": found, "peak_mb": peak_mb()}


VARIANTS = {"segura": run_segura, "segura-warmed": lambda calls: run_segura(calls, warmed=True), "esda": run_esda,
            "esda-defaults": lambda calls: run_esda(calls, defaults=True)}


# -- driver ---------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="processes per variant, interleaved")
    ap.add_argument("--calls", type=int, default=7, help="warm calls per process, after the first")
    ap.add_argument("--child", choices=VARIANTS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(VARIANTS[args.child](args.calls)))
        return
    data = prepare()
    data["load_before"] = os.getloadavg()
    print(f"{data['units']:,} units ({data['territories']}), {data['links']:,} queen links, "
          f"{data['islands']} islands; {data['values']}", file=sys.stderr)
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for r in range(args.rounds):
        plan = list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))
        for variant in plan:
            proc = subprocess.run([sys.executable, __file__, "--child", variant, "--calls", str(args.calls)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"{variant} failed")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            runs[variant].append(result)
            print(f"round {r + 1} {variant:14s} import {result['import_s']:.2f} s, first {result['first_s']:.3f} s, "
                  f"warm pair {statistics.median(result['warm_pair_s']):.3f} s", file=sys.stderr)
    summary = {}
    for v, rs in runs.items():
        pooled = {k: [x for r in rs for x in r[k]] for k in ("warm_moran_s", "warm_gi_s", "warm_pair_s")}
        summary[v] = {
            "processes": len(rs), "warm_calls": len(pooled["warm_pair_s"]),
            "moran_ms": 1e3 * statistics.median(pooled["warm_moran_s"]),
            "gi_ms": 1e3 * statistics.median(pooled["warm_gi_s"]),
            "pair_ms": 1e3 * statistics.median(pooled["warm_pair_s"]),
            "pair_min_ms": 1e3 * min(pooled["warm_pair_s"]), "pair_max_ms": 1e3 * max(pooled["warm_pair_s"]),
            "import_s": statistics.median(r["import_s"] for r in rs),
            "first_ms": 1e3 * statistics.median(r["first_s"] for r in rs),
            "weights_s": statistics.median(r["weights_s"] for r in rs),
            "peak_mb": max(r["peak_mb"] for r in rs), "found": rs[-1]["found"],
        }
    base = summary["esda"]["pair_ms"]
    print("\n| variant | processes x warm calls | Local Moran ms | Gi* ms | both ms (min-max) | vs esda | "
          "import s | first call ms | peak MB |\n|---|---|---|---|---|---|---|---|---|")
    for v, s in summary.items():
        print(f"| {v} | {s['processes']} x {s['warm_calls'] // s['processes']} | {s['moran_ms']:.0f} | {s['gi_ms']:.0f} | "
              f"{s['pair_ms']:.0f} ({s['pair_min_ms']:.0f}-{s['pair_max_ms']:.0f}) | {s['pair_ms'] / base:.2f}x | "
              f"{s['import_s']:.2f} | {s['first_ms']:.0f} | {s['peak_mb']:,.0f} |")
    print(f"\nweights: segura reads them from the cache in {summary['segura']['weights_s']:.3f} s; "
          f"libpysal's Queen.from_dataframe builds them in {summary['esda']['weights_s']:.3f} s")
    for v, s in summary.items():
        print(f"{v}: {json.dumps(s['found'])}")
    data["load_after"] = os.getloadavg()
    print(f"load average (1, 5, 15 min) before {data['load_before']}, after {data['load_after']}")
    OUT.mkdir(exist_ok=True)
    (OUT / "territorial_clusters.json").write_text(json.dumps({"data": data, "summary": summary, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
