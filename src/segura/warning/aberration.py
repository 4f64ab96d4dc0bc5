"""Aberration detection on many count series at once: EARS C1/C2/C3, improved Farrington, NB GLM.

Every method takes a (series x periods) array of counts and, for each period t, uses only counts
before t. Results hold, per method, (series x periods) arrays of expected value, threshold, score
and alarm; NaN where a method has too little past to decide. The score is scaled so that an alarm
is ``score > 1`` for every method: (observed - expected) / (threshold - expected), and for C3 its
statistic over its critical value.

References: Hutwagner et al. (2003) "The bioterrorism preparedness and response Early Aberration
Reporting System (EARS)", J Urban Health 80(2 Suppl 1); Noufaily et al. (2013) "An improved
algorithm for outbreak detection in multiple surveillance systems", Stat Med 32(7):1206-22; the R
package surveillance (``earsC``, ``farringtonFlexible``), whose defaults are followed unless said.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

Freq = Literal["month", "week"]
METHODS = ("ears_c1", "ears_c2", "ears_c3", "farrington", "negbin")
PERIODS_PER_YEAR = {"month": 12, "week": 52}

Array = NDArray[np.float64]


@dataclass
class Detection:
    """Per-method (series x periods) arrays; ``frame()`` is the tidy long table, ``alerts()`` its alarms."""

    observed: Array
    periods: pd.Index
    series: pd.Index
    expected: dict[str, Array] = field(default_factory=dict)
    threshold: dict[str, Array] = field(default_factory=dict)
    score: dict[str, Array] = field(default_factory=dict)
    alarm: dict[str, NDArray[np.bool_]] = field(default_factory=dict)
    dispersion: dict[str, Array] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """One row per series, period and method where the method decided."""
        parts = []
        n_s, n_t = self.observed.shape
        s_idx, t_idx = np.divmod(np.arange(n_s * n_t), n_t)
        for method in self.expected:
            expected = self.expected[method].ravel()
            keep = ~np.isnan(expected)
            parts.append(
                pd.DataFrame(
                    {
                        "series": self.series[s_idx[keep]],
                        "period": self.periods[t_idx[keep]],
                        "t": t_idx[keep],
                        "method": method,
                        "observed": self.observed.ravel()[keep],
                        "expected": expected[keep],
                        "threshold": self.threshold[method].ravel()[keep],
                        "score": self.score[method].ravel()[keep],
                        "alarm": self.alarm[method].ravel()[keep],
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def alerts(self) -> pd.DataFrame:
        """The rows of ``frame()`` that raised an alarm."""
        frame = self.frame()
        return frame[frame["alarm"]].reset_index(drop=True)


def detect(
    counts: NDArray[np.floating] | NDArray[np.integer] | pd.DataFrame,
    periods: Sequence[object] | pd.Index | None = None,
    freq: Freq = "month",
    methods: Sequence[str] = METHODS,
    alpha: float = 0.01,
) -> Detection:
    """Run the named methods on a (series x periods) array of counts (a DataFrame: rows are series).

    ``alpha`` is the upper-tail probability of the Farrington and negative binomial thresholds;
    EARS keeps its own critical values (see ``ears``).
    """
    if freq not in PERIODS_PER_YEAR:
        raise ValueError(f"freq={freq!r}: expected 'month' or 'week'")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown methods {unknown}: expected some of {list(METHODS)}")
    if isinstance(counts, pd.DataFrame):
        series = counts.index
        periods = counts.columns if periods is None else periods
        y = counts.to_numpy(dtype=np.float64)
    else:
        y = np.atleast_2d(np.asarray(counts, dtype=np.float64))
        series = pd.RangeIndex(y.shape[0], name="series")
    if np.isnan(y).any() or (y < 0).any():
        raise ValueError("counts must be non-negative and without missing values")
    period_index = pd.Index(range(y.shape[1]) if periods is None else periods)
    if len(period_index) != y.shape[1]:
        raise ValueError(f"{len(period_index)} periods for {y.shape[1]} columns of counts")
    result = Detection(observed=y, periods=period_index, series=pd.Index(series))
    with _one_blas_thread():
        _run(result, y, freq, methods, alpha)
    return result


def _one_blas_thread() -> AbstractContextManager[object]:
    """Limit BLAS to one thread: its threads cost 100x on the small products of the fits here."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a transitive dependency (scikit-learn, via esda)
        return nullcontext()
    return threadpool_limits(1, user_api="blas")


def _run(result: Detection, y: Array, freq: Freq, methods: Sequence[str], alpha: float) -> None:
    for method in methods:
        if method.startswith("ears_"):
            exp, thr, score = ears(y, method[-2:].upper())
            disp = np.full_like(y, np.nan)
        elif method == "farrington":
            exp, thr, score, disp = farrington(y, PERIODS_PER_YEAR[freq], alpha=alpha)
        else:
            exp, thr, score, disp = negbin(y, PERIODS_PER_YEAR[freq], alpha=alpha)
        result.expected[method] = exp
        result.threshold[method] = thr
        result.score[method] = score
        result.alarm[method] = np.nan_to_num(score, nan=-np.inf) > 1
        result.dispersion[method] = disp


# --- EARS -----------------------------------------------------------------------------------


def _rolling_mean_sd(y: Array, lag: int, baseline: int) -> tuple[Array, Array]:
    """Mean and sd (n - 1) of y[t - lag - baseline + 1 .. t - lag] placed at t; NaN before."""
    n_s, n_t = y.shape
    c1 = np.concatenate([np.zeros((n_s, 1)), np.cumsum(y, axis=1)], axis=1)
    c2 = np.concatenate([np.zeros((n_s, 1)), np.cumsum(y * y, axis=1)], axis=1)
    mean = np.full_like(y, np.nan)
    sd = np.full_like(y, np.nan)
    start = lag + baseline - 1
    hi = np.arange(start, n_t) - lag + 1  # exclusive end of each window in c1/c2
    lo = hi - baseline
    s1 = c1[:, hi] - c1[:, lo]
    s2 = c2[:, hi] - c2[:, lo]
    mean[:, start:] = s1 / baseline
    var = (s2 - s1 * s1 / baseline) / (baseline - 1)
    sd[:, start:] = np.sqrt(np.clip(var, 0, None))
    return mean, sd


def ears(
    y: Array, method: str = "C1", baseline: int = 7, min_sigma: float = 0.0
) -> tuple[Array, Array, Array]:
    """EARS C1, C2 or C3 (Hutwagner et al. 2003), as surveillance's ``earsC`` (R/earsC.R).

    C1: mean and sd of the ``baseline`` (7) periods t-7..t-1; C2: of t-9..t-3 (a 2-period lag);
    threshold mean + z sd. C3 = sum over i = t-2..t of max(0, C2_i - 1), alarm when C3 > z.
    Critical values are CDC's, z = 3 for C1 and C2 and z = 2 for C3 (surveillance's defaults,
    qnorm(1 - 0.001) = 3.09 and qnorm(1 - 0.025) = 1.96, round to them). surveillance uses the
    same 7-period baseline whatever the time unit, so monthly series do too. surveillance's C3
    upper bound, observed + sd (z - lag-1 and lag-2 excesses), alarms on the two past excesses
    alone; here the current excess counts too, as CDC defines C3, and the threshold reported is
    the count at which C3 reaches z (0 when the past excesses already exceed z).
    """
    if method not in ("C1", "C2", "C3"):
        raise ValueError(f"method={method!r}: expected 'C1', 'C2' or 'C3'")
    lag = 1 if method == "C1" else 3
    mean, sd = _rolling_mean_sd(y, lag, baseline)
    sd = np.maximum(sd, min_sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_stat = (y - mean) / sd
        z_stat = np.where(sd > 0, z_stat, np.where(y > mean, np.inf, 0.0))
        if method != "C3":
            threshold = mean + 3.0 * sd
            score = z_stat / 3.0
            return mean, threshold, np.where(np.isnan(mean), np.nan, score)
        excess = np.maximum(z_stat - 1.0, 0.0)
        past = np.full_like(y, np.nan)
        past[:, 2:] = excess[:, 1:-1] + excess[:, :-2]
        c3 = past + excess
        threshold = np.maximum(mean + sd * (1.0 + np.maximum(2.0 - past, -1.0)), 0.0)
        threshold = np.where(past >= 2.0, 0.0, threshold)
        return mean, threshold, c3 / 2.0


# --- GLM machinery, vectorised over series sharing one design ---------------------------------


def _irls(
    y: Array,
    X: Array,
    nb_alpha: Array | None = None,
    mu0: Array | None = None,
    n_iter: int = 25,
    tol: float = 1e-8,
) -> Array:
    """Log-link Poisson (or NB with fixed alpha per series) IRLS for many series on one design X.

    y: (S, n); X: (n, p); mu0 (S, n) a starting mean (a fit of nearly the
    same data: it saves iterations, the maximum likelihood it reaches is the same). Returns the
    coefficients (S, p). X' W X is one matrix product
    W @ (x_i x_i') over all series. A series stops once its coefficients move less than `tol`:
    one series without a maximum (all zeros) does not keep the others iterating.
    """
    n_s, n = y.shape
    p = X.shape[1]
    xx = np.einsum("ip,iq->ipq", X, X).reshape(n, p * p)
    mu = y + 0.1 if mu0 is None else np.array(mu0, dtype=np.float64)
    eta = np.log(mu)
    beta = np.zeros((n_s, p))
    ridge = 1e-10 * np.eye(p)
    active = np.arange(n_s)
    for _ in range(n_iter):
        every = active.size == n_s  # no copies while all iterate
        ya, ea, ma = (y, eta, mu) if every else (y[active], eta[active], mu[active])
        w = ma
        if nb_alpha is not None:
            w = w / (1.0 + nb_alpha[active, None] * ma)
        a = (w @ xx).reshape(-1, p, p) + ridge
        b = (w * (ea + (ya - ma) / ma)) @ X
        new = np.linalg.solve(a, b[..., None])[..., 0]
        moved = np.abs(new - beta[active]).max(axis=1)
        beta[active] = new
        e = np.clip(new @ X.T, -30, 30)
        eta[active] = e
        mu[active] = np.exp(e)
        active = active[moved >= tol]
        if not active.size:
            break
    return beta


def _upper_quantile(mu: Array, phi: Array, alpha: float) -> Array:
    """(1 - alpha) quantile of a NB with mean mu and variance phi mu (Poisson where phi <= 1)."""
    q = stats.poisson.ppf(1 - alpha, mu)
    nb = (phi > 1 + 1e-9) & (mu > 0)  # a mean of 0 (no case in the level): the threshold is 0 either way
    if nb.any():
        size = mu[nb] / (phi[nb] - 1)
        q[nb] = stats.nbinom.ppf(1 - alpha, size, 1 / phi[nb])
    return np.asarray(q, dtype=np.float64)


def _score(y: Array, expected: Array, threshold: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = threshold - expected
        return np.where(gap > 0, (y - expected) / gap, np.where(y > threshold, np.inf, 0.0))


# --- Improved Farrington ----------------------------------------------------------------------


def farrington_design(
    t: int, per_year: int, b: int = 5, w: int | None = None
) -> tuple[NDArray[np.int64], Array]:
    """Reference periods and design (intercept, trend in years, 9 season levels) for period t.

    Noufaily et al. (2013): every period from b years before t (minus w) up to t - half a year
    (surveillance's ``pastWeeksNotIncluded`` = 26 weeks; 6 months here), with a 10-level seasonal
    factor: the 2w + 1 periods around t's place in the year are level 0, the rest of the year is
    cut into 9 equal levels. Weekly w = 3 (7 weeks, levels of 5 weeks); monthly w = 1 (3 months,
    the other 9 months a level each).
    """
    w = (3 if per_year == 52 else 1) if w is None else w
    s = np.arange(t - b * per_year - w, t - per_year // 2, dtype=np.int64)
    phase = (s - t + w) % per_year
    rest = per_year - (2 * w + 1)
    level = np.where(phase < 2 * w + 1, 0, 1 + (phase - (2 * w + 1)) * 9 // rest)
    X = np.column_stack(
        [np.ones(len(s)), (s - t) / per_year] + [(level == k).astype(float) for k in range(1, 10)]
    )
    return s, X


def farrington(
    y: Array,
    per_year: int,
    b: int = 5,
    w: int | None = None,
    alpha: float = 0.01,
    reweight: bool = True,
    weights_threshold: float = 2.58,
) -> tuple[Array, Array, Array, Array]:
    """Improved Farrington (Noufaily et al. 2013; surveillance ``farringtonFlexible``, noufaily).

    For each t: quasi-Poisson GLM (log link) with linear trend (always kept: surveillance's
    ``pThresholdTrend = 1``) and the 10-level seasonal factor of ``farrington_design``; past
    outbreaks down-weighted (Anscombe residuals r > 2.58 get weight proportional to r^-2, weights
    rescaled to sum to n) and the model refitted; dispersion phi = max(1, Pearson / (n - p));
    threshold the 1 - alpha quantile of a NB with mean the prediction at t and variance phi mu
    (``thresholdMethod = "nbPlugin"``). Not done: the 4-week count floor (``limit54``).
    Returns expected, threshold, score and phi, NaN for t < b years + w.
    """
    n_s, n_t = y.shape
    w_ = (3 if per_year == 52 else 1) if w is None else w
    out = [np.full_like(y, np.nan) for _ in range(4)]
    slope: Array | None = None  # the previous period's trend: nearly this one's, Newton starts there
    for t in range(b * per_year + w_, n_t):
        s, X = farrington_design(t, per_year, b, w_)
        ref = y[:, s]
        n, p = X.shape
        groups = np.column_stack([1.0 - X[:, 2:].sum(axis=1), X[:, 2:]])  # level 0 .. 9
        x = X[:, 1]
        level0, mu, slope = _groups_and_trend(ref, groups, x, start=slope)
        phi = np.maximum(1.0, _pearson(ref, mu).sum(axis=1) / (n - p))
        if reweight:
            hat = _hat(mu, groups, x)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = 1.5 * (ref ** (2 / 3) - mu ** (2 / 3)) / (mu ** (1 / 6) * np.sqrt(phi[:, None] * np.clip(1 - hat, 1e-12, None)))
            r = np.where(mu > 0, r, 0.0)  # a level without counts: fitted 0, observed 0
            gamma = np.where(r > weights_threshold, 1.0 / np.maximum(r, 1e-12) ** 2, 1.0)
            gamma = gamma * n / gamma.sum(axis=1, keepdims=True)
            level0, mu, _ = _groups_and_trend(ref, groups, x, prior=gamma, start=slope)
            phi = np.maximum(1.0, (gamma * _pearson(ref, mu)).sum(axis=1) / (n - p))
        expected = level0  # t itself: trend 0, level 0
        threshold = _upper_quantile(expected, phi, alpha)
        out[0][:, t] = expected
        out[1][:, t] = threshold
        out[2][:, t] = _score(y[:, t], expected, threshold)
        out[3][:, t] = phi
    return out[0], out[1], out[2], out[3]


def _groups_and_trend(
    y: Array, groups: Array, x: Array, prior: Array | None = None, start: Array | None = None,
    n_iter: int = 50, tol: float = 1e-10,
) -> tuple[Array, Array, Array]:
    """Poisson log-linear fit, for many series, of one intercept per level and a common slope on x.

    This is the GLM of the improved Farrington method (intercept + trend + 9 level dummies: the
    same model, parametrised by level). Written by hand because the structure gives the answer
    almost in closed form, where a general IRLS (statsmodels, or `_irls`) solves an 11 x 11
    system per series and iteration: for a slope b, each level's intercept is
    log(sum prior y / sum prior exp(b x)) over its periods, and b is where the profile score
    sum_g [sum prior x y - Y_g * mean_g(x)] vanishes, a concave problem solved by Newton's method.
    y, prior: (S, n); groups: (n, k) 0/1; x: (n,). Returns the fitted mean at level 0 and x = 0
    (S,), the fitted means (S, n) and the slopes (S,). A level without counts gets mean 0 (its
    maximum likelihood intercept is minus infinity).
    """
    weighted = y if prior is None else prior * y
    counts = weighted @ groups  # Y_g
    cross = (weighted * x) @ groups
    b = np.zeros(y.shape[0]) if start is None else start.copy()
    for _ in range(n_iter):
        e = np.exp(np.clip(b[:, None] * x, -30, 30))
        if prior is not None:
            e = prior * e
        s0, s1, s2 = e @ groups, (e * x) @ groups, (e * x * x) @ groups
        with np.errstate(divide="ignore", invalid="ignore"):
            m1 = np.where(s0 > 0, s1 / s0, 0.0)
            m2 = np.where(s0 > 0, s2 / s0, 0.0)
        score = (cross - counts * m1).sum(axis=1)
        information = (counts * (m2 - m1**2)).sum(axis=1)
        step = np.clip(np.where(information > 0, score / np.where(information > 0, information, 1.0), 0.0), -2, 2)
        b = b + step
        if np.abs(step).max() < tol:
            break
    e = np.exp(np.clip(b[:, None] * x, -30, 30))
    s0 = (e if prior is None else prior * e) @ groups
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.where(s0 > 0, counts / s0, 0.0)  # exp(intercept) per level
    return level[:, 0], (level @ groups.T) * e, b


def _pearson(y: Array, mu: Array) -> Array:
    """(y - mu)^2 / mu, 0 where the fitted mean is 0 (and so is y)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mu > 0, (y - mu) ** 2 / mu, 0.0)


def _hat(mu: Array, groups: Array, x: Array) -> Array:
    """Diagonal of the Poisson GLM's hat matrix W^1/2 Z (Z'WZ)^-1 Z' W^1/2 for Z = [levels, x].

    Z'WZ = [[diag(D), c], [c', e]] with D_g = sum_g mu, c_g = sum_g mu x, e = sum mu x^2; by the
    block inverse, for a period of level g: h = mu (1 / D_g + (x - c_g / D_g)^2 / schur), schur =
    e - sum_g c_g^2 / D_g. The same leverages as with the intercept and dummies (same column space).
    """
    d, c = mu @ groups, (mu * x) @ groups
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.where(d > 0, c / d, 0.0)
        inv_d = np.where(d > 0, 1.0 / d, 0.0)
        schur = (mu * x * x).sum(axis=1) - (c * centre).sum(axis=1)
        inv_schur = np.where(schur > 0, 1.0 / schur, 0.0)
    return mu * ((inv_d @ groups.T) + (x - centre @ groups.T) ** 2 * inv_schur[:, None])


# --- Negative binomial GLM with trend and seasonality -----------------------------------------


def negbin_design(s: NDArray[np.integer], origin: int, per_year: int) -> Array:
    """Intercept, trend in years from ``origin``, one harmonic pair of the year (12 or 52.18)."""
    period = 12.0 if per_year == 12 else 365.25 / 7
    angle = 2 * np.pi * s / period
    return np.column_stack([np.ones(len(s)), (s - origin) / per_year, np.sin(angle), np.cos(angle)])


def negbin(
    y: Array, per_year: int, years: int = 5, alpha: float = 0.01, n_iter: int = 4
) -> tuple[Array, Array, Array, Array]:
    """NB GLM (log link) with linear trend and a yearly harmonic, refitted once a year.

    At each period t0 that is a multiple of a year (from ``years`` years on) the model is fitted
    to the ``years`` years before t0 and predicts t0 .. t0 + year - 1: data before t only. The NB
    is fitted by IRLS at a fixed alpha (variance mu + alpha mu^2), alternated ``n_iter`` times with
    the moment estimate alpha = sum((y - mu)^2 - mu) / sum(mu^2) (floored at 1e-6), a cheap stand-in
    for glm.nb's maximum likelihood theta. Threshold: the 1 - alpha quantile of NB(mu, alpha).
    Returns expected, threshold, score and the NB alpha, NaN before the first fit.
    """
    n_s, n_t = y.shape
    out = [np.full_like(y, np.nan) for _ in range(4)]
    for t0 in range(years * per_year, n_t, per_year):
        s = np.arange(t0 - years * per_year, t0)
        X = negbin_design(s, t0, per_year)
        ref = y[:, s]
        nb_alpha, mu = None, None
        for _ in range(n_iter):  # each fit starts from the last one's means
            beta = _irls(ref, X, nb_alpha=nb_alpha, mu0=mu)
            mu = np.exp(np.clip(beta @ X.T, -30, 30))
            nb_alpha = np.maximum(((ref - mu) ** 2 - mu).sum(axis=1) / (mu**2).sum(axis=1), 1e-6)
        assert nb_alpha is not None
        beta = _irls(ref, X, nb_alpha=nb_alpha, mu0=mu)
        ahead = np.arange(t0, min(t0 + per_year, n_t))
        expected = np.exp(np.clip(beta @ negbin_design(ahead, t0, per_year).T, -30, 30))
        phi = 1.0 + nb_alpha[:, None] * expected
        threshold = _upper_quantile(expected.ravel(), phi.ravel(), alpha).reshape(expected.shape)
        out[0][:, ahead] = expected
        out[1][:, ahead] = threshold
        out[2][:, ahead] = _score(y[:, ahead], expected, threshold)
        out[3][:, ahead] = nb_alpha[:, None]
    return out[0], out[1], out[2], out[3]


# --- Simulation and evaluation ----------------------------------------------------------------


@dataclass
class Simulation:
    """Simulated counts (series x periods), the outbreak mask and the outbreaks' table."""

    counts: NDArray[np.int64]
    baseline: Array
    outbreak: NDArray[np.bool_]
    outbreaks: pd.DataFrame


def simulate(
    n_series: int,
    n_periods: int,
    freq: Freq = "month",
    seed: int = 0,
    mean: float = 10.0,
    trend: float = 0.0,
    seasonality: float = 0.3,
    dispersion: float = 1.5,
    outbreak_size: float = 4.0,
    outbreak_length: int | None = None,
    outbreaks_per_series: int = 2,
) -> Simulation:
    """Series after Noufaily et al. (2013): mean exp(a + trend t + seasonal harmonic), NB noise.

    Baseline mu_t = mean exp(trend * years + seasonality cos(2 pi t / year)); counts NB with
    variance ``dispersion`` mu. Outbreaks at random starts (past the first year, not
    overlapping): each period of an outbreak adds Poisson(outbreak_size * sd_t) cases, sd_t the
    baseline's standard deviation, for ``outbreak_length`` periods (3 months or 4 weeks).
    """
    rng = np.random.default_rng(seed)
    per_year = PERIODS_PER_YEAR[freq]
    length = (3 if freq == "month" else 4) if outbreak_length is None else outbreak_length
    t = np.arange(n_periods)
    season = 12.0 if freq == "month" else 365.25 / 7
    mu = mean * np.exp(trend * t / per_year + seasonality * np.cos(2 * np.pi * t / season))
    mu = np.broadcast_to(mu, (n_series, n_periods)).copy()
    if dispersion > 1:
        size = mu / (dispersion - 1)
        counts = rng.negative_binomial(size, 1 / dispersion)
    else:
        counts = rng.poisson(mu)
    mask = np.zeros((n_series, n_periods), dtype=bool)
    rows = []
    slots = (n_periods - per_year) // (length + 1)
    for i in range(n_series):
        picks = rng.choice(slots, size=min(outbreaks_per_series, slots), replace=False)
        for k in picks:
            start = per_year + int(k) * (length + 1)
            stop = min(start + length, n_periods)
            sd = np.sqrt(dispersion * mu[i, start:stop])
            counts[i, start:stop] += rng.poisson(outbreak_size * sd)
            mask[i, start:stop] = True
            rows.append((i, start, stop - start))
    table = pd.DataFrame(rows, columns=["series", "start", "length"])
    return Simulation(counts.astype(np.int64), mu, mask, table)


def evaluate(
    detection: Detection, simulation: Simulation, start: int | None = None
) -> pd.DataFrame:
    """Sensitivity, false alarm rate and median delay per method on periods from ``start``.

    Sensitivity: share of outbreaks starting at or after ``start`` with an alarm during them;
    false alarm rate: alarms outside outbreaks / periods outside outbreaks; delay: periods from
    an outbreak's start to its first alarm, median over detected outbreaks. ``start`` defaults to
    the first period every method decides.
    """
    if start is None:
        start = max(int(np.argmax(~np.isnan(e).all(axis=0))) for e in detection.expected.values())
    table = simulation.outbreaks[simulation.outbreaks["start"] >= start]
    outside = ~simulation.outbreak[:, start:]
    rows = []
    for method, alarm in detection.alarm.items():
        delays = []
        for series, begin, length in table.itertuples(index=False):
            hits = np.flatnonzero(alarm[series, begin : begin + length])
            if hits.size:
                delays.append(int(hits[0]))
        rows.append(
            {
                "method": method,
                "outbreaks": len(table),
                "sensitivity": len(delays) / max(len(table), 1),
                "false_alarm_rate": float(alarm[:, start:][outside].mean()),
                "median_delay": float(np.median(delays)) if delays else float("nan"),
            }
        )
    return pd.DataFrame(rows)
