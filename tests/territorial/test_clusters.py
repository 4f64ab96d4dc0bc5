"""Local clusters against esda on the same inputs, the published Columbus figures, and FDR control
on planted data."""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import box

from segura.errors import SeguraError
from segura.indicators.stats import eb_local
from segura.territorial.clusters import (
    COLUMNS,
    LocalClusters,
    getis_ord_gi_star,
    local_moran,
    warm_up,
)
from segura.territorial.weights import SpatialWeights, build_weights


@pytest.fixture(scope="module")
def columbus() -> tuple[np.ndarray, SpatialWeights, libpysal.weights.W]:
    """CRIME of the 49 Columbus neighbourhoods (Anselin 1988), our queen weights and libpysal's."""
    frame = gpd.read_file(libpysal.examples.get_path("columbus.shp"))  # shipped with libpysal: offline
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        queen = libpysal.weights.Queen.from_dataframe(frame, use_index=False)
    return frame["CRIME"].to_numpy(dtype=float), build_weights(frame, code_column="POLYID"), queen


def esda_moran(y: np.ndarray, w: libpysal.weights.W, seed: int) -> esda.Moran_Local:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # esda 2.9's notice about its default alternative
        return esda.Moran_Local(y, w, transformation="r", permutations=999, seed=seed)


def esda_gi_star(y: np.ndarray, w: libpysal.weights.W, seed: int) -> esda.G_Local:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return esda.G_Local(y, w, transform="B", star=True, permutations=999, seed=seed, n_jobs=1)


def grid(rows: int, cols: int) -> SpatialWeights:
    return build_weights([(f"r{r}c{c}", box(c, r, c + 1, r + 1)) for r in range(rows) for c in range(cols)], "queen")


# -- the same inputs as esda ----------------------------------------------------------------------


def test_local_moran_statistics_are_esdas(columbus) -> None:  # type: ignore[no-untyped-def]
    y, weights, queen = columbus
    ours = local_moran(y, weights, seed=7)
    ref = esda_moran(y, queen, seed=7)
    frame = ours.frame
    assert list(frame.columns) == list(COLUMNS) and frame["code"].tolist() == list(weights.ids)
    assert_allclose(frame["statistic"], ref.Is, rtol=1e-12)
    assert frame["quadrant"].tolist() == [{1: "HH", 2: "LH", 3: "LL", 4: "HL"}[q] for q in ref.q]
    # expectation and z under conditional randomisation (Sokal et al. 1998) for esda's scaling of
    # I_i; z is scale-free, so it is the z of spdep's localmoran (I_i = z_i lag_i / m2) as well
    n = len(y)
    assert_allclose(frame["expected"], ref.EIc * (n - 1) / n, rtol=1e-12)
    assert_allclose(frame["z"], (ref.Is * n / (n - 1) - ref.EIc) / np.sqrt(ref.VIc), rtol=1e-10)
    # the permutations are esda's: with the same seed, the very same pseudo p-values
    assert_allclose(frame["p_sim"], ref.p_sim)


def test_gi_star_statistics_are_esdas_and_ord_getis(columbus) -> None:  # type: ignore[no-untyped-def]
    y, weights, queen = columbus
    ours = getis_ord_gi_star(y, weights, seed=7).frame
    ref = esda_gi_star(y, queen, seed=7)
    assert_allclose(ours["statistic"], ref.Gs, rtol=1e-12)
    assert_allclose(ours["expected"], ref.EGs, rtol=1e-12)
    assert_allclose(ours["z"], ref.Zs, rtol=1e-12)
    assert_allclose(ours["p_sim"], ref.p_sim)
    # Ord and Getis (1995), eq. 8, written out: binary weights with w_ii = 1, s^2 = mean(x^2) - mean(x)^2
    n, x = len(y), y
    wstar = weights.matrix.toarray() + np.eye(n)
    w_i, s1_i = wstar.sum(1), (wstar**2).sum(1)
    s = np.sqrt((x**2).mean() - x.mean() ** 2)
    z = (wstar @ x - x.mean() * w_i) / (s * np.sqrt((n * s1_i - w_i**2) / (n - 1)))
    assert_allclose(ours["z"], z, rtol=1e-10)
    assert (ours["quadrant"] == np.where(z > 0, "hot", "cold")).all()


@pytest.mark.parametrize("method", ["moran", "gi"])
def test_pseudo_p_values_agree_with_esda_within_monte_carlo_error(method: str) -> None:
    """Different seeds draw different permutations: p-values can only agree statistically.

    With 999 permutations a pseudo p-value has a standard error of at most
    sqrt(0.25 / 999) = 0.016, so two independent draws differ by more than 0.05 (about 2.2
    standard errors of the difference) for a few percent of units at most, and only units
    near the cut-off can change side of p = 0.01.
    """
    weights = grid(20, 25)
    rng = np.random.default_rng(11)
    y = rng.gamma(2.0, size=weights.n)
    y[[weights.ids.index(f"r{r}c{c}") for r in range(5, 10) for c in range(5, 10)]] += 4  # some structure
    if method == "moran":
        ours = local_moran(y, weights, seed=1).frame["p_sim"].to_numpy()
        theirs = esda_moran(y, weights.to_w(), seed=2).p_sim
    else:
        ours = getis_ord_gi_star(y, weights, seed=1).frame["p_sim"].to_numpy()
        theirs = esda_gi_star(y, weights.to_w(), seed=2).p_sim
    gap = np.abs(ours - theirs)
    assert (gap < 0.05).mean() >= 0.97 and gap.max() < 0.1
    changed = (ours <= 0.01) != (theirs <= 0.01)
    assert changed.sum() <= 5
    assert np.all((ours[changed] < 0.03) & (theirs[changed] < 0.03))  # borderline only
    assert ((ours <= 0.01) & (theirs <= 0.01)).sum() >= 15  # and the clear ones are found by both


# -- the published Columbus figures ---------------------------------------------------------------


def test_columbus_global_moran_is_the_published_value(columbus) -> None:  # type: ignore[no-untyped-def]
    # CRIME, queen contiguity from columbus.shp, row-standardised: Moran's I 0.500188557,
    # expectation -0.020833333 (-1/48), variance under randomisation 0.008689289, standard
    # deviate 5.5894 (spdep moran.test on poly2nb; esda.Moran gives 0.5001885571828611 on the
    # same weights). Bivand, "R: Interoperability", ECTQG 2019 workshop, sources/s4b_py.md in
    # github.com/rsbivand/ectqg19-workshop. The shipped GAL file gives the same I.
    y, weights, _ = columbus
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = weights.to_w()
        w.transform = "r"
        moran = esda.Moran(y, w, permutations=0)
    assert_allclose(moran.I, 0.500188557, atol=5e-10)
    assert_allclose(moran.EI, -0.020833333, atol=5e-10)
    assert_allclose(moran.VI_rand, 0.008689289, atol=5e-10)
    assert_allclose(moran.z_rand, 5.5894, atol=5e-5)
    # the local statistics add up to the global one (Anselin 1995, eq. 6); the same source prints
    # sum(I_i) / S0 = 0.5001886 for spdep's I_i = z_i lag_i / m2, which is n / (n - 1) times esda's
    local = local_moran(y, weights).frame["statistic"]
    assert_allclose(local.sum() / (len(y) - 1), 0.500188557, atol=5e-10)


def test_columbus_local_clusters(columbus) -> None:  # type: ignore[no-untyped-def]
    """No source we found prints Columbus' LISA cluster counts, so these are esda 2.9's on the
    same weights at p <= 0.05 without FDR (GeoDa's default view), checked over several seeds:
    11 High-High, one of each outlier, and 6 to 8 Low-Low (its borderline units move with the seed).
    With FDR the map keeps the strongest High-High core and little else."""
    y, weights, _ = columbus
    for seed in (12345, 1, 2, 3):
        raw = local_moran(y, weights, seed=seed, fdr=False).counts()
        assert (raw["High-High"], raw["High-Low"], raw["Low-High"]) == (11, 1, 1), raw
        assert 6 <= raw["Low-Low"] <= 8, raw
        controlled = local_moran(y, weights, seed=seed).counts()
        assert 6 <= controlled["High-High"] <= 11 and controlled["High-Low"] == controlled["Low-High"] == 0
    hot = getis_ord_gi_star(y, weights, fdr=False).frame
    high_high = local_moran(y, weights, fdr=False).frame
    # every High-High core is a Gi* hot spot on the same data
    assert set(high_high.loc[high_high["cluster"] == "High-High", "code"]) <= set(hot.loc[hot["cluster"] == "Hot spot", "code"])


# -- false discovery rate on planted data ---------------------------------------------------------


def test_no_spatial_structure_gives_no_discovery() -> None:
    weights = grid(20, 25)  # 500 units
    rng = np.random.default_rng(3)
    y = rng.permutation(rng.gamma(2.0, size=weights.n))  # values scattered at random
    for result in (local_moran(y, weights), getis_ord_gi_star(y, weights)):
        assert result.frame["significant"].sum() <= 2
        # before the correction about 10% of 500 are "significant" at 0.05: the folded pseudo p-value
        # takes the nearer tail, half the two-sided one (esda's own note on alternative="directed")
        raw = (result.frame["p_sim"] <= 0.05).sum()
        assert 30 <= raw <= 75


def test_a_planted_hot_cluster_is_found() -> None:
    weights = grid(20, 25)
    rng = np.random.default_rng(5)
    y = rng.gamma(4.0, size=weights.n)
    block = [f"r{r}c{c}" for r in range(8, 13) for c in range(10, 15)]  # 5 x 5
    y[[weights.ids.index(code) for code in block]] += 8  # 4 standard deviations of the gamma(4) noise
    core = [f"r{r}c{c}" for r in range(9, 12) for c in range(11, 14)]

    def far(code: str) -> bool:  # more than one cell away from the block
        r, c = (int(part) for part in code[1:].split("c"))
        return not (7 <= r <= 13 and 9 <= c <= 15)

    moran = local_moran(y, weights).frame.set_index("code")
    gi = getis_ord_gi_star(y, weights).frame.set_index("code")
    assert (moran.loc[core, "cluster"] == "High-High").all() and (gi.loc[core, "cluster"] == "Hot spot").all()
    # a corner of the block has 3 of its 8 neighbours in it, an edge 5: they are found less surely
    assert (moran.loc[block, "cluster"] == "High-High").sum() >= 17
    assert (gi.loc[block, "cluster"] == "Hot spot").sum() >= 17
    found = [c for c in moran.index if moran.loc[c, "significant"] or gi.loc[c, "significant"]]
    assert not [c for c in found if far(c)]
    assert (gi.loc[block, "p_fdr"] >= gi.loc[block, "p_sim"]).all()  # BH only ever raises a p-value


# -- inputs and edge cases ------------------------------------------------------------------------


def test_a_series_is_aligned_by_code(columbus) -> None:  # type: ignore[no-untyped-def]
    y, weights, _ = columbus
    series = pd.Series(y, index=list(weights.ids)).iloc[::-1]  # reversed order
    assert_allclose(local_moran(series, weights).frame["statistic"], local_moran(y, weights).frame["statistic"])
    with pytest.raises(SeguraError, match="no value for 1 territories of the weights: 49"):
        local_moran(series.drop("49"), weights)


@pytest.mark.parametrize(("values", "message"), [
    (np.ones(3), "3 values for 49 territories"),
    (np.r_[np.nan, np.ones(48)], "1 territories have no value .*: 1;"),
])
def test_bad_values_are_named(columbus, values: np.ndarray, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SeguraError, match=message):
        local_moran(values, columbus[1])


def test_gi_star_refuses_negative_values(columbus) -> None:  # type: ignore[no-untyped-def]
    y, weights, _ = columbus
    with pytest.raises(SeguraError, match="values of 0 or more"):
        getis_ord_gi_star(y - y.mean(), weights)
    with pytest.raises(SeguraError, match="permutations must be"):
        local_moran(y, weights, permutations=0)


def test_a_flat_map_has_no_cluster(columbus) -> None:  # type: ignore[no-untyped-def]
    weights = columbus[1]
    for result in (local_moran(np.full(49, 3.0), weights), getis_ord_gi_star(np.zeros(49), weights)):
        assert not result.frame["significant"].any()
        assert (result.frame["cluster"] == "Not significant").all()


@pytest.mark.parametrize("statistic", [local_moran, getis_ord_gi_star])
def test_separate_groups_and_territories_without_neighbours(statistic) -> None:  # type: ignore[no-untyped-def]
    # two blocks that do not touch and a territory left alone: libpysal's warnings about them (errors
    # under this suite's settings) stay inside; the lone territory gets no p-value
    block = [(f"r{r}c{c}", box(c, r, c + 1, r + 1)) for r in range(4) for c in range(4)]
    other = [(f"s{r}c{c}", box(c + 10, r, c + 11, r + 1)) for r in range(2) for c in range(2)]
    weights = build_weights([*block, *other, ("far", box(20, 20, 21, 21))], "queen", island_neighbours=0)
    y = np.arange(weights.n, dtype=float)
    result = statistic(y, weights, fdr=False)
    assert result.isolated == ("far",)
    row = result.frame.set_index("code").loc["far"]
    assert np.isnan(row["p_sim"]) and not row["significant"] and row["cluster"] == "Not significant"
    assert result.frame["p_sim"].notna().sum() == weights.n - 1


def test_clusters_of_smoothed_rates(columbus) -> None:  # type: ignore[no-untyped-def]
    """The indicator engine's local EB rates feed the statistics (on the weights' own W)."""
    _, weights, _ = columbus
    rng = np.random.default_rng(2)
    population = rng.integers(500, 20_000, size=weights.n).astype(float)
    counts = rng.poisson(population * 2e-3).astype(float)
    rates = eb_local(counts, population, weights.to_w()) * 1e5
    result = local_moran(rates, weights)
    assert isinstance(result, LocalClusters) and np.isfinite(result.frame["statistic"]).all()


def test_warm_up_runs() -> None:
    warm_up()


def test_a_p_value_equal_to_alpha_is_significant(columbus) -> None:  # type: ignore[no-untyped-def]
    # esda hands back float32 pseudo p-values, where 50/1000 is 0.0500000007: still p <= 0.05
    y, weights, queen = columbus
    ref = esda_moran(y, queen, seed=16)  # a seed where a unit has p = 0.05 exactly
    ours = local_moran(y, weights, seed=16, fdr=False).frame
    at_alpha = np.isclose(ref.p_sim, 0.05)
    assert at_alpha.any()
    assert_allclose(ours["p_sim"] * 1000, np.round(ref.p_sim * 1000))
    assert (ours["significant"] == (np.round(ref.p_sim * 1000) <= 50)).all()
    assert ours.loc[at_alpha, "significant"].all()
