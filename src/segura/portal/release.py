"""Releases: immutable, dated snapshots of everything public, which the portal serves.

    warehouse (one writer) --segura publish--> releases/<id>/ (read-only files) --segura serve--> portal

`publish` runs every indicator's public views through the query modeler with disclosure
control on, and writes them with the territories and the metadata into a new folder:

    releases/2026-12-05/
      release.json        id, publication time, coverage, sources, threshold, views, file checksums
      catalogue.json      indicator definitions and methods (es, en)
      labels.json         code -> label (es, en) for territories and every dimension value
      territories.csv     code, name, level, parent_code, iso_3166_2
      geo/<level>.geojson boundaries simplified for the map (WGS 84)
      views/<indicator>/<view>.parquet  the query cubes: one table per breakdown, protected
      loads.json          what was loaded (for the administrators' page; no names, no paths)
      conflicts/          the social conflict registry, when the warehouse has one: conflicts (with
                          escalation scores), parts, events, actors, agreements, phases (.parquet) and
                          registry.json (sources and citations, score method, indicators)

A view is an indicator broken down by `period` and some of territory, sex, age and the
indicator's own disaggregations, at one territory level and one period grain; only the views
the base's public tables admit are written (the others are refused by disclosure control).
Cells are protected once, at publication: the portal never touches the warehouse's microdata.

The folder is written beside its final place and renamed into it (a reader never sees half a
release), then its files are made read-only; an id is never reused, so a figure can be cited
"as published on" a date and found again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segura import __version__
from segura.errors import SeguraError
from segura.indicators.catalogue import Catalogue, Indicator
from segura.indicators.dimensions import DIMENSIONS, TOTAL, UNKNOWN
from segura.indicators.query import Query, QueryContext, QueryError

GRAINS = ("year", "quarter", "month")
NATIONAL = "national"
LABELLED = ("territory_name",)  # label columns dropped from stored views (labels.json holds them)


class ReleaseError(SeguraError):
    exit_code = 2


@dataclass(frozen=True)
class View:
    """One query cube: an indicator by `by` (always with period) at `level` and `grain`."""

    indicator: str
    by: tuple[str, ...]
    level: str  # a territory level, or "national" when territory is not in `by`
    grain: str

    @property
    def id(self) -> str:
        return f"{'+'.join(self.by)}.{self.level}.{self.grain}"

    @classmethod
    def parse(cls, indicator: str, view_id: str) -> View:
        by, level, grain = view_id.split(".")
        return cls(indicator, tuple(by.split("+")), level, grain)

    def query(self) -> Query:
        return Query(self.indicator, self.by, {}, level=None if self.level == NATIONAL else self.level,
                     grain=self.grain)


def candidate_views(indicator: Indicator, levels: list[str]) -> list[View]:
    """Every breakdown the portal offers for `indicator`; publish keeps those disclosure control admits."""
    dims = [d for d in indicator.disaggregations if d in DIMENSIONS]
    if indicator.kind == "distribution" and indicator.over and indicator.over not in dims:
        dims.insert(0, indicator.over)
    extra: list[tuple[str, ...]] = [(d,) for d in dims]
    if "sex" in dims and "age" in dims:
        extra.append(("sex", "age"))
    base_sets: list[tuple[str, ...]] = [()] if indicator.kind != "distribution" else []
    if indicator.kind == "distribution" and indicator.over:
        extra = [e if indicator.over in e else (indicator.over, *e) for e in extra]
        extra = list(dict.fromkeys(extra))
    out = []
    for dset in base_sets + extra:
        for level in [NATIONAL, *levels[1:]]:
            by = ("period", *dset) if level == NATIONAL else ("territory", "period", *dset)
            for grain in GRAINS:
                out.append(View(indicator.id, by, level, grain))
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def new_release_id(releases_dir: Path, today: dt.date) -> str:
    """The date (ISO 8601), with -2, -3 ... for later releases of the same day."""
    base = today.isoformat()
    if not (releases_dir / base).exists():
        return base
    n = 2
    while (releases_dir / f"{base}-{n}").exists():
        n += 1
    return f"{base}-{n}"


@dataclass
class PublishReport:
    release_id: str
    path: Path
    views: int
    refused: int
    rows: int
    indicators: list[str] = field(default_factory=list)


def publish(
    con: Any,
    settings: Any,
    root: Path,
    *,
    today: dt.date | None = None,
    indicators: list[str] | None = None,
    on_step: Callable[[str, int, int], None] | None = None,
) -> PublishReport:
    """Write a new release of the workspace at `root` from the warehouse connection `con`."""
    from segura.indicators import duckdb_context, load_catalogue
    from segura.indicators.compute import compute
    from segura.indicators.protect import DisclosureError
    from segura.indicators.weights import Contiguity

    ctx = duckdb_context(con, settings)
    if ctx.run_id is None:
        raise ReleaseError("nothing to publish: run `segura reconcile` first (the indicators count reconciled victims)")
    ctx.cache_dir = root / "cache" / "disclosure"
    catalogue = load_catalogue(root)
    chosen = [catalogue.get(i) for i in indicators] if indicators else list(catalogue.indicators.values())
    releases = root / "releases"
    releases.mkdir(exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    release_id = new_release_id(releases, today or now.date())
    tmp = releases / f".partial-{release_id}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "views").mkdir(parents=True)
    weights = Contiguity(con)
    views_meta: list[dict[str, Any]] = []
    refused = rows = 0
    seen: dict[str, set[str]] = {}
    todo = [(ind, v) for ind in chosen for v in candidate_views(ind, ctx.levels)]
    try:
        for i, (ind, view) in enumerate(todo):
            if on_step:
                on_step(ind.id, i, len(todo))
            try:
                result = compute(view.query(), ctx, catalogue, weights=weights)
            except (DisclosureError, QueryError):
                refused += 1
                continue
            frame = result.frame.drop(columns=[c for c in result.frame.columns
                                               if c in LABELLED or c.endswith("_label")])
            for col in ("numerator", "denominator"):  # counts and populations are whole numbers
                whole = frame[col].dropna()
                if len(whole) and (whole == whole.round()).all():
                    frame[col] = frame[col].round().astype("Int64")
            for k in result.keys:
                if k != "period":
                    seen.setdefault(k, set()).update(str(v) for v in frame[k].dropna().unique())
            out = tmp / "views" / ind.id / f"{view.id}.parquet"
            out.parent.mkdir(exist_ok=True)
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out)
            rows += len(frame)
            periods = sorted(str(p) for p in frame["period"].unique())
            views_meta.append({"indicator": ind.id, "view": view.id, "by": list(view.by), "level": view.level,
                               "grain": view.grain, "rows": len(frame), "periods": periods,
                               "notes": result.notes})
        _write_json(tmp / "catalogue.json", _catalogue_doc(catalogue, chosen))
        _write_json(tmp / "labels.json", _labels(ctx, seen))
        _write_territories(con, ctx, tmp)
        _write_json(tmp / "loads.json", _loads(con))
        _write_json(tmp / "analysis.json", analyses(con, settings, root, chosen, ctx))
        conflicts = _write_conflicts(con, tmp, today or now.date())
        files = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        meta = {
            "id": release_id,
            "published_at": now.isoformat().replace("+00:00", "Z"),
            "observatory": settings["workspace.name"],
            "country": settings["workspace.country"],
            "segura_version": __version__,
            "reconcile_run": ctx.run_id,
            "coverage": {"from": f"{ctx.first_month:%Y-%m}" if ctx.first_month else None,
                         "to": f"{ctx.last_month:%Y-%m}" if ctx.last_month else None,
                         "months": len(ctx.months)},
            "full_years": _full_years(ctx),
            "sources": list(ctx.sources),
            "levels": ctx.levels,
            "disclosure": {"threshold": settings["disclosure.threshold"],
                           "threshold_vaw": settings["disclosure.threshold_vaw"],
                           "flag": "C"},
            "indicators": [i.id for i in chosen],
            "views": views_meta,
            "conflicts": conflicts,
            "files": files,
        }
        _write_json(tmp / "release.json", meta)
        _freeze(tmp)
        final = releases / release_id
        os.rename(tmp, final)  # atomic on one file system: readers see all of it or nothing
    except BaseException:
        _thaw(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return PublishReport(release_id, final, len(views_meta), refused, rows, [i.id for i in chosen])


def _full_years(ctx: QueryContext) -> list[int]:
    count: dict[int, int] = {}
    for m in ctx.months:
        count[m.year] = count.get(m.year, 0) + 1
    return sorted(y for y, n in count.items() if n == 12)


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def analyses(con: Any, settings: Any, root: Path, chosen: list[Indicator], ctx: QueryContext) -> dict[str, Any]:
    """The territorial analyses the portal maps, as classes only (no count, no value): hot and cold
    spots (Gi*) and clusters (Local Moran) of each rate's smoothed value by municipality in the last
    full year, and the prioritisation index of the workspace's `index.yaml` when there is one."""
    import warnings

    from segura.errors import SeguraError
    from segura.territorial.run import hotspots
    from segura.territorial.run import index as run_index

    level = ctx.levels[-1]
    years = _full_years(ctx)
    out: dict[str, Any] = {"level": level, "year": years[-1] if years else None, "hotspots": {}, "emerging": {},
                           "index": None}
    if not years:
        return out
    from segura.territorial.run import emerging

    for ind in chosen:
        if ind.kind not in ("rate", "count"):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                e = emerging(con, settings, root, ind.id, level=level, grain="month")
            out["emerging"][ind.id] = {
                "categories": {str(u): str(c) for u, c in zip(e.units["unit"], e.units["category"], strict=True)},
                "method": {k: v for k, v in e.method.items() if isinstance(v, str | int | float | bool)},
                "periods": [str(p) for p in (e.bins["period"].iloc[[0, -1]] if len(e.bins) else [])]}
        except SeguraError as err:
            out["emerging"][ind.id] = {"error": str(err)}
        if ind.kind != "rate":
            continue
        layers: dict[str, dict[str, Any]] = {}
        for method in ("gi_star", "local_moran"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    table, clusters = hotspots(con, settings, root, ind.id, level=level, year=years[-1], method=method)
            except SeguraError as e:  # no boundaries, no population at this level: say why, map nothing
                layers[method] = {"error": str(e)}
                continue
            layers[method] = {"clusters": dict(zip(table["code"], table["cluster"], strict=True)),
                              "counts": clusters.counts(), "permutations": clusters.permutations,
                              "alpha": clusters.alpha, "fdr": clusters.fdr}
        out["hotspots"][ind.id] = layers
    out["deviance"] = deviance_layers(con, settings, root, level, years[-1])
    out["points"] = points_layer(con, settings, root)
    spec = root / "index.yaml"
    if spec.is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run_index(con, settings, root, spec, level=level, year=years[-1])
        out["index"] = {"spec": spec.read_text(encoding="utf-8"), "rows": [
            {"code": str(r["code"]), "name": str(r["name"]), "median_rank": float(r["median_rank"]),
             "rank_low": float(r["rank_low"]), "rank_high": float(r["rank_high"]), "class": str(r["class"])}
            for r in result.table.sort_values("median_rank").to_dict(orient="records")]}
    return out


def points_layer(con: Any, settings: Any, root: Path) -> dict[str, Any]:
    """Grid hot spots of the geolocated homicides (cells and their class, no counts) and the Knox test."""
    import warnings

    from segura.errors import SeguraError
    from segura.territorial.run import points

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grid, near, about = points(con, settings, root)
    except SeguraError as e:
        return {"error": str(e)}
    cells = grid.to_geodataframe().to_crs("EPSG:4326")
    features = [{"type": "Feature", "id": str(c),
                 "properties": {"code": str(c), "name": str(label)},
                 "geometry": json.loads(shapely_to_geojson(g))}
                for c, label, g in zip(cells["cell"], cells["label"], cells.geometry, strict=True)]
    knox = {k: getattr(near, k) for k in ("n", "distance_m", "days", "close_in_space", "close_in_time", "observed",
                                          "expected", "ratio", "p_value", "permutations")}
    return {**about, "counts": grid.counts(), "permutations": grid.permutations, "alpha": grid.alpha,
            "cells": {"type": "FeatureCollection", "features": features}, "knox": knox}


def shapely_to_geojson(geom: Any) -> str:
    import shapely

    return str(shapely.to_geojson(shapely.set_precision(geom, 1e-5)))


def deviance_layers(con: Any, settings: Any, root: Path, level: str, year: int) -> dict[str, Any]:
    """Positive deviance flags of the indicators `deviance.yaml` names (with its covariates)."""
    import warnings

    import yaml

    from segura.errors import SeguraError
    from segura.territorial.run import deviance

    path = root / "deviance.yaml"
    if not path.is_file():
        return {}
    conf = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data = root / str(conf["data"]) if conf.get("data") else None
    out: dict[str, Any] = {}
    for ind in conf.get("indicators", []):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = deviance(con, settings, root, ind, level=level, year=year, data=data,
                                  covariates=list(conf.get("covariates", [])))
        except SeguraError as e:
            out[ind] = {"error": str(e)}
            continue
        out[ind] = {"flags": dict(zip(result.table["code"], result.table["flag"], strict=True)),
                    "covariates": list(conf.get("covariates", [])), "level": 0.95}
    return out


def _catalogue_doc(catalogue: Catalogue, chosen: list[Indicator]) -> dict[str, Any]:
    return {"indicators": [{"id": i.id, "es": i.to_dict("es"), "en": i.to_dict("en"),
                            "vaw": bool(getattr(i, "vaw", False))} for i in chosen],
            "dimensions": {k: {"es": d.label("es"), "en": d.label("en")} for k, d in DIMENSIONS.items()}}


def _labels(ctx: QueryContext, seen: dict[str, set[str]]) -> dict[str, dict[str, dict[str, str]]]:
    names = dict(zip(ctx.territories.code, ctx.territories.name, strict=False))
    out: dict[str, dict[str, dict[str, str]]] = {"territory": {}}
    for code in sorted(set(names) | seen.get("territory", set())):
        if code in names:
            out["territory"][code] = {"es": names[code], "en": names[code]}
        elif code.endswith(UNKNOWN):
            parent = names.get(code[: -len(UNKNOWN)], "")
            out["territory"][code] = {"es": f"{parent} (no especificado)".strip(),
                                      "en": f"{parent} (unspecified)".strip()}
    for dim, codes in seen.items():
        if dim == "territory":
            continue
        d = DIMENSIONS[dim]
        out[dim] = {c: {lang: ("Desconocido" if lang == "es" else "Unknown") if c == UNKNOWN
                        else d.value_label(c, lang) for lang in ("es", "en")} for c in sorted(codes)}
        out[dim].setdefault(TOTAL, {"es": "Total", "en": "Total"})
    return out


def _write_territories(con: Any, ctx: QueryContext, out: Path) -> None:
    """territories.csv and one GeoJSON per level, simplified for a map a phone can draw."""
    import shapely

    rows = con.execute("SELECT code, name, level, parent_code, iso_3166_2, "
                       "CASE WHEN geometry IS NULL THEN NULL ELSE ST_AsWKB(geometry) END "
                       "FROM territory ORDER BY level, code").fetchall()
    frame = pd.DataFrame([r[:5] for r in rows], columns=["code", "name", "level", "parent_code", "iso_3166_2"])
    frame.to_csv(out / "territories.csv", index=False)
    (out / "geo").mkdir()
    by_level: dict[str, list[dict[str, Any]]] = {}
    for code, name, level, parent, _iso, wkb in rows:
        if wkb is None:
            continue
        geom = shapely.from_wkb(bytes(wkb))
        # ~0.005 degrees (about 500 m): invisible at the portal's map scale, a tenth of the bytes
        simple = shapely.simplify(geom, 0.005, preserve_topology=True)
        simple = shapely.set_precision(simple, 1e-4)
        by_level.setdefault(level, []).append({
            "type": "Feature", "id": code,
            "properties": {"code": code, "name": name, "parent_code": parent},
            "geometry": json.loads(shapely.to_geojson(simple)),
        })
    for level, features in by_level.items():
        _write_json(out / "geo" / f"{level}.geojson", {"type": "FeatureCollection", "features": features})


def _write_conflicts(con: Any, out: Path, on: dt.date) -> dict[str, Any] | None:
    """conflicts/: the registry as `segura.conflicts.publication` makes it public (None without one)."""
    from segura.conflicts.publication import public_registry

    registry = public_registry(con, on)
    if registry is None:
        return None
    (out / "conflicts").mkdir()
    for name, frame in registry.tables().items():
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out / "conflicts" / f"{name}.parquet")
    _write_json(out / "conflicts" / "registry.json", registry.about)
    return {**registry.about["counts"], "sources": [s["citation"] or s["name"] for s in registry.about["sources"]]}


def _loads(con: Any) -> list[dict[str, Any]]:
    cols = ["load_id", "source_id", "file_name", "status", "rows_read", "rows_loaded", "rows_quarantined",
            "rows_with_warnings", "period_start", "period_end", "finished_at"]
    rows = con.execute(f"SELECT {', '.join(cols)} FROM load ORDER BY load_id").fetchall()  # noqa: S608 (fixed columns)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _freeze(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def _thaw(path: Path) -> None:
    if path.exists():
        for p in path.rglob("*"):
            if p.is_file():
                p.chmod(stat.S_IRUSR | stat.S_IWUSR)


def release_ids(root: Path) -> list[str]:
    """The workspace's complete releases, oldest first."""
    d = root / "releases"
    if not d.is_dir():
        return []
    ids = [p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "release.json").is_file()]
    return sorted(ids, key=_id_key)


def _id_key(release_id: str) -> tuple[str, int]:
    date, _, n = release_id[:10], release_id[10:11], release_id[11:]
    return date, int(n) if n.isdigit() else 1


class Release:
    """A published release, read-only, with its views loaded lazily and kept in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.meta: dict[str, Any] = json.loads((path / "release.json").read_text(encoding="utf-8"))
        self.id: str = self.meta["id"]
        cat = json.loads((path / "catalogue.json").read_text(encoding="utf-8"))
        self.indicators: dict[str, dict[str, Any]] = {i["id"]: i for i in cat["indicators"]}
        self.dimensions: dict[str, dict[str, str]] = cat["dimensions"]
        self.labels: dict[str, dict[str, dict[str, str]]] = json.loads((path / "labels.json").read_text(encoding="utf-8"))
        self.territories = pd.read_csv(path / "territories.csv", dtype=str, keep_default_na=False)
        self.views: dict[tuple[str, str], dict[str, Any]] = {(v["indicator"], v["view"]): v for v in self.meta["views"]}
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}
        self._geo: dict[str, bytes] = {}

    def frame(self, indicator: str, view_id: str) -> pd.DataFrame:
        key = (indicator, view_id)
        if key not in self.views:
            raise KeyError(key)
        if key not in self._frames:
            self._frames[key] = pq.read_table(self.path / "views" / indicator / f"{view_id}.parquet").to_pandas()
        return self._frames[key]

    @property
    def analysis(self) -> dict[str, Any]:
        """analysis.json: hot spots, clusters and the priority index (empty for a release without it)."""
        if not hasattr(self, "_analysis"):
            p = self.path / "analysis.json"
            self._analysis: dict[str, Any] = json.loads(p.read_text(encoding="utf-8")) if p.is_file() else {}
        return self._analysis

    def views_of(self, indicator: str) -> Iterator[View]:
        for (ind, vid) in self.views:
            if ind == indicator:
                yield View.parse(ind, vid)

    def geojson(self, level: str) -> bytes:
        if level not in self._geo:
            p = self.path / "geo" / f"{level}.geojson"
            if not p.is_file():
                raise KeyError(level)
            self._geo[level] = p.read_bytes()
        return self._geo[level]

    def label(self, dim: str, code: Any, lang: str) -> str:
        entry = self.labels.get(dim, {}).get(str(code))
        return entry[lang] if entry else str(code)

    @property
    def published_date(self) -> str:
        return str(self.meta["published_at"])[:10]

    def verify(self) -> list[str]:
        """Files whose checksum no longer matches release.json (an immutable release has none)."""
        return [name for name, digest in self.meta["files"].items()
                if not (self.path / name).is_file() or _sha256(self.path / name) != digest]


class Releases:
    """All of a workspace's releases; new ones are picked up when they appear."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, Release] = {}
        self._ids: tuple[float, list[str]] = (-1.0, [])

    def ids(self) -> list[str]:
        """The releases, listed again at most once a second (not on every request)."""
        now = time.monotonic()
        if now - self._ids[0] > 1.0:
            self._ids = (now, release_ids(self.root))
        return self._ids[1]

    def get(self, release_id: str | None = None) -> Release:
        ids = self.ids()
        if not ids:
            raise ReleaseError(f"no release in {self.root / 'releases'}: run `segura publish` first")
        rid = release_id or ids[-1]
        if rid not in ids:
            raise KeyError(rid)
        if rid not in self._open:
            self._open[rid] = Release(self.root / "releases" / rid)
        return self._open[rid]
