"""Territorial prioritisation index: a composite indicator, and how far its ranking can be trusted.

The index follows the steps of the OECD/JRC *Handbook on Constructing Composite Indicators:
Methodology and User Guide* (Nardo, Saisana, Saltelli, Tarantola, Hoffmann and Giovannini, OECD
2008): chosen indicators (`Component`), imputation of missing values, normalisation, weights and
aggregation. Each step has defensible alternatives, so `uncertainty` runs the JRC's uncertainty
analysis (Saisana, Saltelli and Tarantola 2005, "Uncertainty and sensitivity analysis techniques
as tools for the quality assessment of composite indicators", J. R. Stat. Soc. A 168(2)): a Monte
Carlo over the choices and over weights perturbed around their nominal values gives each territory
a median rank and a rank interval, and a variance decomposition says which choice moves the
ranking most. Priority classes are read from those intervals (`priority_classes`).

Conventions: after normalisation every component points the same way (higher = worse, so a higher
score is a higher priority), and rank 1 is the highest priority.
"""

from __future__ import annotations

import difflib
import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from segura.errors import SeguraError

DIRECTIONS = ("higher_is_worse", "higher_is_better")
GROUPS = ("violence", "risk")
NORMALISATIONS = ("minmax", "zscore", "rank", "target")
WEIGHTINGS = ("equal", "expert", "pca")
AGGREGATIONS = ("arithmetic", "geometric")
IMPUTATIONS = ("mean", "median", "knn", "none")
STEPS = ("normalisation", "weighting", "aggregation", "imputation")

# Priority classes, highest first, with what a person reads (Spanish, English).
CLASSES = ("very_high", "high", "medium", "low", "very_low")
CLASS_LABELS = {
    "very_high": {"es": "muy alta", "en": "very high"},
    "high": {"es": "alta", "en": "high"},
    "medium": {"es": "media", "en": "medium"},
    "low": {"es": "baja", "en": "low"},
    "very_low": {"es": "muy baja", "en": "very low"},
}


class IndexSpecError(SeguraError):
    """An index specification, or a frame it is applied to, that cannot be used as it is."""

    exit_code = 2


# --------------------------------------------------------------------------- the specification


@dataclass(frozen=True)
class Component:
    """One indicator of the index: a column, which way is worse, its group, and optional
    expert weight and target (for the distance-to-target normalisation)."""

    column: str
    direction: str = "higher_is_worse"
    group: str = "risk"
    weight: float | None = None
    target: float | None = None

    def __post_init__(self) -> None:
        where = f"component {self.column!r}"
        _check_option(self.direction, DIRECTIONS, f"{where}: direction")
        _check_option(self.group, GROUPS, f"{where}: group")
        if self.weight is not None and not (np.isfinite(self.weight) and self.weight >= 0):
            raise IndexSpecError(f"{where}: weight = {self.weight!r}; expected a number >= 0")
        if self.target is not None and not (np.isfinite(self.target) and self.target != 0):
            raise IndexSpecError(
                f"{where}: target = {self.target!r}; expected a non-zero number (the distance to a "
                "target is relative to it: (value - target) / |target|)"
            )


@dataclass(frozen=True)
class Choice:
    """One way of building the index: a normalisation, a weighting, an aggregation, an imputation."""

    normalisation: str = "minmax"
    weighting: str = "equal"
    aggregation: str = "arithmetic"
    imputation: str = "mean"

    def __post_init__(self) -> None:
        for step, options in zip(STEPS, (NORMALISATIONS, WEIGHTINGS, AGGREGATIONS, IMPUTATIONS), strict=True):
            _check_option(getattr(self, step), options, f"choice: {step}")


@dataclass(frozen=True)
class Alternatives:
    """The options the Monte Carlo samples for each step (each with equal probability).

    A step left as None takes every option the components allow: 'target' only when every
    component has a target, 'expert' only when every component has a weight; imputation
    defaults to mean, median and knn ('none' drops territories, so a territory's ranks would
    be counted among different numbers of territories; ask for it explicitly if wanted).
    """

    normalisation: tuple[str, ...] | None = None
    weighting: tuple[str, ...] | None = None
    aggregation: tuple[str, ...] | None = None
    imputation: tuple[str, ...] | None = None


@dataclass(frozen=True)
class IndexSpec:
    """A declarative index: its components, the reference choice, the alternatives for the
    uncertainty analysis, and how territories are named in the frame.

    `group_weights` (e.g. {"violence": 0.5, "risk": 0.5}) rescales any weighting so that each
    group's components add up to the group's weight; None leaves the weights as they are.
    `weight_perturbation` x multiplies each weight by a uniform factor in [1 - x, 1 + x] in
    every Monte Carlo draw (then the weights are rescaled to sum 1). `top_share` is the share of
    territories that the priority classes call the top (and the bottom), 0.2 = fifths.
    """

    components: tuple[Component, ...]
    reference: Choice = field(default_factory=Choice)
    alternatives: Alternatives = field(default_factory=Alternatives)
    group_weights: Mapping[str, float] | None = None
    weight_perturbation: float = 0.25
    knn_neighbours: int = 5
    top_share: float = 0.2
    code: str = "code"
    name: str | None = "name"

    def __post_init__(self) -> None:
        if not self.components:
            raise IndexSpecError("an index needs at least one component")
        columns = [c.column for c in self.components]
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise IndexSpecError(f"components repeat the column(s) {repeated}; list each column once")
        if self.group_weights is not None:
            for group, weight in self.group_weights.items():
                _check_option(group, GROUPS, "group_weights")
                if not (np.isfinite(weight) and weight >= 0):
                    raise IndexSpecError(f"group_weights.{group} = {weight!r}; expected a number >= 0")
            missing = sorted({c.group for c in self.components} - set(self.group_weights))
            if missing:
                raise IndexSpecError(
                    f"group_weights has no weight for the group(s) {missing} that components use"
                )
        if not 0 <= self.weight_perturbation < 1:
            raise IndexSpecError(
                f"weight_perturbation = {self.weight_perturbation!r}; expected a share in [0, 1), "
                "e.g. 0.25 for +-25%"
            )
        if not 0 < self.top_share <= 0.5:
            raise IndexSpecError(f"top_share = {self.top_share!r}; expected a share in (0, 0.5]")
        if self.knn_neighbours < 1:
            raise IndexSpecError(f"knn_neighbours = {self.knn_neighbours!r}; expected 1 or more")
        self.check(self.reference)
        for step, options in self.options().items():
            if not options:
                raise IndexSpecError(f"alternatives.{step} is empty; give at least one option")
            for option in options:
                self.check(replace(self.reference, **{step: option}))

    def check(self, choice: Choice) -> None:
        """Raise IndexSpecError when the components cannot support `choice`."""
        if choice.normalisation == "target":
            lacking = [c.column for c in self.components if c.target is None]
            if lacking:
                raise IndexSpecError(
                    f"normalisation 'target' needs a target for every component; {lacking} have none"
                )
        if choice.weighting == "expert":
            lacking = [c.column for c in self.components if c.weight is None]
            if lacking:
                raise IndexSpecError(
                    f"weighting 'expert' needs a weight for every component; {lacking} have none"
                )
            if sum(c.weight or 0.0 for c in self.components) <= 0:
                raise IndexSpecError("weighting 'expert': the expert weights add up to 0")

    def options(self) -> dict[str, tuple[str, ...]]:
        """The options the Monte Carlo samples for each step (see `Alternatives`)."""
        all_targets = all(c.target is not None for c in self.components)
        all_weights = all(c.weight is not None for c in self.components)
        defaults = {
            "normalisation": tuple(n for n in NORMALISATIONS if n != "target" or all_targets),
            "weighting": tuple(w for w in WEIGHTINGS if w != "expert" or all_weights),
            "aggregation": AGGREGATIONS,
            "imputation": ("mean", "median", "knn"),
        }
        given = {step: getattr(self.alternatives, step) for step in STEPS}
        return {step: tuple(given[step]) if given[step] is not None else defaults[step] for step in STEPS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "index spec") -> IndexSpec:
        """Build a spec from plain data (as read from YAML); unknown keys are errors."""
        if not isinstance(data, Mapping):
            raise IndexSpecError(f"{origin}: expected a mapping, got {type(data).__name__}")
        _check_keys(data, [f.name for f in fields(cls)], origin)
        raw = data.get("components")
        if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
            raise IndexSpecError(f"{origin}: components must be a non-empty list of mappings")
        components = []
        for i, item in enumerate(raw):
            where = f"{origin}: components[{i}]"
            if not isinstance(item, Mapping) or "column" not in item:
                raise IndexSpecError(f"{where}: expected a mapping with at least 'column'")
            _check_keys(item, [f.name for f in fields(Component)], where)
            components.append(Component(**{k: _number(v, k, where) for k, v in item.items()}))
        kwargs: dict[str, Any] = {"components": tuple(components)}
        if "reference" in data:
            _check_keys(data["reference"], STEPS, f"{origin}: reference")
            kwargs["reference"] = Choice(**data["reference"])
        if "alternatives" in data:
            _check_keys(data["alternatives"], STEPS, f"{origin}: alternatives")
            kwargs["alternatives"] = Alternatives(
                **{k: tuple([v] if isinstance(v, str) else v) for k, v in data["alternatives"].items()}
            )
        for key in ("group_weights", "weight_perturbation", "knn_neighbours", "top_share", "code", "name"):
            if key in data:
                kwargs[key] = data[key]
        try:
            return cls(**kwargs)
        except IndexSpecError as e:
            raise IndexSpecError(f"{origin}: {e}") from e

    @classmethod
    def from_yaml(cls, path: str | Path) -> IndexSpec:
        """Read a spec from a YAML file with the keys of `from_dict`."""
        import yaml

        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise IndexSpecError(f"{path}: cannot read the index spec: {e}") from e
        return cls.from_dict(data, origin=str(path))


def _check_option(value: object, options: Sequence[str], where: str) -> None:
    if value not in options:
        close = difflib.get_close_matches(str(value), list(options), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise IndexSpecError(f"{where} = {value!r}; expected one of {', '.join(options)}{hint}")


def _check_keys(data: Any, allowed: Sequence[str], where: str) -> None:
    if not isinstance(data, Mapping):
        raise IndexSpecError(f"{where}: expected a mapping, got {type(data).__name__}")
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise IndexSpecError(f"{where}: unknown key {key!r}{hint}")


def _number(value: Any, key: str, where: str) -> Any:
    if key in ("weight", "target") and value is not None:
        try:
            return float(value)
        except (TypeError, ValueError) as e:
            raise IndexSpecError(f"{where}: {key} = {value!r}; expected a number") from e
    return value


# --------------------------------------------------------------------------- the steps


def _matrix(frame: pd.DataFrame, spec: IndexSpec) -> np.ndarray:
    """The components' columns as floats (territories x components), checked."""
    wanted = [spec.code] + ([spec.name] if spec.name else []) + [c.column for c in spec.components]
    for column in wanted:
        if column not in frame.columns:
            close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            if column == spec.name and not close:
                hint = "; set the spec's name to the column of territory names, or to None"
            raise IndexSpecError(f"the frame has no column {column!r}{hint}")
    codes = frame[spec.code]
    if codes.isna().any() or codes.duplicated().any():
        bad = codes[codes.isna() | codes.duplicated(keep=False)].astype(str).unique()[:5].tolist()
        raise IndexSpecError(f"column {spec.code!r} must name each territory once; repeated or empty: {bad}")
    out = np.empty((len(frame), len(spec.components)))
    for j, component in enumerate(spec.components):
        values = pd.to_numeric(frame[component.column], errors="coerce")
        bad = frame[component.column].notna() & values.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise IndexSpecError(
                f"column {component.column!r} has a value that is not a number: "
                f"{frame[component.column].iloc[i]!r} (territory {codes.iloc[i]!r}); convert it "
                "first (decimal commas: replace ',' by '.')"
            )
        out[:, j] = values.to_numpy(dtype=float)
    if np.isinf(out).any():
        raise IndexSpecError("the components hold infinite values; replace them or leave them empty")
    return out


def _impute(x: np.ndarray, method: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill missing values; returns the filled matrix and which territories stay in the index.

    mean/median: the component's mean or median over the territories that have it. knn: the mean
    of the k nearest territories that have the value, by Euclidean distance over the components
    both have, each z-scored (mean squared difference, so different numbers of shared components
    compare). none: territories with any missing component leave the index.
    """
    missing = np.isnan(x)
    keep = np.ones(len(x), dtype=bool)
    if not missing.any():
        return x, keep
    empty = missing.all(axis=0)
    if empty.any():
        raise IndexSpecError(f"component number(s) {np.flatnonzero(empty).tolist()} have no value at all")
    if method == "none":
        return x, ~missing.any(axis=1)
    filled = x.copy()
    if method in ("mean", "median"):
        centre = np.nanmean(x, axis=0) if method == "mean" else np.nanmedian(x, axis=0)
        rows, cols = np.nonzero(missing)
        filled[rows, cols] = centre[cols]
        return filled, keep
    sd = np.nanstd(x, axis=0)
    z = (x - np.nanmean(x, axis=0)) / np.where(sd > 0, sd, 1.0)
    for i in np.flatnonzero(missing.any(axis=1)):
        shared = ~missing[i] & ~missing  # components both territory i and each other one have
        n_shared = shared.sum(axis=1)
        diff = np.where(shared, z - z[i], 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            distance = (diff**2).sum(axis=1) / n_shared
        distance[n_shared == 0] = np.inf
        distance[i] = np.inf
        for j in np.flatnonzero(missing[i]):
            donors = np.flatnonzero(~missing[:, j])
            nearest = donors[np.argsort(distance[donors], kind="stable")[:k]]
            filled[i, j] = x[nearest, j].mean()
    return filled, keep


def _normalise(x: np.ndarray, components: Sequence[Component], method: str) -> np.ndarray:
    """Normalised components, oriented so that higher is worse (Handbook, step 5).

    minmax: (x - min) / (max - min); zscore: (x - mean) / sd (population sd, ddof=0); rank: the
    rank among territories, 1 = least bad, ties averaged; target: (x - target) / |target|, the
    relative distance to the target (positive = worse than the target). A component without
    variation normalises to 0 (minmax, zscore): it cannot change a ranking.
    """
    sign = np.array([1.0 if c.direction == "higher_is_worse" else -1.0 for c in components])
    oriented = x * sign
    if method == "minmax":
        low, span = oriented.min(axis=0), np.ptp(oriented, axis=0)
        return np.where(span > 0, (oriented - low) / np.where(span > 0, span, 1.0), 0.0)
    if method == "zscore":
        sd = oriented.std(axis=0)
        return np.where(sd > 0, (oriented - oriented.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)
    if method == "rank":
        return np.asarray(stats.rankdata(oriented, axis=0, method="average"), dtype=float)
    targets = np.array([c.target for c in components], dtype=float)
    return sign * (x - targets) / np.abs(targets)


def _pca_weights(x: np.ndarray) -> np.ndarray:
    """Weights from principal components, as in the OECD/JRC Handbook on Constructing Composite
    Indicators (2008), "Weights based on principal components analysis or factor analysis" (its
    worked example on the Technology Achievement Index, Tables 16 and 17).

    Principal components of the correlation matrix (statsmodels' PCA on standardised data); keep
    the components with eigenvalue > 1 (Kaiser's rule, the first of the Handbook's criteria; it
    adds "more than 10% of the variance each, more than 60% together", which can keep a component
    just under 1, as its example does; we apply the eigenvalue rule alone, and keep at least one);
    loadings = eigenvectors x sqrt(eigenvalue); with two or more kept, rotate them by
    varimax (with Kaiser's row normalisation, as R's `varimax` and SPSS do). Each indicator is
    assigned to the factor on which its squared loading is highest; its weight is that squared
    loading scaled to unity sum within the factor, times the factor's share of the explained
    variance, which reduces to the squared loading over the total explained variance; the
    weights are finally scaled to sum 1. A constant component gets weight 0.
    """
    from statsmodels.multivariate.factor_rotation import rotate_factors
    from statsmodels.multivariate.pca import PCA

    varies = x.std(axis=0) > 0
    weights = np.zeros(x.shape[1])
    if varies.sum() == 1:
        weights[varies] = 1.0
        return weights
    if not varies.any():
        return np.full(x.shape[1], 1.0 / x.shape[1])
    with warnings.catch_warnings():  # fewer territories than components: statsmodels says how many
        # eigenvalues are positive; the zero ones are then below Kaiser's 1 and not kept anyway
        warnings.filterwarnings("ignore", message="Only .* eigenvalues are positive")
        pca = PCA(x[:, varies], standardize=True, demean=True, normalize=False, method="eig")
    values = np.asarray(pca.eigenvals, dtype=float)
    vectors = np.asarray(pca.eigenvecs, dtype=float)
    values = values * varies.sum() / values.sum()  # eigenvalues of the correlation matrix (trace = p)
    kept = max(1, int((values > 1).sum()))  # statsmodels sorts them in decreasing order
    loadings = vectors[:, :kept] * np.sqrt(values[:kept])
    if kept > 1:
        communality = np.sqrt((loadings**2).sum(axis=1, keepdims=True))
        rotated, _ = rotate_factors(loadings / communality, "varimax")
        loadings = np.asarray(rotated) * communality
    squared = loadings**2
    weights[varies] = squared.max(axis=1) / squared.sum()
    return weights / weights.sum()


def _weights(
    x: np.ndarray, components: Sequence[Component], method: str, group_weights: Mapping[str, float] | None
) -> np.ndarray:
    """Nominal weights (sum 1) of a weighting scheme, rescaled to the group weights if any."""
    if method == "equal":
        w = np.full(len(components), 1.0 / len(components))
    elif method == "expert":
        w = np.array([c.weight or 0.0 for c in components])
        w = w / w.sum()
    else:
        w = _pca_weights(x)
    if group_weights is not None:
        groups = np.array([c.group for c in components])
        for group in set(groups):
            inside = groups == group
            total = w[inside].sum()
            w[inside] = group_weights[group] * (w[inside] / total if total > 0 else 1.0 / inside.sum())
        if w.sum() <= 0:
            raise IndexSpecError("group_weights leave every component with weight 0")
        w = w / w.sum()
    return w


def _aggregate(y: np.ndarray, w: np.ndarray, method: str) -> np.ndarray:
    """Weighted arithmetic mean, or weighted geometric mean of the shifted values (see `_shift`)."""
    if method == "arithmetic":
        return y @ w
    return np.exp(np.log(_shift(y)) @ w)


def _shift(y: np.ndarray) -> np.ndarray:
    """Geometric aggregation needs strictly positive values (the Handbook, step 6: a log of zero
    or of a negative value has no meaning). We translate each normalised component so that its
    smallest value is 1: y - min(y) + 1. A translation keeps each normalisation's own scale (min-max
    becomes [1, 2], ranks stay 1..n), so the geometric mean still differs between normalisations;
    only the distance to target loses its zero (being at the target) in the shift."""
    return y - y.min(axis=0) + 1.0


def _rank(score: np.ndarray) -> np.ndarray:
    """Rank 1 = highest score (highest priority); ties share the best rank."""
    return np.asarray(stats.rankdata(-score, method="min"), dtype=float)


# --------------------------------------------------------------------------- the public API


def index_weights(frame: pd.DataFrame, spec: IndexSpec, choice: Choice | None = None) -> pd.Series:
    """The nominal weight of each component (sum 1) under `choice` (default: the reference)."""
    choice = choice or spec.reference
    spec.check(choice)
    x, keep = _impute(_matrix(frame, spec), choice.imputation, spec.knn_neighbours)
    w = _weights(x[keep], spec.components, choice.weighting, spec.group_weights)
    return pd.Series(w, index=[c.column for c in spec.components], name="weight")


def compute_index(frame: pd.DataFrame, spec: IndexSpec, choice: Choice | None = None) -> pd.DataFrame:
    """Score and rank of each territory under one choice (default: the spec's reference).

    Returns a frame in the input's order with columns code, name, score, rank; territories that
    imputation 'none' drops have no score and no rank.
    """
    choice = choice or spec.reference
    spec.check(choice)
    x, keep = _impute(_matrix(frame, spec), choice.imputation, spec.knn_neighbours)
    kept = x[keep]
    y = _normalise(kept, spec.components, choice.normalisation)
    w = _weights(kept, spec.components, choice.weighting, spec.group_weights)
    score = np.full(len(x), np.nan)
    rank = np.full(len(x), np.nan)
    score[keep] = _aggregate(y, w, choice.aggregation)
    rank[keep] = _rank(score[keep])
    return pd.DataFrame({
        "code": frame[spec.code].to_numpy(),
        "name": frame[spec.name].to_numpy() if spec.name else None,
        "score": score,
        "rank": pd.array(np.where(np.isnan(rank), pd.NA, rank), dtype="Int64"),
    })


@dataclass(frozen=True)
class IndexUncertainty:
    """What the Monte Carlo found.

    table: one row per territory, highest priority first: code, name, score and rank under the
    reference choice, median_rank, rank_low, rank_high (the interval holding `level` of the draws'
    ranks), class (`priority_classes`). sensitivity: the first-order share of rank variance of
    each step and of each component's weight (`first_order_shares`). draws: one row per draw, the
    option of each step and each component's weight factor. ranks: draws x territories (NaN where
    imputation 'none' dropped the territory).
    """

    table: pd.DataFrame
    sensitivity: pd.DataFrame
    draws: pd.DataFrame
    ranks: np.ndarray
    level: float


def uncertainty(
    frame: pd.DataFrame, spec: IndexSpec, n: int = 1000, seed: int | None = None, level: float = 0.90
) -> IndexUncertainty:
    """Monte Carlo over the choices of `spec.options()` and weights perturbed by
    +-`spec.weight_perturbation`: each territory's median rank and `level` rank interval.

    Every draw takes one option per step, each with equal probability, and multiplies each
    nominal weight by an independent uniform factor in [1 - x, 1 + x] (the JRC audits perturb
    weights this way, commonly by +-25%), then rescales the weights to sum 1.
    """
    if n < 1:
        raise IndexSpecError(f"n = {n!r}; expected at least one draw")
    if not 0 < level < 1:
        raise IndexSpecError(f"level = {level!r}; expected a share in (0, 1), e.g. 0.90")
    x = _matrix(frame, spec)
    options = spec.options()
    rng = np.random.default_rng(seed)
    picks = {step: rng.integers(len(options[step]), size=n) for step in STEPS}
    factors = rng.uniform(1 - spec.weight_perturbation, 1 + spec.weight_perturbation,
                          size=(n, len(spec.components)))

    imputed = {m: _impute(x, m, spec.knn_neighbours) for m in options["imputation"]}
    normalised: dict[tuple[str, str, str], np.ndarray] = {}
    for imp, norm in itertools.product(options["imputation"], options["normalisation"]):
        filled, keep = imputed[imp]
        y = _normalise(filled[keep], spec.components, norm)
        normalised[imp, norm, "arithmetic"] = y
        normalised[imp, norm, "geometric"] = np.log(_shift(y))
    nominal = {
        (imp, wm): _weights(imputed[imp][0][imputed[imp][1]], spec.components, wm, spec.group_weights)
        for imp, wm in itertools.product(options["imputation"], options["weighting"])
    }

    ranks = np.full((n, len(x)), np.nan)
    for i in range(n):
        imp, norm, wm, agg = (options[s][picks[s][i]] for s in ("imputation", "normalisation",
                                                                 "weighting", "aggregation"))
        w = nominal[imp, wm] * factors[i]
        w = w / w.sum()
        y = normalised[imp, norm, agg]
        score = y @ w  # the geometric mean's log: exp is monotone, so ranks need no exp
        ranks[i, imputed[imp][1]] = _rank(score)

    draws = pd.DataFrame({step: np.asarray(options[step], dtype=object)[picks[step]] for step in STEPS})
    for j, component in enumerate(spec.components):
        draws[f"weight:{component.column}"] = factors[:, j]

    reference = compute_index(frame, spec)
    ranked = ~np.isnan(ranks).all(axis=0)
    median = np.full(len(x), np.nan)
    low = np.full(len(x), np.nan)
    high = np.full(len(x), np.nan)
    tail = (1 - level) / 2
    median[ranked] = np.nanmedian(ranks[:, ranked], axis=0)
    low[ranked] = np.nanquantile(ranks[:, ranked], tail, axis=0, method="inverted_cdf")
    high[ranked] = np.nanquantile(ranks[:, ranked], 1 - tail, axis=0, method="inverted_cdf")
    table = reference.assign(median_rank=median, rank_low=low, rank_high=high)
    table["class"] = priority_classes(median, low, high, spec.top_share)
    table = table.sort_values(["median_rank", "rank"], kind="stable", na_position="last").reset_index(drop=True)
    return IndexUncertainty(
        table=table,
        sensitivity=first_order_shares(ranks, draws),
        draws=draws,
        ranks=ranks,
        level=level,
    )


def priority_classes(
    median_rank: np.ndarray, rank_low: np.ndarray, rank_high: np.ndarray, top_share: float = 0.2
) -> np.ndarray:
    """Priority class of each territory from its median rank and rank interval (rank 1 = first).

    With n ranked territories and s = top_share (0.2: fifths):
    - very_high: the whole interval lies in the top s (rank_high <= s n): a priority under
      (almost) every reasonable way of building the index;
    - high: not very_high, and the median rank is in the top 2s (median <= 2 s n);
    - very_low: the whole interval lies in the bottom s (rank_low > (1 - s) n);
    - low: not very_low, and the median rank is in the bottom 2s (median > (1 - 2 s) n);
    - medium: the rest.
    So the classes are the quintiles of the median rank, except that a territory only reaches an
    extreme class when its whole interval agrees (a league table read with its intervals, as
    Goldstein and Spiegelhalter 1996 recommend). Territories without ranks get no class (None).
    """
    median = np.asarray(median_rank, dtype=float)
    low = np.asarray(rank_low, dtype=float)
    high = np.asarray(rank_high, dtype=float)
    n = int(np.isfinite(median).sum())
    s = top_share
    out = np.full(median.shape, None, dtype=object)
    ok = np.isfinite(median)
    out[ok] = "medium"
    out[ok & (median > (1 - 2 * s) * n)] = "low"
    out[ok & (median <= 2 * s * n)] = "high"
    out[ok & (low > (1 - s) * n)] = "very_low"
    out[ok & (high <= s * n)] = "very_high"
    return out


def first_order_shares(ranks: np.ndarray, draws: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """First-order (Sobol main-effect) share of the rank variance explained by each factor.

    For a factor X and a territory's rank R, S = Var(E[R | X]) / Var(R), estimated from the
    Monte Carlo sample itself by conditioning: the ranks are grouped by the option X took in each
    draw (a continuous weight factor is cut into `bins` equal-frequency bins, the "given data"
    estimator), and the variance of the group means is weighted by group size. The shares are
    pooled over territories, sum_t Var(E[R_t | X]) / sum_t Var(R_t), so territories whose rank
    moves most count most (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, ch. 4,
    on first-order indices). 1 minus their sum is what interactions between factors explain.
    The estimate carries a small upward bias, about (levels - 1) / draws.
    """
    valid = np.isfinite(ranks)
    total_var = np.nanvar(ranks, axis=0)
    pooled = total_var[np.isfinite(total_var)].sum()
    rows = []
    for column in draws.columns:
        labels = draws[column].to_numpy()
        if column.startswith("weight:"):
            edges = np.quantile(labels.astype(float), np.linspace(0, 1, bins + 1)[1:-1])
            labels = np.searchsorted(edges, labels.astype(float))
        levels = pd.unique(labels)
        if len(levels) < 2 or pooled <= 0:
            share = 0.0
        else:
            share = _between_variance(ranks, valid, labels, levels) / pooled
        kind = "weight" if column.startswith("weight:") else "choice"
        rows.append({"factor": column, "kind": kind, "levels": len(levels), "first_order": share})
    out = pd.DataFrame(rows, columns=["factor", "kind", "levels", "first_order"])
    return out.sort_values("first_order", ascending=False, kind="stable").reset_index(drop=True)


def _between_variance(ranks: np.ndarray, valid: np.ndarray, labels: np.ndarray, levels: Sequence[Any]) -> float:
    counts_all = valid.sum(axis=0)
    values = np.where(valid, ranks, 0.0)
    mean_all = np.divide(values.sum(axis=0), counts_all, out=np.zeros(ranks.shape[1]), where=counts_all > 0)
    between = np.zeros(ranks.shape[1])
    for level in levels:
        rows = labels == level
        counts = valid[rows].sum(axis=0)
        means = np.divide(values[rows].sum(axis=0), counts, out=np.zeros(ranks.shape[1]), where=counts > 0)
        between += counts * (means - mean_all) ** 2
    between = np.divide(between, counts_all, out=np.zeros(ranks.shape[1]), where=counts_all > 0)
    return float(between.sum())
