"""The territorial prioritisation index against hand computations, its Monte Carlo's properties,
and the Bolivian municipal census indicators as a test bed.

The expected scores are computed here, independently of the module: the literal values for the
min-max case were worked out by hand, and `hand_score` below is a plain-Python transcription of
the formulas the module documents (Handbook steps 5 and 6). The PCA weights are recomputed
from numpy's eigen decomposition of the correlation matrix with a brute-force varimax.
The Bolivian data are real (`<repo>/../shared/data/bo`, CC BY 4.0, Ultimate Consequences
database): without that folder the test fails, it does not skip.
"""

from __future__ import annotations

import itertools
import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from segura.territorial.index import (
    AGGREGATIONS,
    CLASSES,
    IMPUTATIONS,
    NORMALISATIONS,
    WEIGHTINGS,
    Alternatives,
    Choice,
    Component,
    IndexSpec,
    IndexSpecError,
    compute_index,
    index_weights,
    priority_classes,
    uncertainty,
)

BO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bo"
BO_INDICATORS = BO / "bo_indicadores_municipios_cpv2012.csv"

# Four territories, three components: a (worse when higher), b (better when higher), c (worse).
SMALL = pd.DataFrame({
    "code": ["U1", "U2", "U3", "U4"],
    "name": ["Uno", "Dos", "Tres", "Cuatro"],
    "a": [10.0, 20.0, 30.0, 40.0],
    "b": [50.0, 40.0, 80.0, 30.0],
    "c": [2.0, 8.0, 4.0, 6.0],
})
SMALL_SPEC = IndexSpec(components=(
    Component("a", "higher_is_worse", "violence", weight=1, target=15),
    Component("b", "higher_is_better", "risk", weight=2, target=60),
    Component("c", "higher_is_worse", "risk", weight=1, target=5),
))


def hand_normalise(values: list[float], worse_when_higher: bool, method: str, target: float) -> list[float]:
    sign = 1 if worse_when_higher else -1
    v = [sign * x for x in values]
    if method == "minmax":
        return [(x - min(v)) / (max(v) - min(v)) for x in v]
    if method == "zscore":
        mean, sd = statistics.fmean(v), statistics.pstdev(v)
        return [(x - mean) / sd for x in v]
    if method == "rank":  # no ties in SMALL: 1 = least bad
        order = sorted(v)
        return [float(order.index(x) + 1) for x in v]
    return [sign * (x - target) / abs(target) for x in values]


def hand_score(frame: pd.DataFrame, normalisation: str, aggregation: str, weights: list[float]) -> list[float]:
    columns = [
        hand_normalise(list(frame["a"]), True, normalisation, 15),
        hand_normalise(list(frame["b"]), False, normalisation, 60),
        hand_normalise(list(frame["c"]), True, normalisation, 5),
    ]
    if aggregation == "geometric":  # shifted so that each component's smallest value is 1
        columns = [[x - min(col) + 1 for x in col] for col in columns]
    scores = []
    for i in range(len(frame)):
        if aggregation == "arithmetic":
            scores.append(sum(w * col[i] for w, col in zip(weights, columns, strict=True)))
        else:
            scores.append(math.prod(col[i] ** w for w, col in zip(weights, columns, strict=True)))
    return scores


def hand_rank(scores: list[float]) -> list[int]:
    order = sorted(scores, reverse=True)
    return [order.index(s) + 1 for s in scores]


def test_min_max_arithmetic_by_hand() -> None:
    # a: 0, 1/3, 2/3, 1; b: (80 - b) / 50 = 0.6, 0.8, 0, 1; c: (c - 2) / 6 = 0, 1, 1/3, 2/3
    out = compute_index(SMALL, SMALL_SPEC, Choice("minmax", "equal", "arithmetic"))
    np.testing.assert_allclose(out["score"], [0.6 / 3, (1 / 3 + 0.8 + 1) / 3, 1 / 3, (1 + 1 + 2 / 3) / 3])
    assert out["rank"].tolist() == [4, 2, 3, 1]
    assert out["code"].tolist() == ["U1", "U2", "U3", "U4"] and out["name"].tolist()[0] == "Uno"


def test_min_max_geometric_by_hand() -> None:
    # shifted by +1: U1 = (1 x 1.6 x 1)^(1/3), U2 = (4/3 x 1.8 x 2)^(1/3), ...
    out = compute_index(SMALL, SMALL_SPEC, Choice("minmax", "equal", "geometric"))
    expected = [1.6 ** (1 / 3), 4.8 ** (1 / 3), (20 / 9) ** (1 / 3), (20 / 3) ** (1 / 3)]
    np.testing.assert_allclose(out["score"], expected)


def test_expert_weights_by_hand() -> None:
    # weights 1, 2, 1 -> 1/4, 1/2, 1/4 on the min-max values
    out = compute_index(SMALL, SMALL_SPEC, Choice("minmax", "expert", "arithmetic"))
    np.testing.assert_allclose(out["score"], [0.3, 1 / 12 + 0.4 + 0.25, 1 / 6 + 1 / 12, 0.25 + 0.5 + 1 / 6])


@pytest.mark.parametrize(("normalisation", "aggregation"), list(itertools.product(NORMALISATIONS, AGGREGATIONS)))
def test_each_normalisation_and_aggregation_by_hand(normalisation: str, aggregation: str) -> None:
    out = compute_index(SMALL, SMALL_SPEC, Choice(normalisation, "equal", aggregation))
    expected = hand_score(SMALL, normalisation, aggregation, [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(out["score"], expected, rtol=1e-12)
    assert out["rank"].tolist() == hand_rank(expected)


def test_group_weights_split_the_total_between_groups() -> None:
    # a is the only 'violence' component: half the weight; b and c share the other half
    spec = IndexSpec(components=SMALL_SPEC.components, group_weights={"violence": 0.5, "risk": 0.5})
    np.testing.assert_allclose(index_weights(SMALL, spec), [0.5, 0.25, 0.25])
    out = compute_index(SMALL, spec, Choice("zscore"))
    np.testing.assert_allclose(out["score"], hand_score(SMALL, "zscore", "arithmetic", [0.5, 0.25, 0.25]))


@pytest.mark.parametrize(("imputation", "filled"), [("mean", 80 / 3), ("median", 30.0), ("knn", 40.0)])
def test_imputation_by_hand(imputation: str, filled: float) -> None:
    # U2 lacks a. knn (k = 1): over the z-scored b and c, U2's nearest territory is U4 (a = 40):
    # mean squared distance 0.54 against 3.74 (U1) and 3.89 (U3).
    gap = SMALL.assign(a=[10.0, None, 30.0, 40.0])
    spec = IndexSpec(components=SMALL_SPEC.components, knn_neighbours=1)
    out = compute_index(gap, spec, Choice("minmax", imputation=imputation))
    expected = hand_score(SMALL.assign(a=[10.0, filled, 30.0, 40.0]), "minmax", "arithmetic", [1 / 3] * 3)
    np.testing.assert_allclose(out["score"], expected)


def test_knn_averages_k_neighbours() -> None:
    gap = SMALL.assign(a=[10.0, None, 30.0, 40.0])
    spec = IndexSpec(components=SMALL_SPEC.components, knn_neighbours=2)  # U4 and U1: (40 + 10) / 2
    out = compute_index(gap, spec, Choice("minmax", imputation="knn"))
    expected = hand_score(SMALL.assign(a=[10.0, 25.0, 30.0, 40.0]), "minmax", "arithmetic", [1 / 3] * 3)
    np.testing.assert_allclose(out["score"], expected)


def test_imputation_none_drops_the_incomplete_territory() -> None:
    gap = SMALL.assign(a=[10.0, None, 30.0, 40.0])
    out = compute_index(gap, SMALL_SPEC, Choice("minmax", imputation="none"))
    rest = SMALL.drop(index=1).reset_index(drop=True)
    expected = hand_score(rest, "minmax", "arithmetic", [1 / 3] * 3)
    assert np.isnan(out["score"][1]) and out["rank"].isna().tolist() == [False, True, False, False]
    np.testing.assert_allclose(out["score"].drop(index=1), expected)
    assert out["rank"].drop(index=1).tolist() == hand_rank(expected)


# --------------------------------------------------------------------------- PCA weights


def varimax_by_grid(loadings: np.ndarray) -> np.ndarray:
    """Kaiser-normalised varimax for two factors: the angle that maximises the criterion."""
    h = np.sqrt((loadings**2).sum(axis=1, keepdims=True))
    a = loadings / h

    def minus_criterion(theta: float) -> float:
        rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        sq = (a @ rotation) ** 2
        return -float(((sq**2).mean(axis=0) - sq.mean(axis=0) ** 2).sum())

    grid = np.linspace(0, np.pi / 2, 20001)
    best = grid[np.argmin([minus_criterion(t) for t in grid])]
    theta = optimize.minimize_scalar(minus_criterion, bounds=(best - 1e-3, best + 1e-3), method="bounded",
                                     options={"xatol": 1e-12}).x
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return (a @ rotation) * h


def frame_of(matrix: np.ndarray) -> tuple[pd.DataFrame, IndexSpec]:
    columns = [f"x{j}" for j in range(matrix.shape[1])]
    frame = pd.DataFrame(matrix, columns=columns).assign(code=[f"T{i}" for i in range(len(matrix))], name="")
    return frame, IndexSpec(components=tuple(Component(c) for c in columns))


def test_pca_weights_of_two_indicators_are_equal() -> None:
    # correlation matrix [[1, r], [r, 1]]: eigenvalues 1 + r (kept) and 1 - r; eigenvector
    # (1, 1)/sqrt(2); both loadings sqrt((1 + r)/2), so both weights 1/2
    rng = np.random.default_rng(1)
    f = rng.normal(size=50)
    frame, spec = frame_of(np.column_stack([f + rng.normal(size=50), 3 * f + rng.normal(size=50)]))
    np.testing.assert_allclose(index_weights(frame, spec, Choice(weighting="pca")), [0.5, 0.5])


def test_pca_weights_one_factor_against_eigh() -> None:
    rng = np.random.default_rng(2)
    f = rng.normal(size=300)
    x = np.column_stack([f + 0.3 * rng.normal(size=300), f + 0.7 * rng.normal(size=300), f + 1.5 * rng.normal(size=300)])
    values, vectors = np.linalg.eigh(np.corrcoef(x.T))
    assert (values > 1).sum() == 1  # the case this test is about
    top = vectors[:, np.argmax(values)]
    expected = top**2 / (top**2).sum()  # (loading^2 = v^2 lambda) scaled to unity sum
    frame, spec = frame_of(x)
    np.testing.assert_allclose(index_weights(frame, spec, Choice(weighting="pca")), expected, rtol=1e-8)


def test_pca_weights_two_factors_against_eigh_and_varimax() -> None:
    rng = np.random.default_rng(3)
    f, g = rng.normal(size=(2, 400))
    x = np.column_stack([
        f + 0.4 * rng.normal(size=400), f + 0.8 * rng.normal(size=400),
        g + 0.5 * rng.normal(size=400), g + 0.3 * f + 1.0 * rng.normal(size=400),
    ])
    values, vectors = np.linalg.eigh(np.corrcoef(x.T))
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    assert (values > 1).sum() == 2  # the case this test is about
    rotated = varimax_by_grid(vectors[:, :2] * np.sqrt(values[:2]))
    sq = rotated**2
    # Handbook: each indicator's squared loading on its main factor, scaled to unity sum within
    # the factor (sq / column sum), times the factor's share of explained variance (column sum /
    # total); then scaled to sum 1
    main = sq.argmax(axis=1)
    w = np.array([sq[i, k] / sq[:, k].sum() * sq[:, k].sum() / sq.sum() for i, k in enumerate(main)])
    frame, spec = frame_of(x)
    got = index_weights(frame, spec, Choice(weighting="pca"))
    np.testing.assert_allclose(got, w / w.sum(), rtol=1e-5)
    assert set(main[:2]) != set(main[2:])  # the two blocks load on different factors


# --------------------------------------------------------------------------- Monte Carlo


def test_worst_on_every_component_ranks_first_under_every_choice() -> None:
    frame = pd.DataFrame({
        "code": ["W", "A", "B", "C", "D", "E"],
        "name": "",
        "a": [99.0, 10, 40, 20, None, 35],  # worse when higher: W has the most
        "b": [1.0, 50, 20, 80, 30, 45],  # better when higher: W has the least
        "c": [9.0, 2, 8, 4, 6, None],
    })
    spec = IndexSpec(
        components=SMALL_SPEC.components,
        alternatives=Alternatives(imputation=IMPUTATIONS),
        group_weights={"violence": 0.7, "risk": 0.3},
        knn_neighbours=2,
    )
    for normalisation, weighting, aggregation, imputation in itertools.product(
        NORMALISATIONS, WEIGHTINGS, AGGREGATIONS, IMPUTATIONS
    ):
        out = compute_index(frame, spec, Choice(normalisation, weighting, aggregation, imputation))
        assert out["rank"][0] == 1, (normalisation, weighting, aggregation, imputation)
    result = uncertainty(frame, spec, n=400, seed=11)
    w = result.table.set_index("code").loc["W"]
    assert (w["median_rank"], w["rank_low"], w["rank_high"]) == (1, 1, 1)
    assert (result.ranks[:, 0] == 1).all()
    assert set(result.draws["imputation"]) == set(IMPUTATIONS)  # every option was drawn


def test_intervals_widen_when_components_disagree() -> None:
    rng = np.random.default_rng(5)
    truth = rng.normal(size=40)

    def widths(second: np.ndarray) -> float:
        frame, spec = frame_of(np.column_stack([truth, second]))
        table = uncertainty(frame, spec, n=300, seed=1).table
        return float((table["rank_high"] - table["rank_low"]).mean())

    agree = widths(truth + 0.05 * rng.normal(size=40))
    disagree = widths(rng.normal(size=40))
    assert disagree > 3 * agree, (agree, disagree)


def test_same_seed_same_answer() -> None:
    spec = IndexSpec(components=SMALL_SPEC.components)
    one, two = uncertainty(SMALL, spec, n=200, seed=42), uncertainty(SMALL, spec, n=200, seed=42)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.draws, two.draws)
    np.testing.assert_array_equal(one.ranks, two.ranks)
    assert not np.array_equal(uncertainty(SMALL, spec, n=200, seed=43).ranks, one.ranks)


def test_first_order_share_is_one_when_a_single_choice_varies() -> None:
    # only the aggregation changes between draws: it explains all of the rank variance
    rng = np.random.default_rng(8)
    frame, _ = frame_of(rng.lognormal(size=(30, 3)))
    spec = IndexSpec(
        components=tuple(Component(c) for c in ("x0", "x1", "x2")),
        alternatives=Alternatives(normalisation=("zscore",), weighting=("equal",), imputation=("mean",)),
        weight_perturbation=0.0,
    )
    result = uncertainty(frame, spec, n=400, seed=3)
    shares = result.sensitivity.set_index("factor")["first_order"]
    assert result.ranks.std(axis=0).max() > 0  # the two aggregations do rank differently here
    assert shares["aggregation"] == pytest.approx(1.0)
    assert shares.drop("aggregation").abs().max() == 0


def test_priority_classes_rule() -> None:
    # n = 10, fifths: very_high needs rank_high <= 2; high a median <= 4; very_low rank_low > 8;
    # low a median > 6
    median = np.array([1, 2, 2, 4, 5, 6, 7, 9, 10, 10.0])
    low = np.array([1, 1, 1, 2, 3, 5, 5, 7, 9, 9.0])
    high = np.array([2, 2, 5, 6, 8, 8, 9, 10, 10, 10.0])
    assert priority_classes(median, low, high, 0.2).tolist() == [
        "very_high", "very_high", "high", "high", "medium", "medium", "low", "low", "very_low", "very_low",
    ]


def test_spec_errors_name_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(IndexSpecError, match="did you mean 'normalisation'"):
        IndexSpec.from_dict({"components": [{"column": "a"}], "reference": {"normalization": "minmax"}})
    with pytest.raises(IndexSpecError, match="did you mean 'higher_is_worse'"):
        IndexSpec.from_dict({"components": [{"column": "a", "direction": "higher_is_wors"}]})
    with pytest.raises(IndexSpecError, match=r"needs a target for every component; \['b'\]"):
        IndexSpec.from_dict({
            "components": [{"column": "a", "target": 3}, {"column": "b"}],
            "reference": {"normalisation": "target"},
        })
    with pytest.raises(IndexSpecError, match="no column 'cc'; did you mean 'c'"):
        compute_index(SMALL, IndexSpec(components=(Component("cc"),)))
    with pytest.raises(IndexSpecError, match=r"not a number: '10,0'"):
        compute_index(SMALL.assign(a=["10,0", "1", "2", "3"]), SMALL_SPEC)
    bad = tmp_path / "bad.yaml"
    bad.write_text("components: [{column: a}]\nweight_perturbaton: 0.1\n", encoding="utf-8")
    with pytest.raises(IndexSpecError, match=r"bad.yaml: unknown key 'weight_perturbaton'; did you mean"):
        IndexSpec.from_yaml(bad)


# --------------------------------------------------------------------------- Bolivia

BOLIVIA_SPEC = """\
# Deprivation-based risk factors from the 2012 census (INE Bolivia), one row per municipality
code: code
name: name
components:
  - {column: "t_taf>15", direction: higher_is_better, group: risk, target: 95}   # literacy, 15+
  - {column: est_sal_ultpar, direction: higher_is_better, group: risk, target: 90} # last birth in a health facility
  - {column: rural, direction: higher_is_worse, group: risk, target: 50}           # rural population share
  - {column: "t_ae(6_19)", direction: higher_is_better, group: risk, target: 90}  # school attendance 6-19
reference: {normalisation: minmax, weighting: equal, aggregation: arithmetic, imputation: mean}
weight_perturbation: 0.25
"""
CAPITALS = {  # the nine departmental capitals (INE codes)
    "010101": "Sucre", "020101": "La Paz", "030101": "Cochabamba", "040101": "Oruro",
    "050101": "Potosí", "060101": "Tarija", "070101": "Santa Cruz de la Sierra",
    "080101": "Trinidad", "090101": "Cobija",
}


def read_bolivia() -> pd.DataFrame:
    if not BO_INDICATORS.exists():
        what = f"{BO} does not exist" if not BO.is_dir() else f"{BO} lacks {BO_INDICATORS.name}"
        pytest.fail(
            f"the Bolivian test bed needs the shared data beside the repository: {what}. "
            "Restore the folder (its SOURCE.txt says where each file comes from) and run it again.",
            pytrace=False,
        )
    frame = pd.read_csv(BO_INDICATORS, dtype={"cod.mun": str})
    for column in frame.columns[2:]:  # some columns are quoted with decimal commas ("10,0")
        if frame[column].dtype == object:
            frame[column] = pd.to_numeric(frame[column].str.replace(",", ".", regex=False))
    return frame.rename(columns={"cod.mun": "code", "departamento_y_municipio": "name"})


def test_bolivian_municipalities_end_to_end(tmp_path: Path) -> None:
    frame = read_bolivia()
    assert len(frame) == 339 and frame["code"].is_unique
    path = tmp_path / "bolivia.yaml"
    path.write_text(BOLIVIA_SPEC, encoding="utf-8")
    spec = IndexSpec.from_yaml(path)
    result = uncertainty(frame, spec, n=1000, seed=2012)
    table = result.table

    assert list(table.columns) == ["code", "name", "score", "rank", "median_rank", "rank_low", "rank_high", "class"]
    assert len(table) == 339 and set(table["code"]) == set(frame["code"])
    assert table[["score", "rank", "median_rank", "rank_low", "rank_high"]].notna().all().all()
    assert (table["rank_low"] <= table["median_rank"]).all() and (table["median_rank"] <= table["rank_high"]).all()
    assert table["rank_low"].min() >= 1 and table["rank_high"].max() <= 339
    assert set(table["class"]) <= set(CLASSES) and table["median_rank"].is_monotonic_increasing

    # The components measure deprivation (illiteracy, births outside health facilities, rural
    # population, children out of school), and the departmental capitals are the most urban and
    # best served municipalities: each one's whole 90% interval lies in the lower-priority half.
    capitals = table.set_index("code").loc[list(CAPITALS)]
    assert (capitals["rank_low"] > 339 / 2).all(), capitals[["name", "median_rank", "rank_low"]]
    assert set(capitals["class"]) <= {"low", "very_low"}
    # An indicator left out of the index moves with it: the share of adults without any schooling.
    merged = table.merge(frame[["code", "nin_(ni>19)"]], on="code")
    assert stats.spearmanr(merged["score"], merged["nin_(ni>19)"]).statistic > 0.5

    shares = result.sensitivity.set_index("factor")["first_order"]
    assert set(shares.index) == {"normalisation", "weighting", "aggregation", "imputation"} | {
        f"weight:{c.column}" for c in spec.components
    }
    assert shares.between(0, 1).all() and shares.sum() <= 1.05
    assert shares["imputation"] < 0.01  # no value is missing: imputation cannot matter
