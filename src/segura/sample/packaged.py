"""The data shipped with the sample observatory, and what the generator derives from it.

`data/territory.geojson`, `data/population.csv` and `data/homicides.csv` are reduced from
INEGI and CONAPO files by scripts/prepare_sample_data.py; `data/bo_conflict_deaths.csv` (the
conflict registry's demo) from the Ultimate Consequences database by
scripts/prepare_conflict_sample.py (see DATA_LICENSES.md).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

DATA_FILES = ("territory.geojson", "population.csv", "homicides.csv", "index.yaml", "deviance.yaml", "covariates.csv",
              "bo_conflict_deaths.csv")
SOURCES = ("police", "forensic", "prosecutors")


def packaged_path(name: str) -> Path:
    """Path of a shipped data file (`territory.geojson`, `population.csv`, `homicides.csv`)."""
    path = Path(str(resources.files("segura.sample") / "data" / name))
    if not path.is_file():
        raise FileNotFoundError(f"{name!r} is not shipped with the sample; expected one of {', '.join(DATA_FILES)}")
    return path


def mapping_path(source: str) -> Path:
    """Path of the shipped mapping of a sample source (police, forensic, prosecutors)."""
    path = Path(str(resources.files("segura.sample") / "sources" / f"{source}.yaml"))
    if not path.is_file():
        raise FileNotFoundError(f"no sample mapping {source!r}; expected one of {', '.join(SOURCES)}")
    return path


@dataclass(frozen=True)
class Municipality:
    code: str  # 5-digit INEGI CVEGEO
    name: str  # official name with accents
    state: str  # 2-digit state code
    state_name: str
    geometry: shapely.Geometry


@dataclass(frozen=True)
class Geography:
    municipalities: tuple[Municipality, ...]
    neighbours: dict[str, tuple[str, ...]]  # code -> codes sharing an edge

    @property
    def by_code(self) -> dict[str, Municipality]:
        return {m.code: m for m in self.municipalities}


@cache
def load_geography() -> Geography:
    fc = json.loads(packaged_path("territory.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in fc["features"]]
    state_names = {p["code"]: p["name"] for p in props if p["level"] == "admin1"}
    munis = tuple(
        Municipality(p["code"], p["name"], p["parent_code"], state_names[p["parent_code"]], shape(f["geometry"]))
        for f, p in zip(fc["features"], props, strict=True)
        if p["level"] == "admin2"
    )
    geoms = np.array([m.geometry for m in munis], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="touches")
    shared = shapely.length(shapely.intersection(shapely.boundary(geoms[left]), shapely.boundary(geoms[right])))
    neighbours: dict[str, list[str]] = {m.code: [] for m in munis}
    for i, j, length in zip(left, right, shared, strict=True):
        if i != j and length > 0:  # an edge, not a corner
            neighbours[munis[i].code].append(munis[j].code)
    return Geography(munis, {k: tuple(sorted(v)) for k, v in neighbours.items()})


@cache
def load_homicide_counts() -> tuple[tuple[str, int, int, int], ...]:
    """(territory_code, year, month, homicides) for every municipality-month of the sample."""
    with packaged_path("homicides.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(
            (r["territory_code"], int(r["year"]), int(r["month"]), int(r["homicides"])) for r in csv.DictReader(fh)
        )


def sample_points(geometry: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points (lon, lat) uniformly inside a polygon, by vectorised rejection sampling."""
    out = np.empty((0, 2))
    if n <= 0:
        return out
    minx, miny, maxx, maxy = geometry.bounds
    fill = max(geometry.area / ((maxx - minx) * (maxy - miny)), 0.05)
    shapely.prepare(geometry)
    while len(out) < n:
        k = int((n - len(out)) / fill * 1.3) + 16
        xy = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        out = np.vstack([out, xy[shapely.contains_xy(geometry, xy[:, 0], xy[:, 1])]])
    return out[:n]
