"""Aberration detection: EARS by hand, GLM fits against statsmodels, planted outbreaks, no look-ahead."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy import stats

from segura.warning.aberration import detect, evaluate, simulate

Y = np.array([3, 5, 4, 6, 2, 5, 4, 7, 3, 5, 12, 4, 6], dtype=float)


def test_ears_c1_c2_by_hand() -> None:
    d = detect(Y[None, :], methods=("ears_c1", "ears_c2"))
    for t in range(len(Y)):
        c1 = Y[t - 7 : t] if t >= 7 else None
        c2 = Y[t - 9 : t - 2] if t >= 9 else None
        for method, base in (("ears_c1", c1), ("ears_c2", c2)):
            if base is None:
                assert np.isnan(d.expected[method][0, t])
                continue
            mean, sd = sum(base) / 7, np.sqrt(sum((base - sum(base) / 7) ** 2) / 6)
            assert d.expected[method][0, t] == pytest.approx(mean)
            assert d.threshold[method][0, t] == pytest.approx(mean + 3 * sd)
            assert d.alarm[method][0, t] == (Y[t] > mean + 3 * sd)
    assert d.alarm["ears_c1"][0, 10] and d.alarm["ears_c2"][0, 10]


def test_ears_c3_by_hand() -> None:
    d = detect(Y[None, :], methods=("ears_c3",))

    def c2(t: int) -> float:
        base = Y[t - 9 : t - 2]
        return float((Y[t] - base.mean()) / base.std(ddof=1))

    for t in range(11, len(Y)):
        c3 = sum(max(0.0, c2(i) - 1) for i in (t - 2, t - 1, t))
        assert d.score["ears_c3"][0, t] == pytest.approx(c3 / 2)


def farrington_window(t: int, per_year: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    # written independently of the module: Noufaily's 10-level factor, weeks t-5y-w .. t-P/2-1
    s = np.arange(t - 5 * per_year - w, t - per_year // 2)
    rest = per_year - 2 * w - 1
    levels = []
    for si in s:
        phase = (si - t + w) % per_year
        levels.append(0 if phase <= 2 * w else 1 + (phase - 2 * w - 1) * 9 // rest)
    dummies = np.eye(10)[levels][:, 1:]
    return s, np.column_stack([np.ones(len(s)), (s - t) / per_year, dummies])


@pytest.mark.parametrize(("freq", "per_year", "w"), [("month", 12, 1), ("week", 52, 3)])
@pytest.mark.parametrize("mean", [10.0, 0.4])  # 0.4: a small municipality, levels without a single case
def test_farrington_against_statsmodels(freq: str, per_year: int, w: int, mean: float) -> None:
    sim = simulate(3, 7 * per_year, freq, seed=3, mean=mean)  # type: ignore[arg-type]
    d = detect(sim.counts, freq=freq, methods=("farrington",))  # type: ignore[arg-type]
    for i, t in itertools.product(range(3), (5 * per_year + w, 6 * per_year + 5, 7 * per_year - 1)):
        s, X = farrington_window(t, per_year, w)
        y = sim.counts[i, s].astype(float)
        fit = sm.GLM(y, X, family=sm.families.Poisson()).fit()
        mu = fit.mu
        phi = max(1.0, float(np.sum((y - mu) ** 2 / mu)) / (len(y) - X.shape[1]))
        hat = fit.get_influence().hat_matrix_diag
        r = 1.5 * (y ** (2 / 3) - mu ** (2 / 3)) / (mu ** (1 / 6) * np.sqrt(phi * (1 - hat)))
        gamma = np.where(r > 2.58, r**-2.0, 1.0)
        gamma *= len(y) / gamma.sum()
        refit = sm.GLM(y, X, family=sm.families.Poisson(), var_weights=gamma).fit()
        expected = float(np.exp(refit.params[0]))
        assert d.expected["farrington"][i, t] == pytest.approx(expected, rel=1e-6, abs=1e-9)
        mu = refit.mu
        phi = max(1.0, float(np.sum(gamma * (y - mu) ** 2 / mu)) / (len(y) - X.shape[1]))
        if phi > 1:
            want = stats.nbinom.ppf(0.99, expected / (phi - 1), 1 / phi)
        else:
            want = stats.poisson.ppf(0.99, expected)
        assert d.threshold["farrington"][i, t] == want


def test_negbin_against_statsmodels() -> None:
    sim = simulate(3, 96, "month", seed=4)
    d = detect(sim.counts, freq="month", methods=("negbin",))
    t0 = 72
    s = np.arange(t0 - 60, t0)
    ahead = np.arange(t0, t0 + 12)

    def design(x: np.ndarray) -> np.ndarray:
        a = 2 * np.pi * x / 12
        return np.column_stack([np.ones(len(x)), (x - t0) / 12, np.sin(a), np.cos(a)])

    for i in range(3):
        nb_alpha = d.dispersion["negbin"][i, t0]
        fam = sm.families.NegativeBinomial(alpha=nb_alpha)
        fit = sm.GLM(sim.counts[i, s].astype(float), design(s), family=fam).fit()
        assert_allclose(d.expected["negbin"][i, ahead], fit.predict(design(ahead)), rtol=1e-6)


def test_no_look_ahead() -> None:
    sim = simulate(20, 120, "month", seed=5)
    base = detect(sim.counts, freq="month")
    t = 100
    changed = sim.counts.copy()
    changed[:, t + 1 :] = np.random.default_rng(0).poisson(50, changed[:, t + 1 :].shape)
    other = detect(changed, freq="month")
    for method in base.alarm:
        assert_allclose(other.expected[method][:, : t + 1], base.expected[method][:, : t + 1])
        assert_allclose(other.threshold[method][:, : t + 1], base.threshold[method][:, : t + 1])
        assert (other.alarm[method][:, : t + 1] == base.alarm[method][:, : t + 1]).all()


# Floors and ceilings measured on these seeds (bench/README.md), with a margin: EARS's false
# alarm rate is high by construction (a 7-period baseline, no seasonality), C3 the highest.
LIMITS = {
    "ears_c1": (0.6, 0.05),
    "ears_c2": (0.7, 0.05),
    "ears_c3": (0.8, 0.20),
    "farrington": (0.85, 0.02),
    "negbin": (0.85, 0.02),
}


@pytest.mark.parametrize(("freq", "n_periods"), [("month", 180), ("week", 520)])
def test_planted_outbreaks(freq: str, n_periods: int) -> None:
    sim = simulate(150, n_periods, freq, seed=11)  # type: ignore[arg-type]
    table = evaluate(detect(sim.counts, freq=freq), sim).set_index("method")  # type: ignore[arg-type]
    assert table["outbreaks"].min() > 100
    for method, (sensitivity, far) in LIMITS.items():
        assert table.loc[method, "sensitivity"] >= sensitivity, method
        assert table.loc[method, "false_alarm_rate"] <= far, method
        assert table.loc[method, "median_delay"] <= 1, method


def test_frame_and_errors() -> None:
    sim = simulate(2, 90, "month", seed=1)
    d = detect(sim.counts, periods=[f"p{i}" for i in range(90)], methods=("ears_c1", "negbin"))
    frame = d.frame()
    assert set(frame.columns) == {
        "series",
        "period",
        "t",
        "method",
        "observed",
        "expected",
        "threshold",
        "score",
        "alarm",
    }
    assert len(frame) == 2 * (90 - 7) + 2 * 30
    assert (d.alerts()["score"] > 1).all()
    with pytest.raises(ValueError, match="unknown methods"):
        detect(sim.counts, methods=("cusum",))
    with pytest.raises(ValueError, match="non-negative"):
        detect(-sim.counts)
