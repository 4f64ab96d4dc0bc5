"""Positive deviance: a negative binomial model of counts, its prediction intervals and flags.

Simulated territories from a known NB2 model, with planted territories doing much better and
much worse than their conditions predict: the coefficients come back, the planted ones are
flagged and few others are. statsmodels' discrete NegativeBinomial (its own likelihood and
optimiser, alpha estimated jointly) is the independent computation of the same estimates.
Mexico's INEGI homicides by municipality (2015) are the real test bed; without
`<repo>/../shared/data/mx` that test fails, it does not skip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from segura.territorial.deviance import FLAGS, DevianceError, DevianceResult, positive_deviance

MX = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mx"
HOMICIDES = MX / "inegi_homicidios_mun_ocurrencia_mes_registro_1990_2015_long.csv.gz"
POPULATION = MX / "conapo_poblacion_municipal_total.csv"
CENSUS = MX / "inegi_censo2020_municipios_mxmaps.csv"

BETA = np.array([np.log(30 / 100_000), 0.4, -0.6])  # 30 per 100,000 at x = 0
ALPHA = 0.1
N = 800
PLANTED_BETTER = 10
PLANTED_WORSE = 10


def simulated(planted: bool = True) -> tuple[pd.DataFrame, set[str], set[str]]:
    """N territories from the NB2 model; with `planted`, 10 of those expecting 100 or more get a
    sixth of their expected count (much better) and 10 others four times it (much worse)."""
    rng = np.random.default_rng(20240607)
    population = np.exp(rng.uniform(np.log(5_000), np.log(1_000_000), N))
    x1, x2 = rng.normal(size=N), rng.uniform(0, 1, N)
    mu = population * np.exp(BETA[0] + BETA[1] * x1 + BETA[2] * x2)
    y = rng.poisson(rng.gamma(1 / ALPHA, ALPHA * mu)).astype(float)
    large = rng.permutation(np.flatnonzero(mu >= 100))
    better, worse = large[:PLANTED_BETTER], large[PLANTED_BETTER:PLANTED_BETTER + PLANTED_WORSE]
    codes = np.array([f"T{i:03d}" for i in range(N)])
    if planted:
        y[better] = np.round(mu[better] / 6)
        y[worse] = np.round(mu[worse] * 4)
    frame = pd.DataFrame({"code": codes, "cases": y, "population": population, "x1": x1, "x2": x2})
    return frame, set(codes[better]), set(codes[worse])


@pytest.fixture(scope="module")
def fitted() -> tuple[pd.DataFrame, set[str], set[str], DevianceResult]:
    frame, better, worse = simulated()
    return frame, better, worse, positive_deviance(frame, "cases", "population", ["x1", "x2"], seed=1)


def false_flag_bound(n: int, level: float = 0.95) -> float:
    """Nominal rate (each tail holds at most (1 - level) / 2) plus 3 binomial standard errors."""
    nominal = 1 - level
    return nominal + 3 * float(np.sqrt(nominal * (1 - nominal) / n))


@pytest.mark.parametrize("interval", ["simulate", "quantile"])
def test_model_without_outliers(interval: str) -> None:
    frame, _, _ = simulated(planted=False)
    result = positive_deviance(frame, "cases", "population", ["x1", "x2"], interval=interval, seed=2)
    z = (result.params.to_numpy() - BETA) / result.bse.to_numpy()
    assert np.abs(z).max() < 4, z
    assert result.alpha == pytest.approx(ALPHA, rel=0.25)
    false_rate = float((result.table["flag"] != "as_expected").mean())
    # near the nominal 5% and not above it: a discrete count's tails hold at most 2.5% each
    assert 0.01 < false_rate < false_flag_bound(N), false_rate


def test_recovers_the_coefficients_despite_the_planted_territories(fitted) -> None:
    _, _, _, result = fitted
    assert list(result.params.index) == ["const", "x1", "x2"]
    z = (result.params.to_numpy() - BETA) / result.bse.to_numpy()
    assert np.abs(z).max() < 4, z
    # the 20 planted territories are overdispersion too: the estimated alpha grows (to about 0.2),
    # which widens every interval and makes the flags conservative
    assert ALPHA < result.alpha < 3 * ALPHA, result.alpha


def test_same_estimates_as_statsmodels_discrete_negative_binomial(fitted) -> None:
    frame, _, _, result = fitted
    exog = sm.add_constant(frame[["x1", "x2"]].to_numpy())
    discrete = sm.NegativeBinomial(frame["cases"].to_numpy(), exog, loglike_method="nb2",
                                   offset=np.log(frame["population"].to_numpy())).fit(disp=0, maxiter=200)
    params = np.asarray(discrete.params)
    np.testing.assert_allclose(result.params.to_numpy(), params[:3], rtol=1e-4, atol=1e-5)
    assert result.alpha == pytest.approx(params[3], rel=1e-3)
    assert result.loglike == pytest.approx(discrete.llf, abs=1e-4)
    # the GLM's standard errors hold alpha fixed (expected information): close, not equal
    np.testing.assert_allclose(result.bse.to_numpy(), np.asarray(discrete.bse)[:3], rtol=0.05)


def test_flags_the_planted_territories_and_few_others(fitted) -> None:
    _, better, worse, result = fitted
    table = result.table.set_index("code")
    assert list(result.table.columns) == [
        "code", "observed", "exposure", "expected", "low", "high", "ratio", "ratio_low", "ratio_high", "flag",
    ]
    assert set(table["flag"]) <= set(FLAGS)
    assert (table.loc[sorted(better), "flag"] == "much_better").all()
    assert (table.loc[sorted(worse), "flag"] == "much_worse").all()
    others = table.drop(index=sorted(better | worse))
    false_rate = float((others["flag"] != "as_expected").mean())
    assert false_rate < false_flag_bound(len(others)), false_rate
    assert (table["low"] <= table["high"]).all() and (table["low"] <= table["expected"]).all()
    np.testing.assert_allclose(table["ratio"], table["observed"] / table["expected"])


def test_exact_quantile_interval_agrees_with_the_simulated_one(fitted) -> None:
    frame, better, worse, simulated_result = fitted
    exact = positive_deviance(frame, "cases", "population", ["x1", "x2"], interval="quantile")
    a, b = simulated_result.table, exact.table
    # parameter uncertainty widens the simulated interval a little (up to Monte Carlo noise)
    width_ratio = (a["high"] - a["low"]) / (b["high"] - b["low"])
    assert width_ratio[b["high"] > 20].median() >= 0.99
    assert (a["flag"] == b["flag"]).mean() > 0.97
    assert set(b.loc[b["flag"] == "much_worse", "code"]) >= worse


def test_ratio_interval_exact_and_byar() -> None:
    # Garwood's exact 95% limits: 0 -> (0, 3.689); 10 -> (4.795, 18.390)
    frame = pd.DataFrame({
        "code": list("ABCDEFGH"), "cases": [0, 10, 3, 7, 12, 5, 9, 4],
        "population": [1000, 2000, 1500, 1800, 2500, 1200, 2200, 1300], "x": [0.1, 0.5, 0.2, 0.3, 0.6, 0.2, 0.4, 0.3],
    })
    exact = positive_deviance(frame, "cases", "population", ["x"], interval="quantile").table
    limits = exact[["ratio_low", "ratio_high"]].mul(exact["expected"], axis=0)
    np.testing.assert_allclose(limits.iloc[0], [0, 3.6889], atol=1e-4)
    np.testing.assert_allclose(limits.iloc[1], [4.7954, 18.3904], atol=1e-4)
    byar = positive_deviance(frame, "cases", "population", ["x"], interval="quantile", ratio_interval="byar").table
    np.testing.assert_allclose(byar["ratio_high"], exact["ratio_high"], rtol=0.02)
    np.testing.assert_allclose(byar["ratio_low"].iloc[1:], exact["ratio_low"].iloc[1:], rtol=0.05)


def test_missing_rows_stay_as_not_modelled_and_bad_counts_are_refused() -> None:
    frame, _, _ = simulated()
    gaps = frame.copy()
    gaps.loc[3, "x1"] = np.nan
    gaps.loc[4, "population"] = 0
    table = positive_deviance(gaps, "cases", "population", ["x1", "x2"], interval="quantile").table
    assert len(table) == N and table.loc[[3, 4], "flag"].tolist() == ["not_modelled", "not_modelled"]
    assert table.loc[[3, 4], "expected"].isna().all() and table["expected"].notna().sum() == N - 2
    flipped = positive_deviance(frame, "cases", "population", ["x1", "x2"], interval="quantile",
                                higher_is_worse=False).table
    original = positive_deviance(frame, "cases", "population", ["x1", "x2"], interval="quantile").table
    assert (flipped["flag"] == "much_worse").sum() == (original["flag"] == "much_better").sum()
    bad = frame.assign(cases=frame["cases"].where(frame.index != 7, -2))
    with pytest.raises(DevianceError, match=r"whole numbers >= 0\); territory 'T007' has -2$"):
        positive_deviance(bad, "cases", "population", ["x1", "x2"])
    with pytest.raises(DevianceError, match="no column 'x3'"):
        positive_deviance(frame, "cases", "population", ["x1", "x3"])


def read_mexico() -> pd.DataFrame:
    needed = [HOMICIDES, POPULATION, CENSUS]
    missing = [p.name for p in needed if not p.exists()]
    if missing:
        what = f"{MX} does not exist" if not MX.is_dir() else f"{MX} lacks {', '.join(missing)}"
        pytest.fail(
            f"the Mexican test bed needs the shared data beside the repository: {what}. "
            "Restore the folder (its SOURCE*.txt files say where each file comes from) and run it again.",
            pytrace=False,
        )
    deaths = pd.read_csv(HOMICIDES, dtype={"cve_mun_ocurrencia": str},
                         usecols=["anio_registro", "cve_mun_ocurrencia", "homicidios"])
    deaths = deaths[deaths["anio_registro"] == 2015].groupby("cve_mun_ocurrencia")["homicidios"].sum()
    population = pd.read_csv(POPULATION, dtype={"CVE": str}, usecols=["CVE", "Municipio", "2015"])
    census = pd.read_csv(CENSUS, dtype={"region": str})
    census = pd.DataFrame({
        "code": census["region"],
        "indigenous": census["indigenous_language"] / census["pop"],
        "afromexican": census["afromexican"] / census["pop"],
        "metro": census["metro_area"].notna().astype(float),
    })
    frame = population.rename(columns={"CVE": "code", "Municipio": "name", "2015": "population"})
    frame = frame.merge(census, on="code", how="left")
    frame["homicides"] = frame["code"].map(deaths).fillna(0)
    return frame


def test_mexican_municipal_homicides_2015() -> None:
    frame = read_mexico()
    result = positive_deviance(frame, "homicides", "population", ["indigenous", "afromexican", "metro"], seed=2015)
    table = result.table.set_index("code")
    modelled = table[table["flag"] != "not_modelled"]
    # CONAPO municipalities without a 2020 census row have no covariates; they stay in the table
    assert len(table) == len(frame) and len(modelled) >= len(frame) - 10
    assert (modelled["low"] <= modelled["high"]).all()
    # Acapulco (12001) had the most homicides of any Mexican municipality in 2015 (INEGI registered
    # 1,029 occurring there), several times what its population and census profile predict.
    assert table.loc["12001", "observed"] == 1029
    assert table.loc["12001", "flag"] == "much_worse"
    assert (modelled["flag"] != "as_expected").mean() < 0.10
    assert result.alpha > 0.5  # homicides are far more dispersed between municipalities than Poisson
