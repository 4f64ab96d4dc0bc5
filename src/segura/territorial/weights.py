"""Spatial weights between territories: queen or rook contiguity, k nearest neighbours and distance
bands (libpysal), with islands joined to their nearest territories, cached on disk by content.

Contiguity is libpysal's vertex-based Queen and Rook, as the indicator engine's local smoothing
builds it (`segura.indicators.weights`). Distances run between centroids: great-circle distances
(libpysal's arc distances on a sphere of the Earth's mean radius) for longitude/latitude, which is
how the warehouse stores boundaries, and planar distances for projected coordinates. A territory
with no neighbour of the kind asked (an island, or a polygon whose simplified boundary no longer
touches the others) is joined, both ways, to its `island_neighbours` nearest territories, and is
named in `SpatialWeights.islands`: a territory with no neighbour has no local statistic.

Weights depend only on the boundaries and the parameters, so they are computed once per workspace
and kept in `<cache_dir>/weights/<sha256>.npz`, the digest being taken over every code and boundary
(WKB) and the parameters: a changed boundary gives another digest, hence a fresh computation.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from segura.errors import SeguraError

if TYPE_CHECKING:
    import duckdb
    import geopandas as gpd
    from libpysal.weights import W

KINDS = ("queen", "rook", "knn", "distance")
EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG): libpysal's arc distances come out in its unit
WAREHOUSE_CRS = "EPSG:4326"  # ingest.territory reprojects every boundary to longitude/latitude
FORMAT = 1  # bump when what is stored or how it is built changes: every cached file is then rebuilt
_MEMO: dict[str, SpatialWeights] = {}


@dataclass(frozen=True, eq=False)
class SpatialWeights:
    """Binary neighbour relations between territories, rows and columns in the order of `ids`."""

    ids: tuple[str, ...]
    matrix: sparse.csr_array  # matrix[i, j] == 1 when ids[j] is a neighbour of ids[i]
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    islands: tuple[str, ...] = ()  # had no neighbour of `kind` (joined to their nearest unless island_neighbours=0)
    key: str = ""  # digest of the codes, boundaries and parameters (the cache key)

    @property
    def n(self) -> int:
        return len(self.ids)

    def cardinalities(self) -> np.ndarray:
        """Number of neighbours of each territory."""
        return np.diff(self.matrix.indptr)

    def neighbours(self, code: str) -> list[str]:
        try:
            i = self.ids.index(code)
        except ValueError:
            raise SeguraError(f"territory {code!r} is not in these weights{_suggest(code, self.ids)}") from None
        start, end = self.matrix.indptr[i], self.matrix.indptr[i + 1]
        return [self.ids[j] for j in self.matrix.indices[start:end]]

    def to_w(self) -> W:
        """A new libpysal W (binary, ids = codes), as esda's statistics and smoothers take.

        New on each call because esda changes a W's transformation in place.
        """
        from libpysal.weights import WSP

        return WSP(sparse.csr_matrix(self.matrix), id_order=list(self.ids)).to_W(silence_warnings=True)


def build_weights(
    territories: gpd.GeoDataFrame | Sequence[tuple[str, Any]],
    kind: str = "queen",
    *,
    k: int = 4,
    threshold_km: float | None = None,
    island_neighbours: int = 1,
    code_column: str = "code",
    crs: Any = None,
    cache_dir: Path | None = None,
) -> SpatialWeights:
    """Weights between `territories`: a GeoDataFrame (codes in `code_column`) or (code, shapely
    geometry) pairs, whose `crs` is EPSG:4326 unless said otherwise.

    kind: "queen" or "rook" contiguity, "knn" (the `k` nearest, not symmetric) or "distance"
    (centroids within `threshold_km`). Territories left without a neighbour get their
    `island_neighbours` nearest (0 leaves them alone). With `cache_dir`, the result is kept in
    `cache_dir/weights/` and read back while codes, boundaries and parameters are the same.
    """
    import shapely

    if hasattr(territories, "geometry"):
        frame: Any = territories
        if code_column not in frame.columns:
            columns = [str(c) for c in frame.columns if c != frame.geometry.name]
            raise SeguraError(f"the territories have no column {code_column!r} (they have {', '.join(columns)}); "
                              "pass the column of the territory codes as code_column=")
        codes = [str(c) for c in frame[code_column]]
        geoms = np.asarray(frame.geometry.values, dtype=object)
        crs = frame.crs if crs is None else crs
    else:
        pairs = list(territories)
        codes = [str(c) for c, _ in pairs]
        geoms = np.array([g for _, g in pairs], dtype=object)
        crs = WAREHOUSE_CRS if crs is None else crs
    _check_geometries(codes, geoms)
    return _weights(codes, list(shapely.to_wkb(geoms)), geoms, crs, _spec(kind, k, threshold_km, island_neighbours),
                    cache_dir)


def workspace_weights(
    con: duckdb.DuckDBPyConnection,
    level: str,
    kind: str = "queen",
    *,
    k: int = 4,
    threshold_km: float | None = None,
    island_neighbours: int = 1,
    cache_dir: Path | None = None,
) -> SpatialWeights:
    """Weights between the territories of `level` that have a boundary in the warehouse, ordered by
    code; `cache_dir` is the workspace's cache folder (files go to its `weights/`)."""
    spec = _spec(kind, k, threshold_km, island_neighbours)
    rows = con.execute(
        "SELECT code, ST_AsWKB(geometry) FROM territory WHERE level = ? AND geometry IS NOT NULL ORDER BY code",
        [level],
    ).fetchall()
    if not rows:
        levels = [r[0] for r in con.execute("SELECT DISTINCT level FROM territory WHERE geometry IS NOT NULL").fetchall()]
        raise SeguraError(f"no territory of level {level!r} has a boundary in the warehouse"
                          f"{_suggest(level, levels)}; import boundaries with `segura territory import`")
    codes = [str(c) for c, _ in rows]
    return _weights(codes, [bytes(w) for _, w in rows], None, WAREHOUSE_CRS, spec, cache_dir)


def _spec(kind: str, k: int, threshold_km: float | None, island_neighbours: int) -> dict[str, Any]:
    """The parameters that shape the weights of `kind` (and only those: they enter the cache key)."""
    if kind not in KINDS:
        raise SeguraError(f"unknown kind of spatial weights {kind!r}{_suggest(kind, KINDS)}; expected one of {', '.join(KINDS)}")
    if kind == "knn":
        if int(k) != k or k < 1:
            raise SeguraError(f"k must be a whole number of neighbours, at least 1 (got {k!r})")
        return {"kind": kind, "k": int(k)}
    if int(island_neighbours) != island_neighbours or island_neighbours < 0:
        raise SeguraError(f"island_neighbours must be a whole number, 0 or more (got {island_neighbours!r})")
    spec: dict[str, Any] = {"kind": kind, "island_neighbours": int(island_neighbours)}
    if kind == "distance":
        if threshold_km is None or not threshold_km > 0:
            raise SeguraError(f"distance weights need threshold_km, a distance in km above 0 (got {threshold_km!r})")
        spec["threshold_km"] = float(threshold_km)
    return spec


def _weights(codes: list[str], wkbs: list[bytes], geoms: np.ndarray | None, crs: Any, spec: dict[str, Any],
             cache_dir: Path | None) -> SpatialWeights:
    if len(set(codes)) != len(codes):
        twice = sorted(c for c, count in Counter(codes).items() if count > 1)
        raise SeguraError(f"territory codes appear more than once: {', '.join(twice[:10])}")
    if len(codes) < 2:
        raise SeguraError(f"spatial weights need at least two territories (got {len(codes)})")
    crs_text = _crs_text(crs)
    digest = hashlib.sha256(json.dumps({"format": FORMAT, "crs": crs_text, **spec}, sort_keys=True).encode())
    for code, wkb in zip(codes, wkbs, strict=True):
        digest.update(len(code).to_bytes(4, "little") + code.encode() + len(wkb).to_bytes(8, "little") + wkb)
    key = digest.hexdigest()
    if key in _MEMO:
        return _MEMO[key]
    path = cache_dir / "weights" / f"{key}.npz" if cache_dir is not None else None
    result = _read(path, codes, spec, key) if path is not None and path.exists() else None
    if result is None:
        import shapely

        shapes = geoms if geoms is not None else shapely.from_wkb(wkbs)
        matrix, islands = _compute(shapes, crs_text, spec)
        params = {k: v for k, v in spec.items() if k != "kind"}
        result = SpatialWeights(tuple(codes), matrix, spec["kind"], params, tuple(codes[i] for i in islands), key)
        if path is not None:
            _write(path, result)
    if len(_MEMO) > 32:
        _MEMO.clear()
    _MEMO[key] = result
    return result


def _compute(geoms: np.ndarray, crs: str | None, spec: dict[str, Any]) -> tuple[sparse.csr_array, list[int]]:
    """The binary matrix of `spec` between `geoms`, and the rows that had to be joined as islands."""
    kind = spec["kind"]
    if kind in ("queen", "rook"):
        import geopandas as gpd
        from libpysal.weights import Queen, Rook

        frame = gpd.GeoDataFrame(geometry=list(geoms))
        builder = Rook if kind == "rook" else Queen
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # libpysal warns about islands; they are joined below and reported
            w = builder.from_dataframe(frame, use_index=False, silence_warnings=True)
        matrix = _binary(w.sparse)
    elif kind == "knn":
        return _binary(_knn(_centroids(geoms), spec["k"], crs).sparse), []
    else:
        from libpysal.weights import DistanceBand

        radius, per_km = _scale(crs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = DistanceBand(_centroids(geoms), threshold=spec["threshold_km"] * per_km, binary=True, radius=radius,
                             silence_warnings=True)
        matrix = _binary(w.sparse)
    islands = [int(i) for i in np.flatnonzero(np.diff(matrix.indptr) == 0)]
    # libpysal's attach_islands does this with the one nearest neighbour only (and prints to stdout
    # when there is no island), so the joining is written here for any number of neighbours
    if islands and spec["island_neighbours"]:
        nearest = _binary(_knn(_centroids(geoms), spec["island_neighbours"], crs).sparse)
        rows, cols = [], []
        for i in islands:
            js = nearest.indices[nearest.indptr[i]:nearest.indptr[i + 1]]
            rows += [i] * len(js) + list(js)
            cols += list(js) + [i] * len(js)
        joins = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=matrix.shape)
        matrix = _binary(matrix + joins)
    return matrix, islands


def _knn(points: np.ndarray, k: int, crs: str | None) -> Any:
    from libpysal.weights import KNN

    if k >= len(points):
        raise SeguraError(f"{k} nearest neighbours asked of {len(points)} territories; ask for at most {len(points) - 1}")
    radius, _ = _scale(crs, need_units=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KNN(points, k=k, radius=radius)


def _centroids(geoms: np.ndarray) -> np.ndarray:
    """Centroids as (x, y) or (longitude, latitude); for lon/lat they are taken in degrees, which
    moves a municipality's centroid by metres, not kilometres."""
    import shapely

    return np.asarray(shapely.get_coordinates(shapely.centroid(geoms)))


def _scale(crs: str | None, *, need_units: bool = True) -> tuple[float | None, float]:
    """(sphere radius in km for lon/lat or None, CRS units per km) for distances in `crs`."""
    if crs is None:
        if need_units:
            raise SeguraError("the territories have no coordinate reference system, so a distance in km means nothing; "
                              "set one (EPSG:4326 for longitude/latitude)")
        return None, 1.0
    from pyproj import CRS

    ref = CRS.from_user_input(crs)
    if ref.is_geographic:
        return EARTH_RADIUS_KM, 1.0
    return None, 1000.0 / float(ref.axis_info[0].unit_conversion_factor)


def _crs_text(crs: Any) -> str | None:
    if crs is None:
        return None
    from pyproj import CRS

    ref = CRS.from_user_input(crs)
    return ref.to_string() if ref.to_epsg() is None else f"EPSG:{ref.to_epsg()}"


def _binary(matrix: Any) -> sparse.csr_array:
    out = sparse.csr_array(matrix, dtype=np.float64)
    out.setdiag(0)
    out.eliminate_zeros()
    out.data[:] = 1.0
    out.sort_indices()
    return out


def _check_geometries(codes: list[str], geoms: np.ndarray) -> None:
    import shapely

    bad = [c for c, g in zip(codes, geoms, strict=True) if g is None or shapely.is_empty(g)]
    if bad:
        raise SeguraError(f"{len(bad)} territories have no boundary: {', '.join(bad[:10])}; "
                          "drop them or import their boundaries")


def _write(path: Path, w: SpatialWeights) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{w.key}.tmp.npz")
    np.savez_compressed(tmp, indptr=w.matrix.indptr, indices=w.matrix.indices, ids=np.array(w.ids, dtype=str),
                        islands=np.array(w.islands, dtype=str), kind=np.array(w.kind),
                        params=np.array(json.dumps(w.params, sort_keys=True)))
    tmp.replace(path)


def _read(path: Path, codes: list[str], spec: dict[str, Any], key: str) -> SpatialWeights | None:
    """The weights saved for the same digest, or None when the file is not what it should be."""
    try:
        with np.load(path) as saved:
            ids = [str(c) for c in saved["ids"]]
            indptr, indices = saved["indptr"], saved["indices"]
            islands = tuple(str(c) for c in saved["islands"])
            params = json.loads(str(saved["params"]))
    except (OSError, KeyError, ValueError):
        return None  # a broken or foreign file: computed again and overwritten
    if ids != codes or len(indptr) != len(codes) + 1:
        return None
    matrix = sparse.csr_array((np.ones(len(indices)), indices, indptr), shape=(len(codes), len(codes)))
    return SpatialWeights(tuple(codes), matrix, spec["kind"], params, islands, key)


def _suggest(value: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
