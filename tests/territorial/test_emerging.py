"""Emerging hot spots: planted patterns for every category, Gi* against esda and a brute-force
space-time computation, Mann-Kendall against a hand-worked example and SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from libpysal.weights import lat2W
from numpy.testing import assert_allclose
from scipy import sparse
from scipy import stats as sps

from segura.territorial.emerging import (
    CATEGORIES,
    CATEGORY_LABELS,
    CubeError,
    emerging_hot_spots,
    gi_star,
    mann_kendall,
)

SIDE, PERIODS = 7, 20
UNITS = [f"u{i:02d}" for i in range(SIDE * SIDE)]
CENTRE = 3 * SIDE + 3
BLOCK = [r * SIDE + c for r in (2, 3, 4) for c in (2, 3, 4)]  # the centre and its queen neighbours


def queen_grid() -> sparse.csr_array:
    w = lat2W(SIDE, SIDE, rook=False)
    w.transform = "B"
    return sparse.csr_array(w.sparse)


def planted(levels: list[float], seed: int = 0) -> np.ndarray:
    """Background 10 + N(0, 0.3); the 3x3 block around the centre adds 3 x level each period."""
    rng = np.random.default_rng(seed)
    x = 10 + 0.3 * rng.standard_normal((SIDE * SIDE, len(levels)))
    x[BLOCK] += 3.0 * np.asarray(levels)[None, :]
    return x


def trace(levels: list[float]) -> str:
    """The planted status of each period: + hot, - cold, . neither."""
    return "".join("+" if v > 0 else "-" if v < 0 else "." for v in levels)


# Textbook trajectories of the centre cluster, hot side (cold twins are the same with the sign
# reversed), each as ArcGIS Pro's definitions describe them; 20 periods.
HOT_PATTERNS: dict[str, list[float]] = {
    "new": [0] * 19 + [1],  # hot only in the final period
    "consecutive": [0] * 16 + [1] * 4,  # a final run of 4, never hot before, < 90%
    "intensifying": list(np.linspace(1.5, 3.0, 20)),  # always hot, ever hotter
    "persistent": [1] * 20,  # always hot, no trend
    "diminishing": list(np.linspace(3.0, 1.5, 20)),  # always hot, ever less so
    "sporadic": [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],  # on and off, hot now
    "oscillating": [0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1],  # was cold
    "historical": list(np.linspace(3.0, 1.5, 18)) + [0, 0],  # 90% hot, fading, not hot now
}
CASES = [
    (f"{pattern}_{side}_spot", [sign * v for v in levels])
    for pattern, levels in HOT_PATTERNS.items()
    for side, sign in (("hot", 1), ("cold", -1))
]
# Hot for periods 3-8 only: less than 90% and not hot at the end. ArcGIS Pro's sporadic needs the
# final period hot, so this is no pattern; sfdep's sporadic_hotspot does not ask for it.
NO_PATTERN_LEVELS = [0.0] * 3 + [1.0] * 6 + [0.0] * 11
# sfdep's intensifying_hotspot counts significant bins of either sign (sum(sigs) / n >= .9) and
# is checked first, so a significantly diminishing cold spot comes out as an intensifying hot spot.
SFDEP_DEPARTURES = {
    "diminishing_cold_spot": "intensifying_hot_spot",
    "no_pattern": "sporadic_hot_spot",
}


@pytest.mark.parametrize("rules", ["arcgis", "sfdep"])
@pytest.mark.parametrize(
    ("category", "levels"),
    [*CASES, ("no_pattern", NO_PATTERN_LEVELS)],
    ids=[c for c, _ in CASES] + ["no_pattern"],
)
def test_planted_pattern_gives_its_category(category: str, levels: list[float], rules: str) -> None:
    result = emerging_hot_spots(planted(levels), UNITS, queen_grid(), time_window=0, rules=rules)
    bins = result.bins[result.bins.unit == UNITS[CENTRE]]
    got = "".join({"hot": "+", "cold": "-", "not_significant": "."}[s] for s in bins.status)
    assert got == trace(levels)  # the planted bins are what the Gi* finds
    expected = SFDEP_DEPARTURES.get(category, category) if rules == "sfdep" else category
    row = result.units.set_index("unit").loc[UNITS[CENTRE]]
    assert row.category == expected
    assert (row.n_hot, row.n_cold) == (got.count("+"), got.count("-"))
    assert row.last_status == {"+": "hot", "-": "cold", ".": "not_significant"}[got[-1]]


def test_default_settings_find_persistent_and_new_hot_spots() -> None:
    # time window 1, entire cube, FDR: ArcGIS's defaults
    units = UNITS
    persistent = emerging_hot_spots(planted([1.0] * PERIODS), units, queen_grid()).units
    assert persistent.set_index("unit").category[UNITS[CENTRE]] == "persistent_hot_spot"
    new = emerging_hot_spots(planted([0.0] * (PERIODS - 1) + [2.0]), units, queen_grid()).units
    assert new.set_index("unit").category[UNITS[CENTRE]] == "new_hot_spot"


def test_no_signal_gives_no_pattern() -> None:
    counts = np.random.default_rng(7).poisson(20, size=(SIDE * SIDE, 24))
    with_fdr = emerging_hot_spots(counts, UNITS, queen_grid()).units
    assert (with_fdr.category == "no_pattern").all()
    # without the correction about alpha of the final bins are significant by chance
    raw = emerging_hot_spots(counts, UNITS, queen_grid(), fdr=False).units
    assert (raw.category == "no_pattern").mean() >= 0.9


def test_permutation_p_values_find_the_planted_cluster() -> None:
    values = planted([1.0] * PERIODS)
    result = emerging_hot_spots(
        values, UNITS, queen_grid(), time_window=0, permutations=199, seed=1, fdr=False
    )
    assert result.units.set_index("unit").category[UNITS[CENTRE]] == "persistent_hot_spot"
    p = result.bins.gi_p.to_numpy()
    assert p.min() >= 2 / 200 and p.max() <= 1.0
    assert (result.bins[result.bins.unit == UNITS[CENTRE]].gi_p == 2 / 200).all()


@pytest.mark.parametrize(
    "global_window", ["entire_cube", "neighborhood_time_step", "individual_time_step"]
)
def test_permutation_p_agrees_with_a_direct_conditional_permutation(global_window: str) -> None:
    # Independent Monte Carlo for a few bins: keep the bin, draw its other neighbours from the
    # rest of its global window, written with rng.choice; p-values agree within sampling error.
    side, periods, k = 4, 5, 1
    w = lat2W(side, side, rook=True)
    w.transform = "B"
    n = side * side
    values = np.random.default_rng(3).poisson(5, size=(n, periods)).astype(float)
    values[[5, 6, 9, 10], 3:] += 6  # a cluster, so that some p-values are small
    result = emerging_hot_spots(
        values, list(range(n)), w.sparse, time_window=k, global_window=global_window,
        permutations=1999, seed=2, fdr=False,
    )  # fmt: skip
    ours = result.bins.gi_p.to_numpy().reshape(n, periods)
    rng = np.random.default_rng(9)
    for i, t in [(5, 4), (10, 3), (0, 2), (15, 4), (6, 0)]:
        t0 = {"entire_cube": 0, "individual_time_step": t}.get(global_window, max(0, t - k))
        t1 = {"entire_cube": periods - 1}.get(global_window, t)
        window = [(j, s) for j in range(n) for s in range(t0, t1 + 1) if (j, s) != (i, t)]
        hood = [(j, s) for j in [i, *w.neighbors[i]] for s in range(max(0, t - k), t + 1)]
        observed = sum(values[j, s] for j, s in hood) - values[i, t]
        pool = np.array([values[j, s] for j, s in window])
        null = np.array(
            [pool[rng.choice(len(pool), len(hood) - 1, replace=False)].sum() for _ in range(1999)]
        )
        direct = min(1.0, 2 * (min((null >= observed).sum(), (null <= observed).sum()) + 1) / 2000)
        assert abs(ours[i, t] - direct) < 0.05 + 0.15 * direct, (i, t, ours[i, t], direct)


# --------------------------------------------------------------------------- Gi*


def test_gi_star_of_one_period_equals_esda_g_local_star() -> None:
    from esda.getisord import G_Local

    w = lat2W(SIDE, SIDE, rook=False)
    w.transform = "B"
    values = np.random.default_rng(5).gamma(2.0, 3.0, size=(SIDE * SIDE, 4))
    values[BLOCK, 2] += 8
    for window in ("individual_time_step", "neighborhood_time_step"):
        z = gi_star(values, w.sparse, time_window=0, global_window=window)
        for t in range(values.shape[1]):
            reference = G_Local(values[:, t], w, transform="B", star=True, permutations=0)
            assert_allclose(z[:, t], reference.Zs, rtol=1e-10, atol=1e-12)


def brute_force_gi_star(
    values: np.ndarray, neighbours: dict[int, list[int]], k: int, window: str
) -> np.ndarray:
    """Ord and Getis (1995) Gi* bin by bin, the neighbourhood and the global window as sets."""
    n, periods = values.shape
    z = np.zeros_like(values)
    for t in range(periods):
        t0 = {"entire_cube": 0, "individual_time_step": t}.get(window, max(0, t - k))
        t1 = periods - 1 if window == "entire_cube" else t
        population = values[:, t0 : t1 + 1].ravel()
        size_n, mean, sd = population.size, population.mean(), population.std()
        for i in range(n):
            hood = [values[j, s] for j in [i, *neighbours[i]] for s in range(max(0, t - k), t + 1)]
            size = len(hood)
            z[i, t] = (sum(hood) - mean * size) / (
                sd * np.sqrt((size_n * size - size**2) / (size_n - 1))
            )
    return z


@pytest.mark.parametrize(
    "window", ["entire_cube", "neighborhood_time_step", "individual_time_step"]
)
@pytest.mark.parametrize("k", [1, 2])
def test_space_time_gi_star_equals_a_brute_force_computation(window: str, k: int) -> None:
    w = lat2W(5, 4, rook=True)  # 20 units, not square
    w.transform = "B"
    values = np.random.default_rng(11).poisson(8, size=(20, 7)).astype(float)
    z = gi_star(values, w.sparse, time_window=k, global_window=window)
    assert_allclose(z, brute_force_gi_star(values, w.neighbors, k, window), rtol=1e-10, atol=1e-12)


def test_an_island_is_its_own_neighbourhood() -> None:
    dense = queen_grid().toarray()
    dense[CENTRE, :] = dense[:, CENTRE] = 0
    values = planted([1.0] * 5)
    z = gi_star(
        values, sparse.csr_array(dense), time_window=0, global_window="individual_time_step"
    )
    # a neighbourhood of one bin: Gi* is the bin's standard score, (x - mean) / sd
    expected = (values[CENTRE] - values.mean(axis=0)) / values.std(axis=0)
    assert_allclose(z[CENTRE], expected, rtol=1e-10)


# --------------------------------------------------------------------------- Mann-Kendall


def test_mann_kendall_hand_worked_example_with_ties() -> None:
    # x = 1, 2, 2, 3: pairs (1,2)+ (1,2)+ (1,3)+ (2,2)0 (2,3)+ (2,3)+ so S = 5; one tie of 2:
    # Var(S) = [4*3*13 - 2*1*9] / 18 = 138/18; Z = (5 - 1) / sqrt(138/18) = 1.44463;
    # p = 2 (1 - Phi(1.44463)) = 0.14856; tau-b = 5 / sqrt((6 - 1) * 6) = 0.91287.
    mk = mann_kendall([1, 2, 2, 3])
    assert mk.s[0] == 5
    assert_allclose(mk.var_s[0], 138 / 18)
    assert_allclose(mk.z[0], 1.44463, atol=1e-5)
    assert_allclose(mk.p[0], 0.14856, atol=1e-5)
    assert_allclose(mk.tau[0], 0.91287, atol=1e-5)


def test_mann_kendall_agrees_with_scipy_kendalltau_against_time() -> None:
    rng = np.random.default_rng(13)
    series = np.vstack([
        rng.normal(size=30).cumsum(),  # no ties
        np.round(rng.normal(size=30).cumsum()),  # many ties
        rng.integers(0, 4, size=30).astype(float),  # ties only
    ])  # fmt: skip
    plain = mann_kendall(series, continuity=False)
    corrected = mann_kendall(series)
    time = np.arange(series.shape[1])
    for row, x in enumerate(series):
        reference = sps.kendalltau(time, x, method="asymptotic")
        assert_allclose(plain.tau[row], reference.statistic, rtol=1e-12)
        # time has no ties, so SciPy's variance is the Mann-Kendall tie-corrected one
        assert_allclose(plain.p[row], reference.pvalue, rtol=1e-10)
        assert_allclose(corrected.tau[row], reference.statistic, rtol=1e-12)
        assert corrected.p[row] > plain.p[row]  # the continuity correction is conservative


def test_mann_kendall_of_a_constant_series_has_no_trend() -> None:
    mk = mann_kendall(np.zeros((2, 10)))
    assert (mk.p == 1.0).all() and (mk.z == 0).all() and np.isnan(mk.tau).all()


# --------------------------------------------------------------------------- the tables and errors


def test_tables_and_method_record() -> None:
    periods = [f"2024-{m:02d}" for m in range(1, 13)]
    result = emerging_hot_spots(planted([1.0] * 12), UNITS, queen_grid(), periods=periods)
    assert list(result.units.columns) == [
        "unit", "category", "n_hot", "n_cold", "last_status", "mk_tau", "mk_z", "mk_p",
    ]  # fmt: skip
    assert list(result.units.unit) == UNITS
    assert list(result.bins.columns) == ["unit", "period", "value", "gi_z", "gi_p", "status"]
    assert len(result.bins) == len(UNITS) * 12
    assert list(result.bins.period[:12]) == periods
    assert result.method == {
        "time_window": 1, "global_window": "entire_cube", "alpha": 0.05, "fdr": True,
        "permutations": 0, "seed": None, "rules": "arcgis",
    }  # fmt: skip
    assert set(CATEGORY_LABELS) == set(CATEGORIES) and len(CATEGORIES) == 17
    assert CATEGORY_LABELS["intensifying_cold_spot"] == {
        "en": "intensifying cold spot", "es": "punto frío en aumento",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"values": np.full((49, 5), np.nan)}, "finite"),
        ({"values": np.ones((49, 5, 2))}, "units x periods"),
        ({"weights": queen_grid() * 0.5}, "binary"),
        ({"weights": sparse.eye_array(10)}, "49 units"),
        ({"units": UNITS[:-1]}, "48 unit ids"),
        ({"global_window": "cube"}, "global_window"),
        ({"time_window": -1}, "time_window"),
        ({"values": np.ones((49, 2))}, "at least 3 periods"),
    ],
)
def test_bad_input_is_refused_with_what_to_do(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "values": planted([1.0] * 5),
        "units": UNITS,
        "weights": queen_grid(),
    }
    arguments.update(change)
    with pytest.raises(CubeError, match=message):
        emerging_hot_spots(**arguments)  # type: ignore[arg-type]
