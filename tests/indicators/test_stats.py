"""Statistics against published reference values and independent implementations."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import test_poisson_2indep as poisson_2indep

from segura.indicators import stats


def test_poisson_interval_matches_the_published_exact_table() -> None:
    # Exact 95% limits for a Poisson count (Ulm 1990, Am J Epidemiol 131:373; also CDC/NCHS tables)
    table = {0: (0.0, 3.689), 1: (0.0253, 5.572), 2: (0.242, 7.225), 5: (1.624, 11.668),
             10: (4.795, 18.390), 20: (12.217, 30.889)}
    low, high = stats.poisson_interval(np.array(list(table)))
    assert_allclose(low, [v[0] for v in table.values()], atol=1e-3)  # the table prints 3-4 digits
    assert_allclose(high, [v[1] for v in table.values()], atol=5e-3)


def test_binomial_interval_is_clopper_pearson() -> None:
    x, n = np.array([0, 3, 50, 20]), np.array([10, 10, 100, 20])
    low, high = stats.binomial_interval(x, n)
    ref_low, ref_high = proportion_confint(x, n, alpha=0.05, method="beta")
    assert_allclose(low, ref_low, atol=1e-9)
    assert_allclose(high, ref_high, atol=1e-9)


def marshall_local(e: np.ndarray, b: np.ndarray, neighbours: list[list[int]]) -> np.ndarray:
    """Marshall (1991) local EB written out from the paper, for comparison with esda."""
    out = np.empty(len(e))
    for i, nb in enumerate(neighbours):
        idx = [i, *nb]
        m = e[idx].sum() / b[idx].sum()
        r = e[idx] / b[idx]
        var = (b[idx] * (r - m) ** 2).sum() / b[idx].sum() - m / b[idx].mean()
        var = max(var, 0.0)
        out[i] = m + (e[i] / b[i] - m) * (var / (var + m / b[i]))
    return out


def test_global_eb_agrees_with_esda_where_the_variance_is_positive() -> None:
    from esda.smoothing import Empirical_Bayes

    rng = np.random.default_rng(7)
    b = rng.integers(2_000, 200_000, 60).astype(float)
    true_rates = rng.gamma(2.0, 10 / 100_000 / 2.0, 60)
    e = rng.poisson(true_rates * b).astype(float)
    assert_allclose(stats.eb_global(e, b), Empirical_Bayes(e, b).r.ravel(), rtol=1e-12)


def test_global_eb_shrinks_fully_when_areas_do_not_differ() -> None:
    # identical underlying rates: the between-area variance estimate is negative and is set to 0
    b = np.array([1000.0, 2000.0, 4000.0, 8000.0])
    e = np.array([1.0, 2.0, 4.0, 8.0])
    assert_allclose(stats.eb_global(e, b), np.full(4, e.sum() / b.sum()))


def test_local_eb_is_marshalls_estimator() -> None:
    from libpysal.weights import W

    neighbours = [[1], [0, 2], [1, 3], [2, 4], [3]]
    e = np.array([2.0, 30.0, 5.0, 0.0, 12.0])
    b = np.array([1000.0, 50_000.0, 8_000.0, 3_000.0, 20_000.0])
    w = W({i: nb for i, nb in enumerate(neighbours)})
    w.id_order = list(range(5))
    assert_allclose(stats.eb_local(e, b, w), marshall_local(e, b, neighbours), rtol=1e-10)


@pytest.mark.parametrize(("k1", "e1", "k0", "e0"), [(30, 1e5, 18, 1e5), (5, 2e4, 15, 2.2e4), (0, 1e5, 7, 1e5)])
def test_change_test_is_the_exact_conditional_poisson_test(k1: int, e1: float, k0: int, e0: float) -> None:
    ours = stats.poisson_change_test(np.array([k1]), np.array([e1]), np.array([k0]), np.array([e0]))[0]
    reference = poisson_2indep(k1, e1, k0, e0, method="exact-cond").pvalue
    assert ours == pytest.approx(reference, rel=1e-9)


def test_share_change_test_is_fishers_exact_test() -> None:
    ours = stats.share_change_test(np.array([12]), np.array([40]), np.array([25]), np.array([45]))[0]
    assert ours == pytest.approx(sps.fisher_exact([[12, 28], [25, 20]]).pvalue)
