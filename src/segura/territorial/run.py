"""Territorial analyses on a workspace: the indicator engine's rates by territory, then the
statistics of this package (clusters, prioritisation index, positive deviance).

These are the analyst's tools: they read the warehouse without disclosure control (as
`segura query --no-protect` does), so their tables stay inside the observatory. What reaches
the portal is each territory's class (cluster label, priority class, deviance flag), never a
count under the threshold.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from segura.errors import SeguraError
from segura.indicators import Query, run_query
from segura.indicators.dimensions import UNKNOWN


def rates(con: Any, settings: Any, root: Path, indicator: str, level: str, year: int | None) -> pd.DataFrame:
    """One row per territory of `level`: code, name, numerator, denominator, value and the
    locally smoothed rate (empirical Bayes) where the indicator is a rate, for `year`
    (default: the last full year the extracts cover)."""
    from segura.indicators import duckdb_context

    ctx = duckdb_context(con, settings)
    if year is None:
        full = [y for y in sorted({m.year for m in ctx.months}) if sum(1 for m in ctx.months if m.year == y) == 12]
        if not full:
            raise SeguraError("no full year in the extracts; pass --year")
        year = full[-1]
    result = run_query(con, settings, Query(indicator, ("territory",), {"year": (str(year),)}, level=level,
                                            grain="year"), root=root, protect=False, changes=False)
    frame = result.frame
    frame = frame[~frame["territory"].astype(str).str.endswith(UNKNOWN)].rename(
        columns={"territory": "code", "territory_name": "name"})
    frame = frame.assign(year=year, smoothed=frame["eb_local"].fillna(frame["value"]))
    return frame[["code", "name", "year", "numerator", "denominator", "value", "smoothed"]].reset_index(drop=True)


def hotspots(con: Any, settings: Any, root: Path, indicator: str, *, level: str, year: int | None = None,
             method: str = "local_moran", permutations: int = 999, alpha: float = 0.05, seed: int = 12345,
             weights_kind: str = "queen") -> tuple[pd.DataFrame, Any]:
    """Local clusters of the smoothed rate: a table by territory and the LocalClusters."""
    from segura.territorial.clusters import getis_ord_gi_star, local_moran
    from segura.territorial.weights import workspace_weights

    table = rates(con, settings, root, indicator, level, year)
    w = workspace_weights(con, level, weights_kind, cache_dir=root / "cache")
    y = table.set_index("code")["smoothed"].reindex(list(w.ids))
    if y.isna().any():
        missing = y.index[y.isna()].tolist()[:5]
        raise SeguraError(f"{indicator}: no value for {', '.join(missing)} (no population?); a local statistic needs "
                          "every territory of the weights")
    fn = {"local_moran": local_moran, "gi_star": getis_ord_gi_star}.get(method)
    if fn is None:
        raise SeguraError(f"method must be local_moran or gi_star, not {method!r}")
    with warnings.catch_warnings():  # libpysal says so when the territories form separate groups (two
        # states that do not touch): a fact of the map, not a fault; each group's statistics stand
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
        clusters = fn(y, w, permutations=permutations, alpha=alpha, seed=seed)
    out = table.merge(clusters.frame, on="code", how="right", suffixes=("", "_stat"))
    return out, clusters


def index(con: Any, settings: Any, root: Path, spec_path: Path, *, level: str, year: int | None = None,
          data: Path | None = None, draws: int = 1000, seed: int = 12345) -> Any:
    """The prioritisation index of `spec_path` (YAML): components are indicator ids (their smoothed
    rate by territory for `year`) or columns of `data` (a CSV with a `code` column)."""
    import yaml

    from segura.indicators import load_catalogue
    from segura.territorial.index import IndexSpec, uncertainty

    spec = IndexSpec.from_dict(yaml.safe_load(spec_path.read_text(encoding="utf-8")), origin=str(spec_path))
    catalogue = load_catalogue(root)
    frame: pd.DataFrame | None = None
    extra = pd.read_csv(data, dtype={"code": str}) if data is not None else None
    for comp in spec.components:
        if comp.column in catalogue.indicators:
            r = rates(con, settings, root, comp.column, level, year)[["code", "name", "smoothed"]]
            r = r.rename(columns={"smoothed": comp.column})
            frame = r if frame is None else frame.merge(r, on=["code", "name"], how="outer")
        elif extra is None or comp.column not in extra.columns:
            raise SeguraError(f"{spec_path}: component {comp.column!r} is neither an indicator "
                              "(`segura indicators list`) nor a column of --data")
    if frame is None:
        if extra is None:
            raise SeguraError(f"{spec_path}: no component to compute")
        frame = extra.copy()
        if "name" not in frame:
            frame["name"] = frame["code"]
    elif extra is not None:
        frame = frame.merge(extra.drop(columns=[c for c in ("name",) if c in extra.columns]), on="code", how="left")
    return uncertainty(frame, spec, n=draws, seed=seed)


def deviance(con: Any, settings: Any, root: Path, indicator: str, *, level: str, year: int | None = None,
             data: Path | None = None, covariates: list[str] | None = None, seed: int = 12345) -> Any:
    """Positive deviance of an indicator's count by territory: negative binomial on the covariates
    (columns of `data`, a CSV with `code`), log of the denominator (population) as offset."""
    from segura.indicators import load_catalogue
    from segura.territorial.deviance import positive_deviance

    kind = load_catalogue(root).get(indicator).kind
    if kind != "rate":
        raise SeguraError(f"{indicator} is a {kind}; positive deviance models a rate's count against its population: "
                          "choose a rate indicator (`segura indicators list`)")
    table = rates(con, settings, root, indicator, level, year)
    cols = covariates or []
    if cols:
        if data is None:
            raise SeguraError("covariates need --data, a CSV with a code column and those columns")
        extra = pd.read_csv(data, dtype={"code": str})
        missing = [c for c in cols if c not in extra.columns]
        if missing:
            raise SeguraError(f"{data} has no column(s) {', '.join(missing)}")
        table = table.merge(extra[["code", *cols]], on="code", how="left")
    result = positive_deviance(table, "numerator", "denominator", cols, seed=seed)
    return replace(result, table=result.table.merge(table[["code", "name"]], on="code", how="left"))


def emerging(con: Any, settings: Any, root: Path, indicator: str, *, level: str, grain: str = "month",
             time_window: int = 1, alpha: float = 0.05) -> Any:
    """Emerging hot spots of an indicator by territory x period (counts for a count, rates for a
    rate), over the months (or quarters, years) the extracts cover in full."""
    from segura.indicators import load_catalogue
    from segura.territorial.emerging import emerging_hot_spots
    from segura.territorial.weights import workspace_weights

    kind = load_catalogue(root).get(indicator).kind
    result = run_query(con, settings, Query(indicator, ("territory", "period"), {}, level=level, grain=grain),
                       root=root, protect=False, changes=False)
    frame = result.frame
    frame = frame[~frame["territory"].astype(str).str.endswith(UNKNOWN) & (frame["obs_status"] != "P")]
    column = "numerator" if kind == "count" else "value"
    cube = frame.pivot_table(index="territory", columns="period", values=column, aggfunc="first")
    w = workspace_weights(con, level, "queen", cache_dir=root / "cache")
    cube = cube.reindex(list(w.ids)).fillna(0.0)
    if cube.shape[1] < 3:
        raise SeguraError(f"{indicator}: {cube.shape[1]} full {grain}(s) of data; a trend needs more (try --grain month)")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected")
        out = emerging_hot_spots(cube.to_numpy(), list(w.ids), w.matrix, periods=list(cube.columns),
                                 time_window=time_window, alpha=alpha)
    names = dict(zip(result.frame["territory"], result.frame["territory_name"], strict=False))
    units = out.units.assign(name=[names.get(u, u) for u in out.units["unit"]])
    return replace(out, units=units)


def points(con: Any, settings: Any, root: Path, *, source: str | None = None, iccs: str = "0101",
           year: int | None = None, cell_m: float = 5000.0, knox_distance_m: float = 1000.0,
           knox_days: float = 14.0, permutations: int = 999) -> tuple[Any, Any, dict[str, Any]]:
    """Grid hot spots (Gi* on square cells of `cell_m`, within the territories' boundaries) and the
    Knox near-repeat test of one institution's geolocated events (`source`: default the one with
    the most coordinates; one institution, so that a victim recorded twice is not counted twice)."""
    import geopandas as gpd
    import shapely

    from segura.territorial.nearrepeat import knox
    from segura.territorial.points import grid_hotspots

    if source is None:
        row = con.execute("SELECT source_id FROM event_current WHERE latitude IS NOT NULL GROUP BY 1 "
                          "ORDER BY count(*) DESC LIMIT 1").fetchone()
        if row is None:
            raise SeguraError("no event has coordinates: the extracts' mappings give no latitude and longitude")
        source = str(row[0])
    where = "source_id = ? AND latitude IS NOT NULL AND longitude IS NOT NULL AND starts_with(iccs_code, ?)"
    params: list[Any] = [source, iccs]
    if year is not None:
        where += " AND year(occurred_date) = ?"
        params.append(year)
    rows = con.execute(f"SELECT longitude, latitude, occurred_date FROM event_current WHERE {where}",  # noqa: S608
                       params).fetchall()
    if len(rows) < 10:
        raise SeguraError(f"{source}: {len(rows)} geolocated events of ICCS {iccs}{f' in {year}' if year else ''}; "
                          "too few for a point pattern")
    frame = pd.DataFrame(rows, columns=["lon", "lat", "date"])
    pts = gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    level = settings["territory.levels"][-1]
    shapes = con.execute("SELECT ST_AsWKB(geometry) FROM territory WHERE level = ? AND geometry IS NOT NULL",
                         [level]).fetchall()
    area = gpd.GeoSeries([shapely.from_wkb(bytes(w)) for (w,) in shapes], crs="EPSG:4326")
    utm = pts.estimate_utm_crs()
    grid = grid_hotspots(pts, cell_m, area=area.to_crs(utm).union_all(), crs=utm, permutations=max(permutations, 999))
    near = knox(pts, pd.to_datetime(frame["date"]), knox_distance_m, knox_days, permutations=permutations, crs=utm)
    about = {"source": source, "iccs": iccs, "year": year, "events": len(frame), "cell_m": cell_m,
             "knox_distance_m": knox_distance_m, "knox_days": knox_days}
    return grid, near, about
