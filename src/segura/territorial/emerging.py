"""Emerging hot spot analysis on a space-time cube (territory x period).

The method of ESRI's Emerging Hot Spot Analysis (ArcGIS Pro, "How Emerging Hot Spot Analysis
works") and of R's sfdep (`emerging_hotspot_analysis`, `classify_hotspot`, Parry 2022):

1. **Gi\\* for every bin** (unit, period), Getis and Ord (1992) with Ord and Getis (1995)'s
   z-score, over space-time neighbours: a unit's neighbours at period t are its spatial
   neighbours and itself, at t and at the `time_window` previous periods (ArcGIS's
   "neighborhood time step", sfdep's `k`; default 1). Weights are binary, as in ArcGIS.
   The mean and spread the local sum is compared with come from the bins that ArcGIS's
   "Define Global Window" names: the entire cube (ArcGIS's default), the periods of the
   neighbourhood, or the period alone (what sfdep does).
2. **Mann-Kendall trend** of each unit's series of Gi\\* z-scores.
3. **A category per unit** from the significant hot and cold bins and the trend, by rules kept
   as data below (`ARCGIS_RULES`, the default, and `SFDEP_RULES`).

Inference: the analytical z-score and its two-sided normal p-value by default, as ArcGIS does,
with ArcGIS's false discovery rate correction (Benjamini-Hochberg over every bin of the cube);
`permutations=199` gives sfdep's conditional permutation p-values instead. Why analytical by
default: ArcGIS defines the categories on it, it takes a fraction of a second for 2,457
municipalities x 120 months, and with the FDR correction a pseudo p-value floored at
2 / (permutations + 1) can hardly pass; the permutations, which do not assume normality,
take seconds (bench/territorial_emerging.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, stats

from segura.errors import SeguraError

GlobalWindow = Literal["entire_cube", "neighborhood_time_step", "individual_time_step"]
GLOBAL_WINDOWS: tuple[GlobalWindow, ...] = ("entire_cube", "neighborhood_time_step", "individual_time_step")  # fmt: skip
RuleSet = Literal["arcgis", "sfdep"]

PATTERNS = (
    "new", "consecutive", "intensifying", "persistent",
    "diminishing", "sporadic", "oscillating", "historical",
)  # fmt: skip
NO_PATTERN = "no_pattern"
SIDES = ("hot", "cold")
CATEGORIES: tuple[str, ...] = (
    *(f"{p}_{side}_spot" for p in PATTERNS for side in SIDES),
    NO_PATTERN,
)
# What a person reads; the Spanish names are those of ArcGIS Pro's Spanish documentation.
_PATTERN_ES = {
    "new": "nuevo", "consecutive": "consecutivo", "intensifying": "en aumento",
    "persistent": "persistente", "diminishing": "en disminución", "sporadic": "esporádico",
    "oscillating": "oscilante", "historical": "histórico",
}  # fmt: skip
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    **{f"{p}_{side}_spot": {"en": f"{p} {side} spot",
                            "es": f"punto {dict(hot='caliente', cold='frío')[side]} {_PATTERN_ES[p]}"}
       for p in PATTERNS for side in SIDES},
    NO_PATTERN: {"en": "no pattern detected", "es": "no se detectó ningún patrón"},
}  # fmt: skip
STATUSES = ("cold", "not_significant", "hot")  # a bin's status, indexed by sign + 1


class CubeError(SeguraError):
    """A space-time cube, its units or its weights cannot be analysed as they are."""

    exit_code = 2


# --------------------------------------------------------------------------- Gi* on the cube


class _Neighbourhoods(NamedTuple):
    local_sum: NDArray[np.float64]  # (units, periods): sum of the values of each bin's neighbours
    size: NDArray[np.int64]  # (units, periods): number of neighbour bins, the bin itself included
    mean: NDArray[np.float64]  # (periods,): mean of the global window of each period
    std: NDArray[np.float64]  # (periods,): its standard deviation (divided by n)
    n: NDArray[np.int64]  # (periods,): number of bins in it


def _star_adjacency(weights: Any, n_units: int) -> sparse.csr_array:
    """The binary weights as CSR with every unit its own neighbour (the * of Gi*)."""
    try:
        w = sparse.csr_array(weights, dtype=np.float64)
    except (TypeError, ValueError) as e:
        kind = type(weights).__name__
        raise CubeError(f"weights must be a scipy.sparse matrix, got {kind}") from e
    if w.shape != (n_units, n_units):
        raise CubeError(
            f"weights are {w.shape[0]} x {w.shape[1]} but the cube has {n_units} units; "
            "build them for the same units in the same order"
        )
    w = w - sparse.diags_array(w.diagonal())  # the diagonal is set to 1 below, whatever it held
    w.eliminate_zeros()
    if w.nnz and not np.all(w.data == 1.0):
        odd = sorted(set(np.unique(w.data).tolist()) - {1.0})[:3]
        raise CubeError(
            f"weights must be binary (0/1 contiguity), found values such as {odd}; "
            "pass the unstandardised matrix (libpysal: w.transform = 'B'; w.sparse)"
        )
    return sparse.csr_array(w + sparse.eye_array(n_units, format="csr"))


def _neighbourhoods(
    values: NDArray[np.float64], star: sparse.csr_array, time_window: int, global_window: str
) -> _Neighbourhoods:
    n_units, n_periods = values.shape
    t = np.arange(n_periods)
    cumulative = np.cumsum(np.asarray(star @ values), axis=1)  # spatial sums, then along time
    local_sum = cumulative.copy()
    lag = time_window + 1
    if lag < n_periods:  # periods before the first have no bins: the window is cut there
        local_sum[:, lag:] -= cumulative[:, :-lag]
    slices = np.minimum(t + 1, lag)  # periods in each bin's window
    card = np.diff(star.indptr).astype(np.int64)  # spatial neighbours + itself
    size = card[:, None] * slices[None, :]

    if global_window == "entire_cube":
        n = np.full(n_periods, values.size, dtype=np.int64)
        mean = np.full(n_periods, values.mean())
        std = np.full(n_periods, values.std())
    elif global_window == "individual_time_step":
        n = np.full(n_periods, n_units, dtype=np.int64)
        mean, std = values.mean(axis=0), values.std(axis=0)
    else:  # neighborhood_time_step: the bins of the periods t - time_window .. t
        shift = values.mean()  # centred sums lose less to cancellation
        s1 = np.cumsum((values - shift).sum(axis=0))
        s2 = np.cumsum(((values - shift) ** 2).sum(axis=0))
        if lag < n_periods:
            s1[lag:] = s1[lag:] - s1[:-lag]
            s2[lag:] = s2[lag:] - s2[:-lag]
        n = n_units * slices
        centred_mean = s1 / n
        mean = centred_mean + shift
        std = np.sqrt(np.maximum(s2 / n - centred_mean**2, 0.0))
    return _Neighbourhoods(local_sum, size, mean, std, n)


def _z_scores(nb: _Neighbourhoods) -> NDArray[np.float64]:
    """Ord and Getis (1995) eq. 14 with binary weights (sum w = sum w^2 = size), as ArcGIS and
    esda's G_Local(star=True).Zs: (sum x - mean * size) / (std * sqrt((n size - size^2) / (n - 1)))."""
    size = nb.size.astype(np.float64)
    n = nb.n[None, :].astype(np.float64)
    spread = nb.std[None, :] * np.sqrt(np.maximum(n * size - size**2, 0.0) / (n - 1))
    numerator = nb.local_sum - nb.mean[None, :] * size
    z = np.zeros_like(numerator)
    # a constant window (its std is rounding) or a neighbourhood as large as the window has no
    # spread: z = 0, p = 1
    ok = spread > 1e-12 * np.abs(nb.mean[None, :]) * size
    np.divide(numerator, spread, out=z, where=ok)
    return z


def gi_star(values: ArrayLike, weights: Any, *, time_window: int = 1,
            global_window: GlobalWindow = "entire_cube") -> NDArray[np.float64]:  # fmt: skip
    """Gi* z-score of every bin of a (units x periods) cube with space-time neighbours.

    With `time_window=0` each period is an ordinary Gi* of that period's values (with
    `global_window="individual_time_step"`, the z-scores of esda's `G_Local(star=True)`).
    """
    cube = _as_cube(values)
    _check_options(time_window, global_window)
    star = _star_adjacency(weights, cube.shape[0])
    return _z_scores(_neighbourhoods(cube, star, time_window, global_window))


def _permutation_p(
    values: NDArray[np.float64],
    nb: _Neighbourhoods,
    time_window: int,
    global_window: str,
    permutations: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Conditional permutation p-values (Anselin 1995, as esda's and sfdep's local statistics).

    Each bin keeps its own value; its other size - 1 neighbours are drawn without replacement
    from the other bins of its global window, and the sum of those draws is compared with the
    sum of its real neighbours. As in esda's `crand`, one draw per permutation and window is
    shared by all bins (each bin's null is still exact), which lets the sums be read from
    prefix sums. The p-value is two-sided, 2 (min(larger, smaller) + 1) / (permutations + 1)
    capped at 1, so that `alpha` means what it means for the analytical p; esda's `p_sim` and
    sfdep's `p_sim` are the one-sided half of it.
    """
    n_units, n_periods = values.shape
    flat = values.ravel()  # bin (i, t) is flat[i * n_periods + t]
    t = np.arange(n_periods)
    if global_window == "entire_cube":  # windows: first period t0 and number of periods m
        t0, m, window_of = np.zeros(1, np.int64), np.full(1, n_periods), 0 * t
    elif global_window == "individual_time_step":
        t0, m, window_of = t, np.ones(n_periods, np.int64), t
    else:
        t0 = np.maximum(t - time_window, 0)
        m, window_of = t - t0 + 1, t
    pool = n_units * m - 1  # bins a neighbour can be drawn from: the window less the bin itself

    units, periods = np.divmod(np.arange(flat.size), n_periods)
    g = window_of[periods]
    own = units * m[g] + (periods - t0[g])  # the bin's index within its window
    others = (nb.size - 1).ravel()
    if (others > pool[g]).any():
        raise CubeError(
            "a neighbourhood holds more bins than its global window; use a wider global_window"
        )
    observed = (nb.local_sum - values).ravel()
    larger = np.zeros(flat.size, np.int64)
    smaller = np.zeros(flat.size, np.int64)
    k_max = int(others.max())
    groups = [(k, np.flatnonzero(others == k)) for k in np.unique(others) if k > 0]
    rows = np.arange(len(m))[:, None]

    def value_at(j: NDArray[np.int64]) -> NDArray[np.float64]:
        """Value of the j-th bin of each window (rows of j are windows)."""
        return flat[(j // m[:, None]) * n_periods + t0[:, None] + j % m[:, None]]

    for _ in range(permutations):
        # a uniformly random ordered sample of k_max indices out of each window's pool
        keys = rng.random((len(m), int(pool.max())))
        keys[np.arange(keys.shape[1])[None, :] >= pool[:, None]] = np.inf
        chosen = np.argpartition(keys, k_max - 1, axis=1)[:, :k_max]
        draws = np.take_along_axis(chosen, np.argsort(keys[rows, chosen], axis=1), axis=1)
        np.minimum(draws, pool[:, None] - 1, out=draws)  # windows too small for k_max: unused
        for k, members in groups:
            drawn = np.sort(draws[:, :k], axis=1)  # index among the pool, which skips the bin
            below = np.zeros((len(m), k + 1))  # sum of the first c draws, for a bin after them
            above = np.zeros((len(m), k + 1))  # same, when the bin comes first (index + 1)
            np.cumsum(value_at(drawn), axis=1, out=below[:, 1:])
            np.cumsum(value_at(drawn + 1), axis=1, out=above[:, 1:])
            gm = g[members]
            c = (drawn[gm] < own[members, None]).sum(axis=1)
            null = below[gm, c] + above[gm, k] - above[gm, c]
            larger[members] += null >= observed[members]
            smaller[members] += null <= observed[members]
    p = 2.0 * (np.minimum(larger, smaller) + 1) / (permutations + 1)
    return np.minimum(p, 1.0).reshape(values.shape)


def _fdr(p: NDArray[np.float64], alpha: float) -> NDArray[np.bool_]:
    """Benjamini and Hochberg (1995) step-up: which p-values are significant at FDR alpha."""
    flat = p.ravel()
    ordered = np.sort(flat)
    passed = np.flatnonzero(ordered <= alpha * np.arange(1, flat.size + 1) / flat.size)
    if passed.size == 0:
        return np.zeros(p.shape, dtype=bool)
    return p <= ordered[passed[-1]]


# --------------------------------------------------------------------------- Mann-Kendall


class MannKendall(NamedTuple):
    """Mann-Kendall trend test of each row of a (units x periods) array."""

    s: NDArray[np.float64]  # S = sum over i < j of sign(x_j - x_i)
    var_s: NDArray[np.float64]  # its variance under no trend, corrected for ties
    tau: NDArray[np.float64]  # Kendall's tau-b against time (NaN for a constant series)
    z: NDArray[np.float64]
    p: NDArray[np.float64]  # two-sided


def mann_kendall(series: ArrayLike, *, continuity: bool = True) -> MannKendall:
    """Mann (1945) and Kendall (1975) trend test, vectorised over rows.

    Var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18 over the groups of t_g tied values,
    and Z = (S - sign(S)) / sqrt(Var(S)) with the continuity correction (Gilbert 1987, sec.
    16.4; R's Kendall::MannKendall, which sfdep calls). Written here rather than calling
    `scipy.stats.kendalltau(time, x)` once per unit: that gives the same tau-b and, time having
    no ties, the same tie-corrected variance, but no continuity correction, its exact p-value
    (used when there are no ties and n is small) is not the normal one, and 2,457 calls cost
    more than one vectorised pass. Ties matter here: Gi* z-scores of counts repeat exactly.
    """
    x = np.atleast_2d(np.asarray(series, dtype=np.float64))
    rows, n = x.shape
    s = np.zeros(rows)
    tie_term = np.zeros(rows)
    tied_pairs = np.zeros(rows)
    step = max(1, 2_000_000 // max(n * n, 1))
    for a in range(0, rows, step):
        chunk = x[a : a + step]
        sign = np.sign(chunk[:, None, :] - chunk[:, :, None])  # [r, i, j] = sign(x_j - x_i)
        s[a : a + step] = np.triu(sign, 1).sum(axis=(1, 2))
        # each value's group size t_g (itself included); summing over values instead of groups,
        # sum_g t_g(t_g-1)(2t_g+5) = sum_v (t_v-1)(2t_v+5) and sum_g t_g(t_g-1)/2 = sum_v (t_v-1)/2
        equal = (sign == 0).sum(axis=2)
        tie_term[a : a + step] = ((equal - 1) * (2 * equal + 5)).sum(axis=1)
        tied_pairs[a : a + step] = (equal - 1).sum(axis=1) / 2
    var_s = (n * (n - 1) * (2 * n + 5) - tie_term) / 18.0
    pairs = n * (n - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.where(pairs > tied_pairs, s / np.sqrt((pairs - tied_pairs) * pairs), np.nan)
        numerator = s - np.sign(s) if continuity else s
        z = np.where(var_s > 0, numerator / np.sqrt(var_s), 0.0)
    p = np.where(var_s > 0, 2 * stats.norm.sf(np.abs(z)), 1.0)
    return MannKendall(s, var_s, tau, z, p)


# --------------------------------------------------------------------------- categories


class Side(NamedTuple):
    """What the rules read about every unit, seen from one side: hot, or cold as its mirror.

    `same` are the unit's significant bins of this side, `other` those of the opposite side;
    `z_last` (the final period's z) and `tau` are signed so that positive means "more of this
    side". Arrays are (units, periods) or (units,).
    """

    name: Literal["hot", "cold"]
    same: NDArray[np.bool_]
    other: NDArray[np.bool_]
    n_same: NDArray[np.int64]
    n_other: NDArray[np.int64]
    last_same: NDArray[np.bool_]
    last_significant: NDArray[np.bool_]  # of either side
    at_least_90: NDArray[np.bool_]  # this side in at least ninety percent of the periods, exactly
    periods: int
    z_last: NDArray[np.float64]
    tau: NDArray[np.float64]
    trend_p: NDArray[np.float64]
    alpha: float

    @classmethod
    def of(cls, name: Literal["hot", "cold"], status: NDArray[np.int8], z: NDArray[np.float64],
           trend: MannKendall, alpha: float) -> Side:  # fmt: skip
        sign = 1 if name == "hot" else -1
        same, other = status == sign, status == -sign
        n_same, periods = same.sum(axis=1), status.shape[1]
        return cls(name, same, other, n_same, other.sum(axis=1), same[:, -1],
                   same[:, -1] | other[:, -1], 10 * n_same >= 9 * periods, periods,
                   sign * z[:, -1], sign * trend.tau, trend.p, alpha)  # fmt: skip

    def final_run(self, bins: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Length of the uninterrupted run of `bins` that ends at the last period."""
        return np.cumprod(bins[:, ::-1], axis=1).sum(axis=1)


Predicate = Callable[[Side], NDArray[np.bool_]]


class Rule(NamedTuple):
    pattern: str  # one of PATTERNS; the category is f"{pattern}_{side}_spot"
    applies: Predicate
    definition: str  # the source's words


def _significant_trend(s: Side) -> NDArray[np.bool_]:
    return s.trend_p <= s.alpha


# ArcGIS Pro, "How Emerging Hot Spot Analysis works" (pro.arcgis.com, tool-reference/
# space-time-pattern-mining/learnmoreemerging.htm; the table of pattern definitions, read in
# the Pro 3.x pages). Cold spots are the mirror (hot <-> cold; a trend's sign reversed). The
# first rule that applies wins, hot before cold. Where two definitions overlap, this reading:
# - "never been a hot spot before" (new, consecutive) also asks for no cold spot before: a
#   cold spot that turns hot is "oscillating", whose definition names that history (as sfdep);
# - persistent asks for the final period hot: otherwise "historical" (the only definition about
#   a final period that is not hot) could only happen with a significant trend;
# - oscillating (final period cold, some hot before) comes before historical hot (which the
#   same unit can also be if 90% of its periods were hot).
ARCGIS_RULES: tuple[Rule, ...] = (
    Rule("new", lambda s: s.last_same & (s.n_same == 1) & (s.n_other == 0),
         "A location that is a statistically significant hot spot for the final time step and "
         "has never been a statistically significant hot spot before."),
    Rule("consecutive",
         lambda s: s.last_same & (s.final_run(s.same) >= 2) & (s.final_run(s.same) == s.n_same)
         & (s.n_other == 0) & ~s.at_least_90,
         "A location with a single uninterrupted run of at least two statistically significant "
         "hot spot bins in the final time-step intervals. The location has never been a "
         "statistically significant hot spot prior to the final hot spot run and less than "
         "ninety percent of all bins are statistically significant hot spots."),
    Rule("intensifying", lambda s: s.at_least_90 & s.last_same & (s.tau > 0) & _significant_trend(s),
         "A location that has been a statistically significant hot spot for ninety percent of "
         "the time-step intervals, including the final time step. In addition, the intensity of "
         "clustering of high counts in each time step is increasing overall and that increase "
         "is statistically significant."),
    Rule("persistent", lambda s: s.at_least_90 & s.last_same & ~_significant_trend(s),
         "A location that has been a statistically significant hot spot for ninety percent of "
         "the time-step intervals with no discernible trend indicating an increase or decrease "
         "in the intensity of clustering over time."),
    Rule("diminishing", lambda s: s.at_least_90 & s.last_same & (s.tau < 0) & _significant_trend(s),
         "A location that has been a statistically significant hot spot for ninety percent of "
         "the time-step intervals, including the final time step. In addition, the intensity of "
         "clustering in each time step is decreasing overall and that decrease is statistically "
         "significant."),
    Rule("sporadic", lambda s: s.last_same & ~s.at_least_90 & (s.n_other == 0),
         "A statistically significant hot spot for the final time-step interval with a history "
         "of also being an on-again and off-again hot spot. Less than ninety percent of the "
         "time-step intervals have been statistically significant hot spots and none of the "
         "time-step intervals have been statistically significant cold spots."),
    Rule("oscillating", lambda s: s.last_same & ~s.at_least_90 & (s.n_other > 0),
         "A statistically significant hot spot for the final time-step interval that has a "
         "history of also being a statistically significant cold spot during a prior time step. "
         "Less than ninety percent of the time-step intervals have been statistically "
         "significant hot spots."),
    Rule("historical", lambda s: ~s.last_same & s.at_least_90,
         "The most recent time period is not hot, but at least ninety percent of the time-step "
         "intervals have been statistically significant hot spots."),
)  # fmt: skip


def _share(s: Side, count: NDArray[np.int64]) -> NDArray[np.float64]:
    return count / s.periods  # sfdep compares fractions in floating point: kept as it does


# sfdep 0.2.x, R/emerging-hostpot-classifications.R (`classify_hotspot`; JosiahParry/sfdep),
# line by line, including where it departs from ArcGIS's words (noted): gs = Gi* z-scores,
# sigs = p <= threshold (either sign), n = number of periods, tau_p = Mann-Kendall p-value.
SFDEP_RULES: tuple[Rule, ...] = (
    # (sum(sigs) == 1) && sigs[n] && gs[n] > 0: no significant bin of either side before
    Rule("new", lambda s: (s.n_same + s.n_other == 1) & s.last_same,
         "new_hotspot / new_coldspot"),
    # the final run is of significant bins of either sign, with none before it
    Rule("consecutive",
         lambda s: s.last_same & (s.final_run(s.same | s.other) == s.n_same + s.n_other)
         & (_share(s, s.n_same) < 0.9),
         "consecutive_hotspot / consecutive_coldspot"),
    # hot: sum(sigs) / n >= .9 counts cold bins too, and tau_p < threshold (cold: <=)
    Rule("intensifying",
         lambda s: (_share(s, s.n_same + s.n_other) >= 0.9 if s.name == "hot" else _share(s, s.n_same) >= 0.9)
         & s.last_significant & (s.tau > 0)
         & (s.trend_p < s.alpha if s.name == "hot" else s.trend_p <= s.alpha),
         "intensifying_hotspot / intensifying_coldspot"),
    # no condition on the final period
    Rule("persistent", lambda s: (_share(s, s.n_same) >= 0.9) & (s.trend_p > s.alpha),
         "persistent_hotspot / persistent_coldspot"),
    # sigs[n]: the final period significant of either sign
    Rule("diminishing",
         lambda s: (_share(s, s.n_same) >= 0.9) & s.last_significant & (s.tau < 0)
         & (s.trend_p <= s.alpha),
         "diminishing_hotspot / diminishing_coldspot"),
    # hot: share <= 0.9; cold: < 0.9
    Rule("oscillating",
         lambda s: (_share(s, s.n_same) <= 0.9 if s.name == "hot" else _share(s, s.n_same) < 0.9)
         & s.last_same & (s.n_other > 0),
         "oscilating_hotspot / oscilating_coldspot"),
    # gs[n] < 0 (hot) / gs[n] > 0 (cold): the final z of the other sign, significant or not
    Rule("historical", lambda s: (_share(s, s.n_same) >= 0.9) & (s.z_last < 0),
         "historical_hotspot / historical_coldspot"),
    # no condition on the final period (ArcGIS Pro asks for it to be hot)
    Rule("sporadic",
         lambda s: (_share(s, s.n_same) < 0.9) & (s.n_other == 0) & (s.n_same > 0),
         "sporadic_hotspot / sporadic_coldspot"),
)  # fmt: skip

RULE_SETS: dict[str, tuple[Rule, ...]] = {"arcgis": ARCGIS_RULES, "sfdep": SFDEP_RULES}


def classify(
    status: NDArray[np.int8],
    z: NDArray[np.float64],
    trend: MannKendall,
    *,
    alpha: float,
    rules: Sequence[Rule] = ARCGIS_RULES,
) -> NDArray[np.str_]:
    """Category of every unit from its bins' status (-1 cold, 0, +1 hot) and its trend."""
    sides = [Side.of("hot", status, z, trend, alpha), Side.of("cold", status, z, trend, alpha)]
    category = np.full(status.shape[0], NO_PATTERN, dtype=object)
    open_ = np.ones(status.shape[0], dtype=bool)
    for rule in rules:
        for side in sides:
            hit = open_ & rule.applies(side)
            category[hit] = f"{rule.pattern}_{side.name}_spot"
            open_ &= ~hit
    return category.astype(str)


# --------------------------------------------------------------------------- the analysis


@dataclass(frozen=True)
class EmergingHotSpots:
    """Result of `emerging_hot_spots`.

    `units`: one row per unit (unit, category, n_hot, n_cold, last_status, mk_tau, mk_z, mk_p);
    `bins`: one row per unit and period (unit, period, value, gi_z, gi_p, status);
    `method`: the settings that produced them, for the record of a published figure.
    """

    units: pd.DataFrame
    bins: pd.DataFrame
    method: dict[str, Any]


def _as_cube(values: ArrayLike) -> NDArray[np.float64]:
    cube = np.asarray(values, dtype=np.float64)
    if cube.ndim != 2:
        raise CubeError(f"values must be a (units x periods) array, got {cube.ndim} dimension(s)")
    if not np.isfinite(cube).all():
        i, t = np.argwhere(~np.isfinite(cube))[0]
        raise CubeError(
            f"values must be finite; unit row {i}, period column {t} is {cube[i, t]}: "
            "fill missing periods (a count of 0 where nothing was recorded) before the analysis"
        )
    return cube


def _check_options(time_window: int, global_window: str) -> None:
    if not isinstance(time_window, int | np.integer) or time_window < 0:
        raise CubeError(f"time_window must be a whole number >= 0, got {time_window!r}")
    if global_window not in GLOBAL_WINDOWS:
        options = ", ".join(GLOBAL_WINDOWS)
        raise CubeError(f"global_window must be one of {options}; got {global_window!r}")


def emerging_hot_spots(
    values: ArrayLike,
    units: Sequence[Any],
    weights: Any,
    *,
    periods: Sequence[Any] | None = None,
    time_window: int = 1,
    global_window: GlobalWindow = "entire_cube",
    alpha: float = 0.05,
    fdr: bool = True,
    permutations: int = 0,
    seed: int | None = None,
    rules: RuleSet = "arcgis",
) -> EmergingHotSpots:
    """Emerging hot spot analysis of a (units x periods) cube with binary spatial weights.

    `values[i, t]` is unit `units[i]` in period `periods[t]` (periods in time order, equally
    spaced, none missing); `weights` an n x n scipy.sparse binary contiguity matrix in the
    order of `units` (its diagonal is ignored: every unit is its own neighbour). A bin is a
    hot (cold) spot when its Gi* z is positive (negative) and significant at `alpha`, after
    the FDR correction when `fdr`. `permutations` > 0 uses conditional permutation p-values
    instead of the normal ones (`seed` makes them reproducible). The Mann-Kendall trend is
    significant at the same `alpha`. To reproduce sfdep's defaults: `rules="sfdep"`,
    `global_window="individual_time_step"`, `permutations=199`, `fdr=False`, `alpha=0.02`
    (its one-sided p-value at 0.01); sfdep's row-standardised weights still differ.

    Caveats of the method itself (ArcGIS and sfdep alike): with `time_window` >= 1 consecutive
    z-scores share bins, so each series is autocorrelated and the Mann-Kendall test, which
    assumes independence, finds a trend more often than `alpha` (15% of the background units
    of bench/territorial_emerging.py at window 1, 5% at window 0): read intensifying and
    diminishing against persistent with that in mind. Without `fdr`, a long series almost
    always has some bin significant by chance, which turns new and consecutive spots into
    oscillating or sporadic ones.
    """
    cube = _as_cube(values)
    n_units, n_periods = cube.shape
    _check_options(time_window, global_window)
    labels = list(range(n_periods)) if periods is None else list(periods)
    for wrong, message in [
        (len(units) != n_units, f"{len(units)} unit ids for a cube of {n_units} rows"),
        (len(set(units)) != len(units), "unit ids must be unique"),
        (len(labels) != n_periods, f"{len(labels)} periods for a cube of {n_periods} columns"),
        (n_periods < 3, f"a trend needs at least 3 periods, the cube has {n_periods}"),
        (not 0 < alpha < 1, f"alpha must be between 0 and 1, got {alpha}"),
        (rules not in RULE_SETS, f"rules must be one of {', '.join(RULE_SETS)}; got {rules!r}"),
        (permutations < 0, f"permutations must be >= 0, got {permutations}"),
    ]:
        if wrong:
            raise CubeError(message)

    nb = _neighbourhoods(cube, _star_adjacency(weights, n_units), time_window, global_window)
    z = _z_scores(nb)
    if permutations:
        p = _permutation_p(
            cube, nb, time_window, global_window, permutations, np.random.default_rng(seed)
        )
    else:
        p = 2 * stats.norm.sf(np.abs(z))
    significant = _fdr(p, alpha) if fdr else p <= alpha
    status = (np.sign(z) * significant).astype(np.int8)
    trend = mann_kendall(z)
    category = classify(status, z, trend, alpha=alpha, rules=RULE_SETS[rules])

    unit_index = pd.Index(list(units), name="unit")
    status_names = np.array(STATUSES)
    table = pd.DataFrame(
        {
            "unit": unit_index,
            "category": pd.Categorical(category, categories=CATEGORIES),
            "n_hot": (status == 1).sum(axis=1),
            "n_cold": (status == -1).sum(axis=1),
            "last_status": pd.Categorical(status_names[status[:, -1] + 1], categories=STATUSES),
            "mk_tau": trend.tau,
            "mk_z": trend.z,
            "mk_p": trend.p,
        }
    )
    bins = pd.DataFrame(
        {
            "unit": np.repeat(unit_index.to_numpy(), n_periods),
            "period": np.tile(np.asarray(labels, dtype=object), n_units),
            "value": cube.ravel(),
            "gi_z": z.ravel(),
            "gi_p": p.ravel(),
            "status": pd.Categorical(status_names[status.ravel() + 1], categories=STATUSES),
        }
    )
    method = dict(time_window=time_window, global_window=global_window, alpha=alpha, fdr=fdr,
                  permutations=permutations, seed=seed, rules=rules)  # fmt: skip
    return EmergingHotSpots(table, bins, method)
