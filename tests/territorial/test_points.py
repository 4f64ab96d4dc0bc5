"""Geolocated incidents: assignment checked against the quadrant that the Mexico City police
recorded, kernel density and grid hot spots on planted patterns, and the Knox test against a
brute-force count of pairs, on planted near repeats, on pure chance and on Mexico City's shootings.

The incidents are real (`<repo>/../shared/data/cdmx`: SSP-CDMX via hoyodecrimen, GPL-3; see its
SOURCE.txt). Without that folder the tests that read it fail and name the missing path.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import lat2W
from numpy.testing import assert_allclose
from shapely.geometry import Point, box

from segura.errors import SeguraError
from segura.territorial.nearrepeat import knox, near_repeat_table
from segura.territorial.points import (
    BORDER,
    GRID_COLUMNS,
    INSIDE,
    MISSING,
    NEAREST,
    OUTSIDE,
    _queen_grid,
    assign,
    grid_hotspots,
    kernel_density,
)

CDMX = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cdmx"
UTM14N = "EPSG:32614"


def cdmx_file(name: str) -> Path:
    path = CDMX / name
    if not path.is_file():
        pytest.fail(f"Mexico City's data are not at {path} (../shared/data/cdmx relative to the repository)")
    return path


@pytest.fixture(scope="module")
def incidents() -> pd.DataFrame:
    return pd.read_csv(cdmx_file("crime-lat-long_2013_2016.csv.gz"))


@pytest.fixture(scope="module")
def homicides(incidents: pd.DataFrame) -> gpd.GeoDataFrame:
    """Every HOMICIDIO DOLOSO of 2013-2015 (3,066 incidents, 128 without coordinates)."""
    h = incidents[(incidents["crime"] == "HOMICIDIO DOLOSO") & incidents["year"].between(2013, 2015)]
    return gpd.GeoDataFrame(h, geometry=gpd.points_from_xy(h["long"], h["lat"]), crs="EPSG:4326")


@pytest.fixture(scope="module")
def quadrants() -> gpd.GeoDataFrame:
    return gpd.read_file(cdmx_file("cuadrantes_ssp_2014.shp"))


@pytest.fixture(scope="module")
def alcaldias() -> gpd.GeoDataFrame:
    return gpd.read_file(cdmx_file("cdmx_alcaldias_2016.geojson"))


# -- assignment: Mexico City ------------------------------------------------------------------


def test_homicides_fall_in_the_quadrant_the_police_recorded(homicides, quadrants) -> None:  # type: ignore[no-untyped-def]
    result = assign(homicides, quadrants, "id")
    counts = result.counts()
    assert sum(counts.values()) == len(homicides) == 3066
    assert counts[MISSING] == int(homicides["lat"].isna().sum()) == 128
    assert counts == {INSIDE: 2903, BORDER: 9, NEAREST: 0, MISSING: 128, OUTSIDE: 26}
    assert set(result.unassigned["reason"]) == {MISSING, OUTSIDE}
    assert (result.unassigned.loc[result.unassigned["reason"] == OUTSIDE, "distance_m"] > 0).all()

    # 82 recorded codes are not in the 2014 layer: 50 "(NO ESPECIFICADO)" and 32 in Cuauhtémoc
    # quadrants that the layer numbers otherwise (C-1.2.5 ... C-2.2.17 against C-1.4.1 ...)
    recorded = homicides["cuadrante"]
    comparable = recorded.isin(quadrants["id"]) & result.codes.notna()
    assert comparable.sum() == 2880
    agreement = (result.codes[comparable] == recorded[comparable]).mean()
    # Measured: 84.1% (2013: 90.6%, 2014: 81.7%, 2015: 81.4%). Not the > 95% one might expect:
    # quadrant boundaries run along street axes and incidents are geocoded to street addresses,
    # so a point often sits a few metres across the line in the neighbouring quadrant. The
    # distance from each point to the polygon of its recorded quadrant says so: within 50 m for
    # 95.2% of the points and within 100 m for 98.3%; the 1.7% beyond are real disagreements.
    assert 0.83 <= agreement <= 0.85
    metric = quadrants.to_crs(UTM14N).set_index("id").geometry
    located = homicides.to_crs(UTM14N).geometry[comparable]
    to_recorded = located.distance(gpd.GeoSeries(metric.loc[recorded[comparable]].to_numpy(), index=located.index,
                                                 crs=UTM14N))
    assert (to_recorded[result.codes[comparable] == recorded[comparable]] == 0).all()
    assert 0.95 <= (to_recorded <= 50).mean() <= 0.96
    assert (to_recorded <= 100).mean() >= 0.98


def test_homicides_fall_in_the_alcaldia_of_their_quadrant(homicides, quadrants, alcaldias) -> None:  # type: ignore[no-untyped-def]
    mapping = pd.read_csv(cdmx_file("cuadrante_sector_municipio.csv")).set_index("cuadrante")["cvegeo"]
    by_quadrant = assign(homicides, quadrants, "id").codes.map(mapping)
    by_alcaldia = assign(homicides, alcaldias, "cvegeo")
    # 21 points lie outside every borough: geocoded beyond the city's edge, like the 26 outside
    # every quadrant (the two layers do not share their outer boundary exactly)
    assert by_alcaldia.counts()[OUTSIDE] == 21
    both = by_quadrant.notna() & by_alcaldia.codes.notna()
    assert both.sum() == 2859  # 12 quadrants of the layer are not in the mapping (numbered otherwise)
    # Measured: 2,858 of 2,859 (99.97%); quadrants nest in boroughs (each has at least 99.1% of its
    # area in the borough the mapping gives). The other point lies on the border of a Coyoacán
    # quadrant (S-2.5.5) and a Tlalpan one, inside Tlalpan: the border rule gave the smaller code.
    assert (by_quadrant[both] == by_alcaldia.codes[both].astype(int)).mean() >= 0.995
    # Through the quadrant the police recorded rather than the one assigned: 98.5% (2,873 of 2,916).
    recorded = homicides["cuadrante"].map(mapping)
    both = recorded.notna() & by_alcaldia.codes.notna()
    assert 0.98 <= (recorded[both] == by_alcaldia.codes[both].astype(int)).mean() <= 0.99


def test_a_tolerance_gives_points_just_outside_to_the_nearest_quadrant(homicides, quadrants) -> None:  # type: ignore[no-untyped-def]
    result = assign(homicides, quadrants, "id", tolerance_m=50)
    assert result.counts()[NEAREST] == 15 and result.counts()[OUTSIDE] == 11  # of the 26 outside
    snapped = result.frame[result.frame["status"] == NEAREST]
    assert (snapped["distance_m"] <= 50).all() and snapped["code"].notna().all()


# -- assignment: the rules ------------------------------------------------------------------------


def squares(order: list[int] | None = None) -> gpd.GeoDataFrame:
    """Two unit squares sharing the edge x = 1 ("B" on the left, "A" on the right)."""
    frame = gpd.GeoDataFrame({"code": ["B", "A"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=UTM14N)
    return frame if order is None else frame.iloc[order].reset_index(drop=True)


def test_a_point_on_a_border_goes_to_the_smallest_code_whatever_the_order() -> None:
    points = gpd.GeoSeries([Point(1, 0.5), Point(0.5, 0.5), Point(1.5, 0.5)], crs=UTM14N)
    for order in ([0, 1], [1, 0]):
        result = assign(points, squares(order), "code")
        assert result.codes.tolist() == ["A", "B", "A"]
        assert result.frame["status"].tolist() == [BORDER, INSIDE, INSIDE]


def test_an_overlap_prefers_the_polygon_with_the_point_inside() -> None:
    # "A" spans both squares' edge; the point on B's boundary is in A's interior: it goes to A
    polygons = gpd.GeoDataFrame({"code": ["B", "A"]}, geometry=[box(0, 0, 1, 1), box(0.5, 0, 1.5, 1)], crs=UTM14N)
    assert assign(gpd.GeoSeries([Point(1, 0.5)], crs=UTM14N), polygons, "code").codes.tolist() == ["A"]
    # on B's edge x = 0 and outside A: B, even though A is the smaller code
    polygons = gpd.GeoDataFrame({"code": ["B", "A"]}, geometry=[box(0, 0, 1, 1), box(-1, 0, 0, 1)], crs=UTM14N)
    polygons.loc[1, "geometry"] = box(0.5, 0.2, 1.5, 0.4)  # A overlaps B but not the point (0, 0.5)
    assert assign(gpd.GeoSeries([Point(0, 0.5)], crs=UTM14N), polygons, "code").codes.tolist() == ["B"]


def test_points_without_coordinates_or_outside_are_named_with_their_reason() -> None:
    points = gpd.GeoSeries([Point(0.5, 0.5), None, Point(), Point(np.nan, np.nan), Point(5, 0.5)],
                           index=[10, 11, 12, 13, 14], crs=UTM14N)
    result = assign(points, squares(), "code")
    assert result.codes.index.tolist() == [10, 11, 12, 13, 14]
    assert result.unassigned["reason"].to_dict() == {11: MISSING, 12: MISSING, 13: MISSING, 14: OUTSIDE}
    assert result.unassigned.loc[14, "distance_m"] == pytest.approx(3.0)
    assert np.isnan(result.unassigned.loc[11, "distance_m"])
    assert assign(points, squares(), "code", tolerance_m=3).codes[14] == "A"


def test_points_are_reprojected_to_the_polygons_crs() -> None:
    polygons = gpd.GeoDataFrame({"code": [9015]}, geometry=[box(-99.2, 19.4, -99.1, 19.5)], crs="EPSG:4326")
    inside = gpd.GeoSeries([Point(-99.15, 19.45)], crs="EPSG:4326").to_crs(UTM14N)
    assert assign(inside, polygons, "code").codes.tolist() == [9015]


def test_a_wrong_code_column_is_named_with_a_suggestion() -> None:
    with pytest.raises(SeguraError, match="no column 'cod'.*did you mean 'code'"):
        assign(gpd.GeoSeries([Point(0.5, 0.5)], crs=UTM14N), squares(), "cod")
    with pytest.raises(SeguraError, match="points have no CRS"):
        assign(gpd.GeoSeries([Point(0.5, 0.5)]), squares(), "code")


# -- kernel density ---------------------------------------------------------------------------


def planted(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """600 points around (2000, 3000), 300 around (6000, 6000), 100 uniform on 8 km x 8 km."""
    rng = np.random.default_rng(seed)
    centres = np.array([[2000.0, 3000.0], [6000.0, 6000.0]])
    xy = np.vstack([rng.normal(centres[0], 150, (600, 2)), rng.normal(centres[1], 300, (300, 2)),
                    rng.uniform(0, 8000, (100, 2))])
    return xy, centres


def brute_density(xy: np.ndarray, at: np.ndarray, h: float) -> np.ndarray:
    """Quartic density at each of `at` summed over every point, per km² (no grid, no windows)."""
    d2 = ((at[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)
    k = np.where(d2 < h * h, 3 / (np.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0.0)
    return k.sum(axis=1) * 1e6


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_the_density_integrates_to_the_points_and_peaks_where_they_were_planted(kernel: str) -> None:
    xy, centres = planted()
    surface = kernel_density(xy, bandwidth_m=400, cell_m=50, kernel=kernel)
    # the default grid reaches every kernel's support: only the discretisation error is left
    assert surface.total() == pytest.approx(len(xy), rel=1e-3)
    assert surface.n_points == 1000 and surface.dropped == 0
    assert np.hypot(*(np.array(surface.peak()) - centres[0])) < 150  # the tighter, larger cluster


def test_the_density_is_the_sum_of_kernels_at_each_cell_centre() -> None:
    xy, _ = planted(2)
    surface = kernel_density(xy, bandwidth_m=300, cell_m=100, weights=None)
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, len(surface.y), 200), rng.integers(0, len(surface.x), 200)
    at = np.column_stack([surface.x[cols], surface.y[rows]])
    assert_allclose(surface.density[rows, cols], brute_density(xy, at, 300), rtol=1e-9, atol=1e-9)


def test_bounds_and_weights_and_missing_points() -> None:
    xy = np.array([[500.0, 500.0], [np.nan, 1.0], [500.0, 500.0]])
    surface = kernel_density(xy, bandwidth_m=200, cell_m=10, bounds=(0, 0, 1000, 500))
    assert surface.dropped == 1 and surface.density.shape == (50, 100)
    assert surface.total() == pytest.approx(1.0, rel=2e-3)  # the grid holds half of two discs
    weighted = kernel_density(xy[:1], bandwidth_m=200, cell_m=10, bounds=(0, 0, 1000, 500), weights=[2.0])
    assert_allclose(weighted.density, surface.density)
    with pytest.raises(SeguraError, match="unknown kernel"):
        kernel_density(xy, kernel="epanechnikov")


def test_the_density_of_mexico_city_homicides_is_in_utm_14n(homicides) -> None:  # type: ignore[no-untyped-def]
    surface = kernel_density(homicides, bandwidth_m=500, cell_m=100)
    assert surface.crs.to_epsg() == 32614
    assert surface.n_points == 2938 and surface.dropped == 128
    assert surface.total() == pytest.approx(2938, rel=1e-3)


# -- grid hot spots ---------------------------------------------------------------------------


def test_the_grid_queen_weights_are_libpysals() -> None:
    rows, cols = np.divmod(np.arange(35), 7)
    ours = _queen_grid(rows, cols, 7, 5, 1.0).matrix.toarray()
    w = lat2W(5, 7, rook=False)
    assert_allclose(ours, w.sparse.toarray())


def test_grid_hot_spots_find_a_planted_cluster_and_nothing_else() -> None:
    rng = np.random.default_rng(11)
    background = rng.uniform(0, 5000, (4000, 2))  # 10 a cell of 250 m on average
    cluster = rng.uniform([2000, 2000], [2500, 2500], (200, 2))  # 4 cells, +50 each
    result = grid_hotspots(np.vstack([background, cluster]), 250, bounds=(0, 0, 5000, 5000), seed=3)
    assert list(result.frame.columns) == list(GRID_COLUMNS)
    assert len(result.frame) == 400 and result.frame["count"].sum() == 4200 and result.dropped == 0
    hot = result.frame[result.frame["label"] == "Hot spot"]
    planted_cells = {(8, 8), (8, 9), (9, 8), (9, 9)}
    assert planted_cells <= set(zip(hot["row"], hot["col"], strict=True))
    # a hot spot is a planted cell or one of their queen neighbours, never farther (measured: 12,
    # the 4 planted cells and 8 of their 12 neighbours)
    assert hot["row"].between(7, 10).all() and hot["col"].between(7, 10).all()
    assert result.counts()["Cold spot"] == 0
    assert (hot["p_fdr"] <= 0.05).all() and (hot["z"] > 0).all()


def test_999_permutations_are_too_few_for_the_fdr_over_400_cells() -> None:
    # The same map: 5 cells reach p = 1/1000, and Benjamini-Hochberg keeps 5 of 400 only at
    # p <= 0.05 * 5 / 400 = 0.000625. Hence the grid's default of 9,999.
    rng = np.random.default_rng(11)
    xy = np.vstack([rng.uniform(0, 5000, (4000, 2)), rng.uniform([2000, 2000], [2500, 2500], (200, 2))])
    result = grid_hotspots(xy, 250, bounds=(0, 0, 5000, 5000), seed=3, permutations=999)
    assert result.counts()["Hot spot"] == 0 and (result.frame["p"] == 0.001).sum() >= 4


def test_grid_hot_spots_find_nothing_on_uniform_points_after_fdr() -> None:
    for seed in range(3):
        rng = np.random.default_rng(seed)
        result = grid_hotspots(rng.uniform(0, 5000, (4000, 2)), 250, bounds=(0, 0, 5000, 5000), seed=seed)
        assert result.counts() == {"Hot spot": 0, "Cold spot": 0, "Not significant": 400}
        assert (result.frame["p"] <= 0.05).sum() > 0  # chance findings before the correction, as expected


def test_empty_cells_are_not_cold_spots() -> None:
    """On sparse counts a block of empty cells ties with most draws: that is not significant.
    esda 2.9's pseudo p-value counts ties as extreme in the lower tail and puts such blocks at its
    floor; the grid's own permutation counts ties on both tails."""
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 5000, (60, 2))  # 0.15 a cell: six cells in seven are empty
    result = grid_hotspots(xy, 250, bounds=(0, 0, 5000, 5000), seed=4, permutations=999)
    assert result.counts()["Cold spot"] == 0
    rows, cols = result.frame["row"].to_numpy(), result.frame["col"].to_numpy()
    grid = _queen_grid(rows, cols, 20, 20, 250)
    count = result.frame["count"].to_numpy(float)
    empty_block = (count == 0) & (grid.matrix @ count == 0)  # the cell and its neighbours empty
    assert empty_block.sum() > 50 and result.frame.loc[empty_block, "p"].min() > 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        w = grid.to_w()
        theirs = esda.G_Local(count, w, transform="B", star=1.0, permutations=999,
                              seed=4, n_jobs=1, keep_simulations=False)
    assert (np.asarray(theirs.p_sim)[empty_block] <= 0.0011).all()  # esda's floor on every empty block


def test_the_grid_p_values_are_a_conditional_permutations() -> None:
    """Against a direct computation: for a few cells, shuffle the other cells' values and read
    the neighbours' sum, 20,000 times (an independent, slow Monte Carlo)."""
    rng = np.random.default_rng(8)
    xy = np.vstack([rng.uniform(0, 2000, (300, 2)), rng.normal(1000, 120, (40, 2))])
    result = grid_hotspots(xy, 250, bounds=(0, 0, 2000, 2000), seed=1, permutations=9999)
    y = result.frame["count"].to_numpy(float)
    matrix = _queen_grid(result.frame["row"].to_numpy(), result.frame["col"].to_numpy(), 8, 8, 250).matrix
    check = np.random.default_rng(2)
    for cell in (0, 27, 28, 36, 63):  # a corner, the planted centre, an edge...
        neighbours = matrix.indices[matrix.indptr[cell]:matrix.indptr[cell + 1]]
        others = np.delete(y, cell)
        sims = np.array([check.permutation(others)[: len(neighbours)].sum() for _ in range(20_000)])
        observed = y[neighbours].sum()
        direct = (min((sims >= observed).sum(), (sims <= observed).sum()) + 1) / (len(sims) + 1)
        se = np.sqrt(direct * (1 - direct) / len(sims)) + np.sqrt(direct * (1 - direct) / 9999)
        assert abs(result.frame["p"][cell] - direct) <= 4 * se + 1e-4, cell


def test_the_grid_z_is_ord_and_getis() -> None:
    rng = np.random.default_rng(5)
    result = grid_hotspots(rng.uniform(0, 1500, (200, 2)), 250, bounds=(0, 0, 1500, 1500), permutations=9)
    x = result.frame["count"].to_numpy(float)
    n = len(x)
    w = _queen_grid(result.frame["row"].to_numpy(), result.frame["col"].to_numpy(), 6, 6, 250).matrix.toarray()
    w += np.eye(n)  # Gi*: each cell its own neighbour
    mean, s = x.mean(), np.sqrt((x**2).mean() - x.mean() ** 2)
    wi, w2 = w.sum(axis=1), (w**2).sum(axis=1)
    z = (w @ x - mean * wi) / (s * np.sqrt((n * w2 - wi**2) / (n - 1)))  # Ord and Getis (1995), eq. 14
    assert_allclose(result.frame["z"], z, rtol=1e-9)


def test_grid_hot_spots_of_mexico_city_keep_to_the_city(homicides, alcaldias) -> None:  # type: ignore[no-untyped-def]
    result = grid_hotspots(homicides, 1000, area=alcaldias, seed=1)
    assert result.crs.to_epsg() == 32614
    squares_ = result.to_geodataframe()
    city = alcaldias.to_crs(UTM14N).union_all()
    assert squares_.intersects(city).all()
    assert result.frame["count"].sum() + result.dropped == len(homicides)
    hot = result.frame[result.frame["label"] == "Hot spot"]
    # measured: 36 hot spots (22 in Cuauhtémoc, 9 in Venustiano Carranza, 4 in Gustavo A. Madero,
    # 1 in Álvaro Obregón) holding 11.3 homicides a cell against 2.8 over the city's 1,051 cells
    assert len(hot) > 0 and hot["count"].mean() > 3 * result.frame["count"].mean()


# -- Knox -------------------------------------------------------------------------------------


def brute_pairs(xy: np.ndarray, t: np.ndarray, distance: float, days: float) -> tuple[int, int, int]:
    """Pairs close in space, in time and in both, from every pair's distance (O(n²))."""
    close_s = close_t = close_st = 0
    for start in range(0, len(t), 500):  # in blocks of rows to keep the memory small
        d = np.hypot(xy[start:start + 500, None, 0] - xy[None, :, 0], xy[start:start + 500, None, 1] - xy[None, :, 1])
        g = np.abs(t[start:start + 500, None] - t[None, :])
        upper = np.arange(start, start + len(d))[:, None] < np.arange(len(t))[None, :]
        s, tt = (d <= distance) & upper, (g <= days) & upper
        close_s += int(s.sum())
        close_t += int(tt.sum())
        close_st += int((s & tt).sum())
    return close_s, close_t, close_st


def near_repeat_data(seed: int, pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """1,000 events uniform on 10 km x 10 km and a year, plus `pairs` followers each within
    150 m and 7 days of a randomly chosen event (the near repeats)."""
    rng = np.random.default_rng(seed)
    xy, t = rng.uniform(0, 10_000, (1000, 2)), rng.integers(0, 365, 1000).astype(float)
    parent = rng.integers(0, 1000, pairs)
    angle, radius = rng.uniform(0, 2 * np.pi, pairs), 150 * np.sqrt(rng.uniform(0, 1, pairs))
    follower = xy[parent] + np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return np.vstack([xy, follower]), np.concatenate([t, t[parent] + rng.integers(0, 8, pairs)])


def test_knox_counts_pairs_as_a_brute_force_count_does() -> None:
    xy, t = near_repeat_data(5, 50)
    result = knox(xy, t, 200, 14, permutations=99, seed=1)
    assert (result.close_in_space, result.close_in_time, result.observed) == brute_pairs(xy, t, 200, 14)
    assert result.pairs == len(t) * (len(t) - 1) // 2
    assert result.expected == pytest.approx(result.close_in_space * result.close_in_time / result.pairs)


def test_knox_finds_planted_near_repeats() -> None:
    xy, t = near_repeat_data(7, 100)
    result = knox(xy, t, 200, 14, permutations=999, seed=2)
    assert result.ratio > 2 and result.p_value == pytest.approx(0.001)


def test_knox_finds_nothing_on_pure_chance() -> None:
    xy, t = near_repeat_data(0, 0)
    result = knox(xy, t, 200, 14, permutations=999, seed=0)
    assert result.p_value > 0.1  # measured 0.40
    # the permutations' mean is the exact expectation, within three standard errors of it
    spread = np.sqrt(result.expected)  # the count is close to Poisson: variance about its mean
    assert abs(result.simulated_mean - result.expected) < 3 * spread / np.sqrt(result.permutations)


def test_dates_and_day_numbers_give_the_same_test() -> None:
    xy, t = near_repeat_data(3, 30)
    dates = pd.Timestamp("2015-01-01") + pd.to_timedelta(t, unit="D")
    by_number = knox(xy, t, 200, 14, permutations=99, seed=4)
    by_date = knox(xy, dates, 200, 14, permutations=99, seed=4)
    assert by_number == by_date


def test_the_near_repeat_table_matches_a_brute_force_count() -> None:
    xy, t = near_repeat_data(9, 40)
    xy[5] = xy[6]  # one pair at the same location
    table = near_repeat_table(xy, t, [0, 100, 200, 400], [0, 7, 14, 28], permutations=99, seed=1)
    n = len(t)
    i, j = np.triu_indices(n, 1)
    d, g = np.hypot(*(xy[i] - xy[j]).T), np.abs(t[i] - t[j])
    drow = np.select([d == 0, d <= 100, d <= 200, d <= 400], [0, 1, 2, 3], 4)
    tcol = np.select([g <= 7, g <= 14, g <= 28], [0, 1, 2], 3)
    brute = np.zeros((5, 4), int)
    np.add.at(brute, (drow, tcol), 1)
    assert_allclose(table.pivot("observed").to_numpy(), brute)
    expected = np.outer(brute.sum(axis=1), brute.sum(axis=0)) / len(i)
    assert_allclose(table.pivot("expected").to_numpy(), expected)
    assert table.pivot().index.tolist() == ["same location", "0 to 100 m", "100 to 200 m", "200 to 400 m",
                                            "more than 400 m"]
    assert table.pivot().columns.tolist() == ["0 to 7 days", "7 to 14 days", "14 to 28 days", "more than 28 days"]
    # the planted followers are within 150 m and 7 days: that cell stands out
    assert table.pivot().loc["100 to 200 m", "0 to 7 days"] > 2


def test_knox_rejects_bad_input() -> None:
    with pytest.raises(SeguraError, match="one time per point"):
        knox(np.zeros((3, 2)), [1.0, 2.0], 100, 7)
    with pytest.raises(SeguraError, match="edges must start at 0"):
        near_repeat_table(np.zeros((3, 2)), [1, 2, 3], [100, 200], [0, 7])
    with pytest.raises(SeguraError, match="projected CRS in metres"):
        knox(gpd.GeoSeries([Point(-99.1, 19.4)] * 3, crs="EPSG:4326"), [1, 2, 3], 100, 7, crs="EPSG:4326")


def test_knox_on_mexico_city_shootings(incidents) -> None:  # type: ignore[no-untyped-def]
    """Near-repeat shootings are documented (Ratcliffe and Rengert 2008, Philadelphia: more
    shootings than chance within about 400 m and two weeks of one another). Mexico City's firearm
    injuries of 2013 show them. 2013 because from 2014 on 13% of these events share their exact
    coordinates with another of the same year (hospitals where the injured were taken, such as
    19.42417, -99.11565 with 37 events in 2014): those points make same-place pairs that are not
    the place of the shooting. Pooling 2013-2016 also shows a ratio above 1 (1.38, p 0.001; 1.56
    with shared coordinates dropped), but a pooled Knox test also reads changes between years in
    where events are recorded as interaction, so the year is the honest unit."""
    shot = incidents[(incidents["crime"] == "LESIONES POR ARMA DE FUEGO") & (incidents["year"] == 2013)]
    shot = shot.dropna(subset=["lat"])
    points = gpd.GeoSeries(gpd.points_from_xy(shot["long"], shot["lat"]), crs="EPSG:4326")
    assert points.duplicated().mean() < 0.01  # no hospital geocodes that year
    result = knox(points, shot["date"], 200, 14, permutations=999, seed=1)
    xy = points.to_crs(UTM14N).get_coordinates().to_numpy()
    days = (pd.to_datetime(shot["date"]) - pd.Timestamp("2013-01-01")).dt.days.to_numpy(dtype=float)
    assert (result.close_in_space, result.close_in_time, result.observed) == brute_pairs(xy, days, 200, 14)
    assert result.n == 716 and result.observed == 45 and result.expected == pytest.approx(19.6, abs=0.05)
    # measured: ratio 2.30, no permutation of 999 reached 45 pairs (p = 1/1000)
    assert result.ratio > 2 and result.p_value <= 0.01


def test_the_brute_force_count_agrees_on_every_shooting(incidents) -> None:  # type: ignore[no-untyped-def]
    shot = incidents[incidents["crime"] == "LESIONES POR ARMA DE FUEGO"]
    points = gpd.GeoSeries(gpd.points_from_xy(shot["long"], shot["lat"]), crs="EPSG:4326")
    result = knox(points, shot["date"], 200, 14, permutations=9, seed=1)
    assert result.dropped == int(shot["lat"].isna().sum()) and result.n == 4448
    located = shot["lat"].notna().to_numpy()
    xy = points[located].to_crs(UTM14N).get_coordinates().to_numpy()
    days = (pd.to_datetime(shot["date"][located]) - pd.Timestamp("2013-01-01")).dt.days.to_numpy(dtype=float)
    assert (result.close_in_space, result.close_in_time, result.observed) == brute_pairs(xy, days, 200, 14)
    assert result.expected == pytest.approx(2261.66, abs=0.01)
