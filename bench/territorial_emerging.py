"""Benchmark: emerging hot spots for Mexico's 2,457 municipalities x 120 months (issue 6).

Weights: queen contiguity of the real municipal boundaries (`mx_municipios_2457.shp` in
../shared/data/mx, INEGI Marco Geoestadístico via diegovalle/new.crimenmexico), built once with
libpysal's `Queen.from_dataframe` (not timed; its time is printed). Values: Poisson counts,
10 a month in every municipality, with 16 planted clusters (a municipality and its queen
neighbours, far apart) whose rate follows the textbook trajectory of each of the 16 categories:
hot clusters at 10 (1 + 1.5 level), cold ones at 10 / (1 + 1.5 level).

Variants, each run in its own process (peak memory is its own), rounds interleaved:

- **analytic**: the defaults (time window 1, entire cube, analytical z, FDR, ArcGIS rules);
- **permutations**: the same with 199 conditional permutations and no FDR (a pseudo p-value
  floored at 0.01 cannot pass an FDR over 295,000 bins);
- **sfdep-like**: sfdep's settings: each period its own global window, 199 permutations, no
  FDR, alpha 0.02 (its one-sided 0.01), sfdep's rules.

Timed: one `emerging_hot_spots` call (Gi* of every bin, p-values, Mann-Kendall, categories,
both tables). Printed: a Markdown table and, per variant, how many planted centres got their
planted category and how many municipalities away from the clusters got any pattern (with
`--null`, no cluster is planted and every pattern is chance).

    .venv/bin/python bench/territorial_emerging.py --repeat 3
    .venv/bin/python bench/territorial_emerging.py --repeat 1 --null
    .venv/bin/python bench/territorial_emerging.py --trend-check
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from segura.territorial.emerging import PATTERNS, emerging_hot_spots

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mx" / "mx_municipios_2457.shp"
OUT = Path(__file__).resolve().parent / "out"
BASE = 10.0

VARIANTS: dict[str, dict[str, Any]] = {
    "analytic": {},
    "permutations": {"permutations": 199, "seed": 0, "fdr": False},
    "sfdep-like": {
        "global_window": "individual_time_step", "permutations": 199, "seed": 0,
        "fdr": False, "alpha": 0.02, "rules": "sfdep",
    },
}  # fmt: skip


def levels(pattern: str, periods: int) -> np.ndarray:
    """The planted trajectory, hot side: 0 = background, > 0 = hotter (cold twins mirror it)."""
    t = np.arange(periods)
    lv = np.zeros(periods)
    if pattern == "new":
        lv[-1] = 1.5
    elif pattern == "consecutive":
        lv[-12:] = 1.0
    elif pattern == "intensifying":
        lv[:] = np.linspace(1.0, 3.0, periods)
    elif pattern == "persistent":
        lv[:] = 1.0
    elif pattern == "diminishing":
        lv[:] = np.linspace(3.0, 1.0, periods)
    elif pattern == "sporadic":
        lv[t % 13 == 12] = 1.5
        lv[-1] = 1.5
    elif pattern == "oscillating":
        lv[t % 17 == 8] = -1.5
        lv[t % 17 == 16] = 1.5
        lv[-1] = 1.5
    elif pattern == "historical":
        cut = periods - periods // 12
        lv[:cut] = np.linspace(3.0, 1.0, cut)
    return lv


def plant(
    weights: sparse.csr_array, periods: int, seed: int, null: bool = False
) -> tuple[np.ndarray, dict[str, int], np.ndarray]:
    """Counts, the centre of each planted category's cluster, and which units are near a cluster."""
    n = weights.shape[0]
    rng = np.random.default_rng(seed)
    if null:  # no cluster: every municipality at the base rate
        return rng.poisson(BASE, size=(n, periods)).astype(float), {}, np.zeros(n, dtype=bool)
    adjacency = (weights + sparse.eye_array(n)).astype(bool)
    second = (adjacency @ adjacency).astype(bool)  # within two steps
    rate = np.full((n, periods), BASE)
    near = np.zeros(n, dtype=bool)
    centres: dict[str, int] = {}
    for category in [f"{p}_{side}_spot" for p in PATTERNS for side in ("hot", "cold")]:
        while True:
            c = int(rng.integers(n))
            ring = second[[c]].toarray().ravel()
            degree = int(weights[[c]].sum())
            if 5 <= degree <= 8 and not (ring & near).any():
                break
        members = adjacency[[c]].toarray().ravel()
        lv = levels(category.split("_")[0], periods)
        if category.endswith("_cold_spot"):
            lv = -lv
        factor = np.where(lv >= 0, 1 + 1.5 * lv, 1 / (1 + 1.5 * np.abs(lv)))
        rate[members] = BASE * factor
        near |= (second @ ring.astype(float)) > 0  # keep the next cluster away, and mark the zone
        centres[category] = c
    return rng.poisson(rate).astype(float), centres, near


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(variant: str, work: Path) -> None:
    data = np.load(work / "cube.npz", allow_pickle=True)
    weights = sparse.load_npz(work / "weights.npz")
    units = data["units"].tolist()
    t = time.perf_counter()
    result = emerging_hot_spots(data["values"], units, weights, **VARIANTS[variant])
    seconds = time.perf_counter() - t
    categories = result.units.category.astype(str).to_numpy()
    centres = json.loads(str(data["centres"]))
    far = ~data["near"]
    print(json.dumps({
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "centres": {planted: categories[i] for planted, i in centres.items()},
        "far_units": int(far.sum()),
        "far_with_pattern": int((categories[far] != "no_pattern").sum()),
        "far_categories": {c: int(k) for c, k in zip(*np.unique(categories[far], return_counts=True), strict=True) if c != "no_pattern"},
    }))  # fmt: skip


def trend_check(work: Path) -> None:
    """How often Mann-Kendall finds a trend (p <= 0.05) where none was planted, by time window."""
    data = np.load(work / "cube.npz", allow_pickle=True)
    weights = sparse.load_npz(work / "weights.npz")
    far, centres = ~data["near"], json.loads(str(data["centres"]))
    for k in (0, 1, 2):
        result = emerging_hot_spots(data["values"], data["units"].tolist(), weights, time_window=k)
        z = result.bins.gi_z.to_numpy().reshape(len(far), -1)
        lag1 = [
            np.corrcoef(z[i, :-1], z[i, 1:])[0, 1]
            for c, i in centres.items()
            if c.startswith("persistent")
        ]
        share = (result.units.mk_p.to_numpy()[far] <= 0.05).mean()
        print(f"time window {k}: far units with Mann-Kendall p <= 0.05: {share:.3f} of {far.sum()}; "
              f"lag-1 autocorrelation of the persistent centres' z: {', '.join(f'{r:.2f}' for r in lag1)}")  # fmt: skip


def prepare(work: Path, periods: int, seed: int, null: bool) -> None:
    import geopandas as gpd
    from libpysal.weights import Queen

    frame = gpd.read_file(DATA)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(frame, ids=frame["id"].tolist(), use_index=False)
    print(f"queen weights of {w.n} municipalities in {time.perf_counter() - t:.2f} s "
          f"(mean {w.mean_neighbors:.2f} neighbours, max {w.max_neighbors}, {len(w.islands)} islands)",
          file=sys.stderr)  # fmt: skip
    w.transform = "B"
    weights = sparse.csr_array(w.sparse)
    values, centres, near = plant(weights, periods, seed, null)
    sparse.save_npz(work / "weights.npz", weights)
    np.savez(
        work / "cube.npz",
        values=values,
        units=np.array(w.id_order),
        centres=json.dumps(centres),
        near=near,
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--periods", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--null", action="store_true", help="plant no cluster: patterns are chance")
    ap.add_argument(
        "--trend-check", action="store_true", help="Mann-Kendall false trends by time window"
    )
    ap.add_argument("--child", choices=VARIANTS)
    ap.add_argument("--work", type=Path, default=OUT / "territorial_emerging")
    args = ap.parse_args()
    if args.child:
        child(args.child, args.work)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    prepare(args.work, args.periods, args.seed, args.null)
    if args.trend_check:
        trend_check(args.work)
        return
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in args.variants}
    for _ in range(args.repeat):
        for variant in args.variants:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--work", str(args.work)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                raise SystemExit(f"{variant} failed")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            runs[variant].append(result)
            print(
                f"{variant:13s} {result['seconds']:6.2f} s  peak {result['peak_mb']:5.0f} MB",
                file=sys.stderr,
            )
    print(
        "\n| variant | runs | median s | min s | max s | peak MB | planted centres right | far units with a pattern |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for v, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        last = rs[-1]
        right = sum(got == planted for planted, got in last["centres"].items())
        print(f"| {v} | {len(rs)} | {statistics.median(secs):.2f} | {min(secs):.2f} | {max(secs):.2f} "
              f"| {max(r['peak_mb'] for r in rs):,.0f} | {right} / {len(last['centres'])} "
              f"| {last['far_with_pattern']} / {last['far_units']} |")  # fmt: skip
    for v, rs in runs.items():
        last = rs[-1]
        wrong = {p: g for p, g in last["centres"].items() if p != g}
        secs = ", ".join(f"{r['seconds']:.2f}" for r in rs)
        print(
            f"\n{v}: runs {secs} s; "
            f"centres not as planted: {wrong or 'none'}; far-away patterns: {last['far_categories'] or 'none'}"
        )
    (args.work / "result.json").write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
