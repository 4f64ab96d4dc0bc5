"""Queen contiguity between the territories of a level, for locally smoothed rates (libpysal)."""

from __future__ import annotations

import warnings
from typing import Any

import duckdb


class Contiguity:
    """Territories of each level and their polygons; `get(codes)` gives a W in that order."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._cache: dict[tuple[str, ...], Any] = {}

    def get(self, codes: list[str]) -> Any:
        key = tuple(codes)
        if key not in self._cache:
            self._cache[key] = self._build(codes)
        return self._cache[key]

    def _build(self, codes: list[str]) -> Any:
        import geopandas as gpd
        import shapely
        from libpysal.weights import Queen

        rows = self._con.execute(
            "SELECT code, ST_AsWKB(geometry) FROM territory WHERE geometry IS NOT NULL AND list_contains(?, code)",
            [codes],
        ).fetchall()
        if len(rows) != len(codes):
            return None  # some territory has no polygon: no local smoothing
        geoms = dict((c, shapely.from_wkb(bytes(w))) for c, w in rows)
        frame = gpd.GeoDataFrame({"code": codes}, geometry=[geoms[c] for c in codes])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # islands are reported by libpysal as a warning; they keep their own rate
            w = Queen.from_dataframe(frame, ids=list(codes), use_index=False)
        w.id_order = list(codes)
        return w
