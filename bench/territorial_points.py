"""Benchmark and figures: Mexico City's geolocated incidents through segura.territorial.points and .nearrepeat.

Data: ../shared/data/cdmx (SSP-CDMX via hoyodecrimen, GPL-3; see its SOURCE.txt): 132,692 high-impact
incidents 2013-01 ... 2016-09 with the police quadrant each was recorded in, 847 quadrant polygons
(2014), 16 alcaldías (boroughs) and the quadrant -> borough table.

What it measures, each step timed (median of --repeat runs in this process, after one untimed run
that pays imports and esda's first call):
  assign     homicides 2013-2015 (3,066) and every incident (132,692) to quadrants: counts per status,
             agreement with the recorded quadrant, distance to the recorded quadrant's polygon;
             homicides to boroughs, checked through the quadrant -> borough table
  density    quartic kernel density of every incident, bandwidth 500 m, cells of 100 m (UTM 14N)
  grid       Gi* hot spots of homicides 2013-2016 on cells of 1,000 m and 500 m kept to the city
             (9,999 permutations, FDR 5%), and the count of cold spots esda's own pseudo p-values give
  knox       Knox test at 200 m and 14 days, 999 permutations, for four crimes, over 2013-2016, year
             by year, and over 2013-2016 without the places shared by 3 or more events of the crime
             (hospitals, default geocodes); the near-repeat table of firearm injuries (0-400 m x 0-56 days)
  pointpats  if pointpats is importable: its Knox (pointpats.spacetime.Knox) on the same events, for
             the counts and the time (99 permutations: it permutes in a Python loop)

Usage:  .venv/bin/python bench/territorial_points.py --repeat 3
Results: printed as Markdown and written to bench/out/territorial_points.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "out"
CDMX = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdmx"
UTM14N = "EPSG:32614"
CRIMES = {
    "ROBO A CASA HABITACION C.V.": "residential burglary with violence",
    "HOMICIDIO DOLOSO": "intentional homicide",
    "LESIONES POR ARMA DE FUEGO": "firearm injury",
    "ROBO DE VEHICULO AUTOMOTOR S.V.": "vehicle theft without violence",
}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    result = fn()  # untimed: imports, first calls
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import geopandas as gpd

    from segura.territorial.nearrepeat import knox, near_repeat_table
    from segura.territorial.points import assign, grid_hotspots, kernel_density

    if not (CDMX / "crime-lat-long_2013_2016.csv.gz").is_file():
        raise SystemExit(f"Mexico City's data are not at {CDMX}")
    incidents = pd.read_csv(CDMX / "crime-lat-long_2013_2016.csv.gz")
    quadrants = gpd.read_file(CDMX / "cuadrantes_ssp_2014.shp")
    boroughs = gpd.read_file(CDMX / "cdmx_alcaldias_2016.geojson")
    mapping = pd.read_csv(CDMX / "cuadrante_sector_municipio.csv").set_index("cuadrante")["cvegeo"]
    points = gpd.GeoDataFrame(incidents, geometry=gpd.points_from_xy(incidents["long"], incidents["lat"]),
                              crs="EPSG:4326")
    out: dict[str, Any] = {"repeat": args.repeat}

    # -- assign
    homicides = points[(points["crime"] == "HOMICIDIO DOLOSO") & points["year"].between(2013, 2015)]
    rows = []
    metric = quadrants.to_crs(UTM14N).set_index("id").geometry
    for name, frame in (("homicides 2013-2015", homicides), ("every incident 2013-2016", points)):
        result, seconds = timed(lambda f=frame: assign(f, quadrants, "id"), args.repeat)
        recorded = frame["cuadrante"]
        comparable = recorded.isin(quadrants["id"]) & result.codes.notna()
        located = frame.geometry[comparable].to_crs(UTM14N)
        away = located.distance(gpd.GeoSeries(metric.loc[recorded[comparable]].to_numpy(), index=located.index,
                                              crs=UTM14N))
        by_year = {int(y): round(float((result.codes[comparable & (frame["year"] == y)]
                                        == recorded[comparable & (frame["year"] == y)]).mean()), 4)
                   for y in sorted(frame["year"].unique())}
        rows.append({"points": name, "n": len(frame), "seconds": seconds, **result.counts(),
                     "comparable": int(comparable.sum()),
                     "agreement": float((result.codes[comparable] == recorded[comparable]).mean()),
                     "within_50m": float((away <= 50).mean()), "within_100m": float((away <= 100).mean()),
                     "by_year": by_year})
    by_borough = assign(homicides, boroughs, "cvegeo")
    via_quadrant = assign(homicides, quadrants, "id").codes.map(mapping)
    both = via_quadrant.notna() & by_borough.codes.notna()
    out["assign"] = rows
    out["boroughs"] = {"outside": by_borough.counts()["outside every polygon"], "compared": int(both.sum()),
                       "agree": int((via_quadrant[both] == by_borough.codes[both].astype(int)).sum())}

    # -- density
    surface, seconds = timed(lambda: kernel_density(points, bandwidth_m=500, cell_m=100), args.repeat)
    out["density"] = {"points": surface.n_points, "dropped": surface.dropped, "cells": int(surface.density.size),
                      "total": surface.total(), "seconds": seconds, "peak": surface.peak()}

    # -- grid
    every_homicide = points[points["crime"] == "HOMICIDIO DOLOSO"]
    grids = []
    for cell in (1000, 500):
        result, seconds = timed(lambda c=cell: grid_hotspots(every_homicide, c, area=boroughs, seed=1), args.repeat)
        grids.append({"cell_m": cell, "cells": len(result.frame), "seconds": seconds, **result.counts(),
                      "esda_cold": esda_cold_spots(result)})
    out["grid"] = grids

    # -- knox
    tests = []
    for crime, label in CRIMES.items():
        events = points[points["crime"] == crime]
        shared = events.groupby(["lat", "long"])["id"].transform("size")  # NaN coordinates: not grouped
        for years in ((2013, 2016), *((y, y) for y in range(2013, 2017)), "distinct"):
            if years == "distinct":  # places shared by 3 or more events (hospitals, default geocodes) dropped
                chosen, years = events[~(shared >= 3)], (2013, 2016)
                name = "2013-2016, no place of 3+"
            else:
                chosen = events[events["year"].between(*years)]
                name = f"{years[0]}-{years[1]}" if years[0] != years[1] else str(years[0])
            result, seconds = timed(lambda e=chosen: knox(e, e["date"], 200, 14, permutations=999, seed=1),
                                    args.repeat if name == "2013-2016" else 1)
            tests.append({"crime": label, "years": name,
                          "n": result.n, "close_in_space": result.close_in_space, "observed": result.observed,
                          "expected": result.expected, "ratio": result.ratio, "p_value": result.p_value,
                          "seconds": seconds})
    out["knox"] = tests
    shootings = points[points["crime"] == "LESIONES POR ARMA DE FUEGO"]
    table = near_repeat_table(shootings, shootings["date"], [0, 100, 200, 300, 400], [0, 14, 28, 42, 56],
                              permutations=999, seed=1)
    out["near_repeat_shootings"] = table.frame.to_dict(orient="records")
    out["pointpats"] = compare_pointpats(points, knox)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    OUT.mkdir(exist_ok=True)
    (OUT / "territorial_points.json").write_text(json.dumps(out, indent=1, default=str))
    report(out, table)


def esda_cold_spots(result: Any) -> int:
    """Cold spots that esda's own pseudo p-values (ties counted extreme below) would give the grid."""
    import esda
    from scipy import stats

    from segura.territorial.points import _queen_grid

    f = result.frame
    grid = _queen_grid(f["row"].to_numpy(), f["col"].to_numpy(), int(f["col"].max()) + 1, int(f["row"].max()) + 1,
                       result.cell_m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(f["count"].to_numpy(float), grid.to_w(), transform="B", star=1.0,
                         permutations=result.permutations, seed=1, n_jobs=1, keep_simulations=False)
    p = np.round(np.asarray(g.p_sim, float) * (result.permutations + 1)) / (result.permutations + 1)
    significant = stats.false_discovery_control(p, method="bh") <= 0.05
    return int((significant & (np.asarray(g.Zs) < 0)).sum())


def compare_pointpats(points: Any, knox: Callable[..., Any]) -> list[dict[str, Any]] | str:
    try:
        from pointpats.spacetime import Knox
    except ImportError as e:
        return f"skipped: pointpats is not importable ({e})"
    rows = []
    for crime in ("ROBO A CASA HABITACION C.V.", "LESIONES POR ARMA DE FUEGO"):
        events = points[points["crime"] == crime].dropna(subset=["lat"])
        xy = events.geometry.to_crs(UTM14N).get_coordinates().to_numpy()
        t = (pd.to_datetime(events["date"]) - pd.Timestamp("2013-01-01")).dt.days.to_numpy(float)
        np.random.seed(1)
        start = time.perf_counter()
        theirs = Knox(xy, t.reshape(-1, 1), delta=200, tau=14, permutations=99)
        middle = time.perf_counter()
        ours = knox(xy, t, 200, 14, permutations=99, seed=1)
        end = time.perf_counter()
        rows.append({"crime": CRIMES[crime], "n": len(t), "pointpats_observed": theirs.nst,
                     "pointpats_expected": float(theirs.expected[0, 0]), "pointpats_p": theirs.p_sim,
                     "pointpats_s": middle - start, "segura_observed": ours.observed,
                     "segura_expected": ours.expected, "segura_p": ours.p_value, "segura_s": end - middle})
    return rows


def report(out: dict[str, Any], table: Any) -> None:
    print("## assign\n\n| points | n | s | inside | border | missing | outside | agreement | within 50 m | within 100 m |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in out["assign"]:
        print(f"| {r['points']} | {r['n']:,} | {r['seconds']:.2f} | {r['inside']:,} | {r['border']:,} | "
              f"{r['missing coordinates']:,} | {r['outside every polygon']:,} | {r['agreement']:.1%} | "
              f"{r['within_50m']:.1%} | {r['within_100m']:.1%} |")
        print(f"  by year: {r['by_year']}")
    print(f"\nboroughs: {out['boroughs']}\n\ndensity: {out['density']}\n")
    print("## grid (homicides 2013-2016)\n\n| cell m | cells | s | hot | cold | esda's cold |\n|---|---|---|---|---|---|")
    for g in out["grid"]:
        print(f"| {g['cell_m']} | {g['cells']:,} | {g['seconds']:.2f} | {g['Hot spot']} | {g['Cold spot']} | "
              f"{g['esda_cold']} |")
    print("\n## knox (200 m, 14 days, 999 permutations)\n\n| crime | years | n | observed | expected | ratio | p | s |")
    print("|---|---|---|---|---|---|---|---|")
    for k in out["knox"]:
        print(f"| {k['crime']} | {k['years']} | {k['n']:,} | {k['observed']:,} | {k['expected']:.1f} | "
              f"{k['ratio']:.2f} | {k['p_value']:.3f} | {k['seconds']:.3f} |")
    print("\n## near-repeat table, firearm injuries 2013-2016 (ratio, p)\n")
    ratio, p = table.pivot("ratio"), table.pivot("p_value")
    print("| distance | " + " | ".join(ratio.columns) + " |\n" + "|---" * (len(ratio.columns) + 1) + "|")
    for band in ratio.index:
        print(f"| {band} | " + " | ".join(f"{ratio.loc[band, c]:.2f} ({p.loc[band, c]:.3f})" for c in ratio.columns)
              + " |")
    print(f"\npointpats: {out['pointpats']}\npeak MB: {out['peak_mb']:.0f}")


if __name__ == "__main__":
    main()
