"""Spatial weights: contiguity on planted grids and on Columbus, islands, distances, the cache."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import libpysal
import numpy as np
import pytest
from shapely.geometry import box

from segura import Workspace
from segura.errors import SeguraError
from segura.territorial import weights as weights_module
from segura.territorial.weights import build_weights, workspace_weights


def grid(side: int = 3, size: float = 1.0, x0: float = 0.0, y0: float = 0.0) -> list[tuple[str, object]]:
    """side x side touching squares, codes r<row>c<col>."""
    return [(f"r{r}c{c}", box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size))
            for r in range(side) for c in range(side)]


@pytest.fixture(autouse=True)
def no_memo() -> None:
    weights_module._MEMO.clear()  # each test sees what build_weights computes or reads from disk


def test_queen_and_rook_on_a_3x3_grid() -> None:
    queen, rook = build_weights(grid(), "queen"), build_weights(grid(), "rook")
    assert len(queen.neighbours("r1c1")) == 8
    assert sorted(rook.neighbours("r1c1")) == ["r0c1", "r1c0", "r1c2", "r2c1"]
    assert len(queen.neighbours("r0c0")) == 3 and len(rook.neighbours("r0c0")) == 2
    assert queen.cardinalities().sum() == 40 and rook.cardinalities().sum() == 24  # 20 and 12 shared borders/corners
    assert (queen.matrix != queen.matrix.T).nnz == 0
    assert queen.islands == () and queen.ids == tuple(c for c, _ in grid())


def test_columbus_queen_is_libpysal_and_the_shipped_gal() -> None:
    frame = gpd.read_file(libpysal.examples.get_path("columbus.shp"))
    w = build_weights(frame, "queen", code_column="POLYID")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = libpysal.weights.Queen.from_dataframe(frame, use_index=False)
        gal = libpysal.io.open(libpysal.examples.get_path("columbus.gal")).read()
    assert abs(w.matrix - reference.sparse).sum() == 0
    # columbus.gal (ids 1..49 = POLYID) is the queen file PySAL ships with the data
    for code in w.ids:
        assert sorted(w.neighbours(code), key=int) == sorted(gal.neighbors[code], key=int)
    assert w.matrix.nnz == 236  # spdep's poly2nb on the same file: "Number of nonzero links: 236"


def test_an_island_is_joined_to_its_nearest_and_reported() -> None:
    territories = [*grid(), ("far", box(5.0, 1.0, 6.0, 2.0))]  # nearest centroid: r1c2 (3.0 away)
    w = build_weights(territories, "queen")
    assert w.islands == ("far",)
    assert w.neighbours("far") == ["r1c2"]
    assert "far" in w.neighbours("r1c2")  # both ways: the island enters its neighbour's lag too
    two = build_weights(territories, "rook", island_neighbours=2)
    assert sorted(two.neighbours("far")) == ["r0c2", "r1c2"] or sorted(two.neighbours("far")) == ["r1c2", "r2c2"]
    alone = build_weights(territories, "queen", island_neighbours=0)
    assert alone.islands == ("far",) and alone.neighbours("far") == []


def test_knn_gives_every_territory_k_neighbours() -> None:
    w = build_weights(grid(4), "knn", k=3)
    assert set(w.cardinalities()) == {3}
    assert w.islands == () and w.params == {"k": 3}


def test_distance_band_in_km_on_longitude_latitude() -> None:
    # 1-degree squares at the equator: side neighbours 111.2 km apart, corner neighbours 157.3 km
    rook_like = build_weights(grid(3), "distance", threshold_km=120)
    queen_like = build_weights(grid(3), "distance", threshold_km=160)
    assert len(rook_like.neighbours("r1c1")) == 4 and len(queen_like.neighbours("r1c1")) == 8
    alone = build_weights(grid(3), "distance", threshold_km=100)
    assert set(alone.islands) == {c for c, _ in grid(3)}  # nobody within 100 km: all joined to their nearest
    assert all(alone.cardinalities() >= 1)


def test_distance_band_in_km_on_projected_metres() -> None:
    squares = grid(3, size=10_000.0, x0=500_000.0, y0=2_000_000.0)  # 10 km squares in UTM 14N
    frame = gpd.GeoDataFrame({"code": [c for c, _ in squares]}, geometry=[g for _, g in squares], crs="EPSG:32614")
    assert len(build_weights(frame, "distance", threshold_km=12).neighbours("r1c1")) == 4
    assert len(build_weights(frame, "distance", threshold_km=15).neighbours("r1c1")) == 8


def test_the_cache_returns_the_same_matrix_and_follows_the_geometry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_weights(grid(), "queen", cache_dir=tmp_path)
    files = list((tmp_path / "weights").glob("*.npz"))
    assert [f.name for f in files] == [f"{first.key}.npz"]

    weights_module._MEMO.clear()
    monkeypatch.setattr(weights_module, "_compute", lambda *a: pytest.fail("computed again instead of read"))
    again = build_weights(grid(), "queen", cache_dir=tmp_path)
    assert again.key == first.key and again.ids == first.ids and again.islands == first.islands
    assert (again.matrix != first.matrix).nnz == 0
    monkeypatch.undo()

    moved = [(c, box(9.0, 9.0, 10.0, 10.0) if c == "r0c0" else g) for c, g in grid()]  # r0c0 moves away
    changed = build_weights(moved, "queen", cache_dir=tmp_path)
    assert changed.key != first.key and changed.islands == ("r0c0",)
    assert len(list((tmp_path / "weights").glob("*.npz"))) == 2
    assert build_weights(grid(), "rook", cache_dir=tmp_path).key not in (first.key, changed.key)  # parameters too


def test_a_broken_cache_file_is_rebuilt(tmp_path: Path) -> None:
    first = build_weights(grid(), "queen", cache_dir=tmp_path)
    (tmp_path / "weights" / f"{first.key}.npz").write_bytes(b"not a numpy file")
    weights_module._MEMO.clear()
    again = build_weights(grid(), "queen", cache_dir=tmp_path)
    assert (again.matrix != first.matrix).nnz == 0


def test_workspace_weights_read_the_warehouse(ws: Workspace) -> None:
    # the fixture's six 0.1-degree squares: 0101-0102-0103 in a row, 0202-0203 touching, 0201 apart.
    # 0101's east side is at -84.2 + 0.1 = -84.10000000000001, not 0102's -84.1: libpysal's contiguity
    # (shared vertices, as for boundaries cut from one map) sees no contact, and the island rule
    # joins it to its nearest territory, which is the one it should touch.
    cache = ws.root / "cache"
    w = workspace_weights(ws.warehouse().con, "admin2", cache_dir=cache)
    assert w.ids == ("0101", "0102", "0103", "0201", "0202", "0203")
    assert w.islands == ("0101", "0201")
    assert w.neighbours("0201") == ["0202"] and w.neighbours("0101") == ["0102"]
    assert sorted(w.neighbours("0102")) == ["0101", "0103"]
    assert (cache / "weights" / f"{w.key}.npz").exists()
    with pytest.raises(SeguraError, match="did you mean 'admin2'"):
        workspace_weights(ws.warehouse().con, "admin3")


def test_to_w_is_a_fresh_binary_libpysal_w() -> None:
    w = build_weights(grid(), "rook")
    first = w.to_w()
    first.transform = "r"
    second = w.to_w()
    assert second.transform == "O" and second.id_order == list(w.ids)
    assert second.neighbors["r1c1"] == w.neighbours("r1c1")


@pytest.mark.parametrize(("call", "message"), [
    (lambda: build_weights(grid(), "qeen"), "did you mean 'queen'"),
    (lambda: build_weights(grid(), "distance"), "threshold_km"),
    (lambda: build_weights(grid(), "knn", k=0), "at least 1"),
    (lambda: build_weights(grid(), "knn", k=9), "at most 8"),
    (lambda: build_weights([*grid(), ("r0c0", box(7, 7, 8, 8))]), "more than once: r0c0"),
    (lambda: build_weights([("a", box(0, 0, 1, 1)), ("b", None)]), "no boundary: b"),
    (lambda: build_weights(gpd.GeoDataFrame({"cvegeo": ["a", "b"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)])),
     "they have cvegeo"),
])
def test_mistakes_are_named(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SeguraError, match=message):
        call()


def test_distance_needs_a_crs() -> None:
    frame = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=[box(0, 0, 1, 1), box(3, 0, 4, 1)])
    with pytest.raises(SeguraError, match="no coordinate reference system"):
        build_weights(frame, "distance", threshold_km=5)
    assert np.array_equal(build_weights(frame, "knn", k=1).cardinalities(), [1, 1])  # planar knn needs no unit
