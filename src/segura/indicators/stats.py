"""Statistics behind each published figure: intervals, smoothed rates, tests of change.

- Exact Poisson interval for a count (Garwood 1936), through the chi-square quantiles.
- Exact binomial (Clopper-Pearson) interval for a share.
- Empirical Bayes smoothing of small-area rates (Marshall 1991): global, towards the mean of
  all areas, and local, towards the mean of each area and its neighbours (esda's estimator).
- Change between two periods: the exact conditional test for two Poisson rates (the count of
  the later period given the sum is binomial with p = its share of the exposure), and
  Fisher's exact test for two shares.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

ALPHA = 0.05


def poisson_interval(counts: np.ndarray, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) 1 - alpha interval for Poisson counts: [chi2(a/2, 2k)/2, chi2(1-a/2, 2k+2)/2]."""
    k = np.asarray(counts, dtype=float)
    low = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * k) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return low, high


def binomial_interval(successes: np.ndarray, trials: np.ndarray, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson 1 - alpha interval for proportions (NaN where there are no trials)."""
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x > 0, stats.beta.ppf(alpha / 2, x, n - x + 1), 0.0)
        high = np.where(x < n, stats.beta.ppf(1 - alpha / 2, x + 1, n - x), 1.0)
    bad = n <= 0
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def eb_global(counts: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Marshall's (1991) global empirical Bayes rates.

    Written here rather than taken from esda.smoothing.Empirical_Bayes because that estimator
    does not truncate a negative between-area variance at zero, as Marshall prescribes: with
    little variation between areas its weights turn negative and the "smoothed" rates move
    away from the mean. Where the variance is positive the two agree (a test says so).
    """
    e = np.asarray(counts, dtype=float)
    b = np.asarray(population, dtype=float)
    ok = b > 0
    out = np.full(e.shape, np.nan)
    if ok.sum() == 0:
        return out
    e_ok, b_ok = e[ok], b[ok]
    mean = e_ok.sum() / b_ok.sum()
    rate = e_ok / b_ok
    variance = (b_ok * (rate - mean) ** 2).sum() / b_ok.sum() - mean / b_ok.mean()
    variance = max(variance, 0.0)
    weight = variance / (variance + mean / b_ok) if variance + mean > 0 else np.zeros_like(b_ok)
    out[ok] = weight * rate + (1 - weight) * mean
    return out


def eb_local(counts: np.ndarray, population: np.ndarray, weights: object) -> np.ndarray:
    """Marshall's local empirical Bayes rates: each area shrunk towards its neighbourhood (esda)."""
    from esda.smoothing import Spatial_Empirical_Bayes

    e = np.asarray(counts, dtype=float)
    b = np.asarray(population, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.asarray(Spatial_Empirical_Bayes(e, b, weights).r, dtype=float).ravel()
    # a neighbourhood with no event at all has mean 0 and esda returns 0/0: its smoothed rate is 0
    return np.where(np.isnan(r) & (e == 0), 0.0, r)


def poisson_change_test(k1: np.ndarray, e1: np.ndarray, k0: np.ndarray, e0: np.ndarray) -> np.ndarray:
    """Two-sided p-values of the exact conditional test that two Poisson rates are equal.

    Given k1 + k0 events, k1 is binomial with p = e1 / (e1 + e0) when the rates are equal.
    NaN where an exposure is missing or there are no events at all.
    """
    k1, k0 = np.asarray(k1, dtype=float), np.asarray(k0, dtype=float)
    e1, e0 = np.asarray(e1, dtype=float), np.asarray(e0, dtype=float)
    out = np.full(k1.shape, np.nan)
    for i in range(k1.size):
        n = k1[i] + k0[i]
        if not (np.isfinite(n) and e1[i] > 0 and e0[i] > 0) or n == 0:
            continue
        out[i] = stats.binomtest(int(k1[i]), int(n), e1[i] / (e1[i] + e0[i])).pvalue
    return out


def share_change_test(x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray) -> np.ndarray:
    """Two-sided p-values of Fisher's exact test that two shares are equal."""
    out = np.full(np.asarray(x1).shape, np.nan)
    for i in range(out.size):
        a, b = float(x1[i]), float(n1[i])
        c, d = float(x0[i]), float(n0[i])
        if not all(np.isfinite([a, b, c, d])) or b == 0 or d == 0:
            continue
        out[i] = stats.fisher_exact([[int(a), int(b - a)], [int(c), int(d - c)]]).pvalue
    return out
