"""Positive (and negative) deviance: territories doing much better, or much worse, than their
conditions predict.

As in Mexico City's pilot of safe public spaces for women, the question is not which territory
has the most events but which has far fewer (or far more) than expected for its population and
risk factors, so that what the better ones do can be learnt and the worse ones looked at.

Model: a negative binomial (NB2) regression of the count on the covariates, log link, with
log(exposure) as offset: log E[y] = log(exposure) + X b, Var[y] = mu + alpha mu^2. It is
statsmodels' GLM with the NegativeBinomial family, whose alpha is fixed, so alpha is estimated by
maximising the GLM's full log-likelihood over log(alpha) (the profile likelihood; the result is
the NB2 maximum likelihood estimate, as in Lawless 1987 and R's MASS::glm.nb).

The interval of each territory's count is a prediction interval (see `positive_deviance`); a
territory whose observed count falls below it is 'much_better' than expected, above it
'much_worse' (for an outcome where more is worse). Beside it, the standardised ratio
observed / expected with an exact Poisson interval (Garwood), or Byar's approximation to it.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from segura.errors import SeguraError
from segura.indicators.stats import poisson_interval

FLAGS = ("much_better", "as_expected", "much_worse", "not_modelled")
FLAG_LABELS = {
    "much_better": {"es": "mucho mejor de lo esperado", "en": "much better than expected"},
    "as_expected": {"es": "como se esperaba", "en": "as expected"},
    "much_worse": {"es": "mucho peor de lo esperado", "en": "much worse than expected"},
    "not_modelled": {"es": "sin modelo (datos faltantes)", "en": "not modelled (missing data)"},
}
LOG_ALPHA_BOUNDS = (-12.0, 5.0)  # alpha from 6e-6 (practically Poisson) to 148


class DevianceError(SeguraError):
    """Arguments or data that the deviance model cannot use."""

    exit_code = 2


@dataclass(frozen=True)
class DevianceResult:
    """The fitted model and one row per territory.

    table: code, observed, exposure, expected, low, high (prediction interval of the count),
    ratio, ratio_low, ratio_high (observed / expected and its interval), flag (`FLAGS`), in the
    input's order. params, bse, cov: the regression coefficients ('const' first), their standard
    errors and covariance (alpha held at its estimate); alpha: the NB2 dispersion.
    """

    table: pd.DataFrame
    params: pd.Series
    bse: pd.Series
    cov: pd.DataFrame
    alpha: float
    loglike: float
    level: float
    interval: str


def positive_deviance(
    frame: pd.DataFrame,
    outcome: str,
    exposure: str,
    covariates: Sequence[str],
    *,
    code: str = "code",
    level: float = 0.95,
    interval: str = "simulate",
    n_sim: int = 2000,
    seed: int | None = None,
    higher_is_worse: bool = True,
    ratio_interval: str = "exact",
) -> DevianceResult:
    """Fit the NB2 model of `outcome` on `covariates` with log(`exposure`) as offset, and flag
    the territories whose count falls outside its `level` prediction interval.

    interval='simulate' (default): draw the coefficients from their estimated normal distribution
    (mean b, covariance of the fit), then a count from the NB with that mean and the estimated
    alpha, `n_sim` times per territory (a gamma-Poisson mixture); the interval is between the
    (1 - level)/2 and (1 + level)/2 quantiles of the simulated counts. It carries the uncertainty
    of the coefficients (not that of alpha, which NB2 estimates asymptotically independently of b).
    interval='quantile': the exact NB quantiles around the fitted mean, no parameter uncertainty.
    Either way the count is discrete, so each tail holds at most (1 - level)/2: a territory that
    fits the model is flagged with probability at most 1 - level.

    The fit includes every territory, the deviant ones too: they inflate alpha, which widens
    every interval, so the flags err on the side of caution when many territories deviate.

    Rows with a missing outcome, exposure or covariate, or a zero exposure, stay in the table as
    'not_modelled'. The standardised ratio's interval treats the expected count as fixed and the
    observed one as Poisson (exact Garwood interval, or Byar's approximation with
    ratio_interval='byar'); it does not include the overdispersion the flag accounts for.
    """
    if interval not in ("simulate", "quantile"):
        raise DevianceError(f"interval = {interval!r}; expected 'simulate' or 'quantile'")
    if ratio_interval not in ("exact", "byar"):
        raise DevianceError(f"ratio_interval = {ratio_interval!r}; expected 'exact' or 'byar'")
    if not 0 < level < 1:
        raise DevianceError(f"level = {level!r}; expected a share in (0, 1), e.g. 0.95")
    if n_sim < 100 and interval == "simulate":
        raise DevianceError(f"n_sim = {n_sim!r}; at least 100 simulations are needed for an interval")
    covariates = list(covariates)
    y_all, e_all, x_all, ok = _read(frame, outcome, exposure, covariates, code)
    names = ["const", *covariates]
    if ok.sum() <= len(names):
        raise DevianceError(
            f"only {int(ok.sum())} territories have {outcome!r}, {exposure!r} and every covariate: "
            f"too few for {len(names)} coefficients"
        )
    y, offset, x = y_all[ok], np.log(e_all[ok]), x_all[ok]
    fit, alpha = _fit(y, x, offset)
    params = np.asarray(fit.params, dtype=np.float64)
    cov = np.asarray(fit.cov_params(), dtype=np.float64)
    mu = np.exp(offset + x @ params)

    tail = (1 - level) / 2
    if interval == "quantile":
        size, prob = 1 / alpha, 1 / (1 + alpha * mu)
        low = stats.nbinom.ppf(tail, size, prob)
        high = stats.nbinom.ppf(1 - tail, size, prob)
    else:
        low, high = _simulated_interval(x, offset, params, cov, alpha, tail, n_sim, np.random.default_rng(seed))

    if ratio_interval == "exact":
        o_low, o_high = poisson_interval(y, alpha=1 - level)
    else:
        o_low, o_high = _byar(y, 1 - level)
    below, above = y < low, y > high
    better, worse = (below, above) if higher_is_worse else (above, below)
    flag = np.where(better, "much_better", np.where(worse, "much_worse", "as_expected"))

    n = len(frame)

    def spread(values: np.ndarray) -> np.ndarray:
        out = np.full(n, np.nan)
        out[ok] = values
        return out

    table = pd.DataFrame({
        "code": frame[code].to_numpy(),
        "observed": y_all,
        "exposure": e_all,
        "expected": spread(mu),
        "low": spread(low),
        "high": spread(high),
        "ratio": spread(y / mu),
        "ratio_low": spread(o_low / mu),
        "ratio_high": spread(o_high / mu),
        "flag": np.full(n, "not_modelled", dtype=object),
    })
    table.loc[ok, "flag"] = flag
    return DevianceResult(
        table=table,
        params=pd.Series(params, index=names, name="coef"),
        bse=pd.Series(np.sqrt(np.diag(cov)), index=names, name="se"),
        cov=pd.DataFrame(cov, index=names, columns=names),
        alpha=alpha,
        loglike=float(fit.llf),
        level=level,
        interval=interval,
    )


def _read(
    frame: pd.DataFrame, outcome: str, exposure: str, covariates: list[str], code: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Outcome, exposure and covariates as floats, and which rows can be modelled; bad values raise."""
    for column in [code, outcome, exposure, *covariates]:
        if column not in frame.columns:
            close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DevianceError(f"the frame has no column {column!r}{hint}")
    if outcome in covariates or exposure in covariates:
        raise DevianceError("the outcome and the exposure cannot also be covariates")

    def numbers(column: str) -> np.ndarray:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[column].notna() & values.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DevianceError(
                f"column {column!r} has a value that is not a number: {frame[column].iloc[i]!r} "
                f"(territory {frame[code].iloc[i]!r})"
            )
        return values.to_numpy(dtype=float)

    y, e = numbers(outcome), numbers(exposure)
    x = np.column_stack([np.ones(len(frame))] + [numbers(c) for c in covariates])
    counted = np.isfinite(y)
    bad = counted & ((y < 0) | (y != np.round(y)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DevianceError(
            f"column {outcome!r} must hold counts (whole numbers >= 0); territory "
            f"{frame[code].iloc[i]!r} has {y[i]:g}"
        )
    if (np.isfinite(e) & (e < 0)).any():
        i = int(np.flatnonzero(np.isfinite(e) & (e < 0))[0])
        raise DevianceError(f"column {exposure!r} is negative for territory {frame[code].iloc[i]!r}: {e[i]:g}")
    ok = counted & np.isfinite(e) & (e > 0) & np.isfinite(x).all(axis=1)
    return y, e, x, ok


def _fit(y: np.ndarray, x: np.ndarray, offset: np.ndarray) -> tuple[Any, float]:
    """NB2 GLM with alpha at its maximum likelihood estimate (profile likelihood over log alpha)."""
    import statsmodels.api as sm

    def model(alpha: float) -> sm.GLM:
        return sm.GLM(y, x, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset)

    def minus_loglike(log_alpha: float) -> float:
        return -float(model(float(np.exp(log_alpha))).fit().llf)

    with warnings.catch_warnings():
        # far from the optimum IRLS can overflow exp(); those trial values are rejected anyway
        warnings.simplefilter("ignore", RuntimeWarning)
        found = optimize.minimize_scalar(minus_loglike, bounds=LOG_ALPHA_BOUNDS, method="bounded",
                                         options={"xatol": 1e-7})
    alpha = float(np.exp(found.x))
    fit = model(alpha).fit()
    if not np.all(np.isfinite(fit.params)):
        raise DevianceError("the negative binomial model did not converge; check the covariates' scale")
    return fit, alpha


def _simulated_interval(
    x: np.ndarray, offset: np.ndarray, params: np.ndarray, cov: np.ndarray, alpha: float,
    tail: float, n_sim: int, rng: np.random.Generator, chunk: int = 500,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of counts simulated from NB(mu*, alpha) with mu* from coefficients drawn from
    N(params, cov); in chunks of territories to bound memory."""
    betas = rng.multivariate_normal(params, cov, size=n_sim, method="cholesky")
    low = np.empty(len(x))
    high = np.empty(len(x))
    shape = 1 / alpha
    for start in range(0, len(x), chunk):
        rows = slice(start, start + chunk)
        mu = np.exp(offset[rows, None] + x[rows] @ betas.T)
        counts = rng.poisson(rng.gamma(shape, alpha * mu))
        low[rows] = np.quantile(counts, tail, axis=1, method="inverted_cdf")
        high[rows] = np.quantile(counts, 1 - tail, axis=1, method="inverted_cdf")
    return low, high


def _byar(observed: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the exact Poisson interval of a count (Breslow and Day 1987, vol. II, 2.12)."""
    o = np.asarray(observed, dtype=float)
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(o > 0, o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3, 0.0)
    o1 = o + 1
    high = o1 * (1 - 1 / (9 * o1) + z / (3 * np.sqrt(o1))) ** 3
    return low, high
