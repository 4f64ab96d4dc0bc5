"""Local clusters: Local Moran (Anselin 1995) and Getis-Ord Gi* (Ord and Getis 1995) with
conditional permutation inference and false discovery rate control (Benjamini and Hochberg 1995).

The statistics and their permutations are esda's, the PySAL reference implementation, called with
a fixed seed so that a published map can be reproduced. esda meets the speed goal without numba
(2,457 municipalities, 999 permutations: about 0.1 s per statistic here; see
bench/territorial_clusters.py), so nothing is re-implemented. What a call costs the first time in a
process is importing esda and libpysal (0.3 to 1.5 s here, depending on what the process has already
imported) and, if numba is ever installed, compiling esda's kernels (about 16 s): `warm_up()` pays
both at start, never in a request.

Run them on rates smoothed with `segura.indicators.stats.eb_local` (or `eb_global`): the raw rates
of small municipalities are noise, and noise makes High-Low and Low-High outliers.

Every result has, per territory: the value, the statistic, its expectation and z-score under
conditional randomisation, the pseudo p-value of the permutations, the p-value adjusted for the
false discovery rate, whether it is significant at `alpha` (the adjusted p-value when `fdr`, the raw
one otherwise), the quadrant and the cluster label.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from segura.errors import SeguraError
from segura.territorial.weights import SpatialWeights

DEFAULT_SEED = 12345
PERMUTATIONS = 999
COLUMNS = ("code", "value", "statistic", "expected", "z", "p_sim", "p_fdr", "significant", "quadrant", "cluster")
MORAN_CLUSTERS = {"HH": "High-High", "LL": "Low-Low", "HL": "High-Low", "LH": "Low-High"}
GI_CLUSTERS = {"hot": "Hot spot", "cold": "Cold spot"}
NOT_SIGNIFICANT = "Not significant"
# the labels as a reader of a Spanish page sees them (the cluster column keeps the English ones)
CLUSTERS_ES = {"High-High": "Alto-Alto", "Low-Low": "Bajo-Bajo", "High-Low": "Alto-Bajo", "Low-High": "Bajo-Alto",
               "Hot spot": "Punto caliente", "Cold spot": "Punto frío", NOT_SIGNIFICANT: "No significativo"}


@dataclass(frozen=True, eq=False)
class LocalClusters:
    """One local statistic over the territories of a SpatialWeights, one row each (see COLUMNS)."""

    method: str  # "local_moran" or "gi_star"
    frame: pd.DataFrame
    permutations: int
    seed: int
    alpha: float
    fdr: bool
    isolated: tuple[str, ...] = ()  # territories without any neighbour: no statistic, never significant

    def counts(self) -> dict[str, int]:
        """Territories per cluster label, every label of the method present (zeros included)."""
        labels = [*(MORAN_CLUSTERS if self.method == "local_moran" else GI_CLUSTERS).values(), NOT_SIGNIFICANT]
        found = self.frame["cluster"].value_counts()
        return {label: int(found.get(label, 0)) for label in labels}


def local_moran(
    y: Any,
    weights: SpatialWeights,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
    fdr: bool = True,
) -> LocalClusters:
    """Local Moran's I on row-standardised weights (esda.Moran_Local): High-High and Low-Low
    clusters, High-Low and Low-High outliers.

    `y` is aligned with `weights.ids`: an array in that order or a Series indexed by code.
    The statistic is esda's Is, (n - 1) z_i sum_j w_ij z_j / sum_k z_k^2.
    """
    values = _values(y, weights)
    _check(permutations, alpha)
    isolated = weights.cardinalities() == 0
    if np.ptp(values) == 0:
        return _flat("local_moran", weights, values, permutations, seed, alpha, fdr, isolated)
    import esda

    with _quiet_esda():
        lm = esda.Moran_Local(values, weights.to_w(), transformation="r", permutations=permutations, seed=seed,
                              keep_simulations=False, n_jobs=1)
    # esda's conditional moments (Sokal et al. 1998, eqs. A7-A8) are those of z_i lag_i / m2, the
    # statistic as spdep and GeoDa scale it; esda's Is is (n - 1) / n times that, so are they here.
    n = weights.n
    scale = (n - 1) / n
    expected = np.asarray(lm.EIc) * scale
    spread = np.sqrt(np.asarray(lm.VIc)) * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(spread > 0, (lm.Is - expected) / spread, 0.0)
    quadrant = np.array(["HH", "LH", "LL", "HL"])[np.asarray(lm.q) - 1]  # esda's q: 1 HH, 2 LH, 3 LL, 4 HL
    return _result("local_moran", weights, values, np.asarray(lm.Is), expected, z, np.asarray(lm.p_sim), quadrant,
                   MORAN_CLUSTERS, permutations, seed, alpha, fdr, isolated)


def getis_ord_gi_star(
    y: Any,
    weights: SpatialWeights,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
    fdr: bool = True,
) -> LocalClusters:
    """Getis-Ord Gi* on binary weights with each territory its own neighbour (esda.G_Local,
    star): hot spots and cold spots of a non-negative variable (rates, counts).

    The statistic is the share of the total in the territory and its neighbours; z is Ord and
    Getis' (1995) standardised Gi*, the figure hot spot maps usually report.
    """
    values = _values(y, weights)
    _check(permutations, alpha)
    if (values < 0).any():
        bad = [weights.ids[i] for i in np.flatnonzero(values < 0)[:5]]
        raise SeguraError(f"Gi* needs values of 0 or more (rates, counts); {', '.join(bad)} are negative")
    isolated = weights.cardinalities() == 0
    if np.ptp(values) == 0:
        return _flat("gi_star", weights, values, permutations, seed, alpha, fdr, isolated)
    import esda

    with _quiet_esda():
        g = esda.G_Local(values, weights.to_w(), transform="B", star=1.0, permutations=permutations, seed=seed,
                         keep_simulations=False, n_jobs=1)
    z = np.asarray(g.Zs)
    quadrant = np.where(z > 0, "hot", "cold")
    return _result("gi_star", weights, values, np.asarray(g.Gs), np.asarray(g.EGs), z, np.asarray(g.p_sim), quadrant,
                   GI_CLUSTERS, permutations, seed, alpha, fdr, isolated)


def warm_up() -> None:
    """Import esda and run both statistics once on a 3 x 3 grid. Call it when a process starts
    (the portal's warm-up, a worker's start): the first real call then costs what later ones do."""
    side = 3
    cells = np.arange(side * side).reshape(side, side)
    pairs = [(a, b) for a, b in zip(cells[:, :-1].ravel(), cells[:, 1:].ravel(), strict=True)]
    pairs += [(a, b) for a, b in zip(cells[:-1].ravel(), cells[1:].ravel(), strict=True)]
    rows = [a for a, b in pairs] + [b for a, b in pairs]
    cols = [b for a, b in pairs] + [a for a, b in pairs]
    matrix = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(side * side, side * side))
    grid = SpatialWeights(tuple(f"c{i}" for i in range(side * side)), matrix, "rook")
    values = np.arange(side * side, dtype=float)
    local_moran(values, grid, permutations=9)
    getis_ord_gi_star(values, grid, permutations=9)


@contextmanager
def _quiet_esda() -> Iterator[None]:
    # esda 2.9 announces that its default alternative will change; the pseudo p-value used here is
    # the one it computes today and documents (folded: the smaller tail, (larger + 1) / (M + 1)).
    # The W that esda builds for Gi* (self-weights added) says so when the territories form separate
    # groups (two states that do not touch) or have no neighbour: a fact of the map, not a fault;
    # SpatialWeights.islands and LocalClusters.isolated name them.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The alternative hypothesis for conditional randomization",
                                category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected", category=UserWarning)
        yield


def _values(y: Any, weights: SpatialWeights) -> np.ndarray:
    if isinstance(y, pd.Series):
        missing = [c for c in weights.ids if c not in y.index]
        if missing:
            raise SeguraError(f"no value for {len(missing)} territories of the weights: {', '.join(missing[:10])}")
        y = y.reindex(list(weights.ids))
    values = np.asarray(y, dtype=float).ravel()
    if len(values) != weights.n:
        raise SeguraError(f"{len(values)} values for {weights.n} territories; give one value per territory, "
                          "in the order of weights.ids or as a Series indexed by code")
    bad = ~np.isfinite(values)
    if bad.any():
        codes = [weights.ids[i] for i in np.flatnonzero(bad)[:10]]
        raise SeguraError(f"{int(bad.sum())} territories have no value (NaN or infinite): {', '.join(codes)}; "
                          "smoothed rates (indicators.stats.eb_local) give every territory with population a value")
    return values


def _check(permutations: int, alpha: float) -> None:
    if int(permutations) != permutations or permutations < 1:
        raise SeguraError(f"permutations must be a whole number, at least 1 (999 is usual; got {permutations!r})")
    if not 0 < alpha < 1:
        raise SeguraError(f"alpha must lie between 0 and 1 (0.05 is usual; got {alpha!r})")


def _result(method: str, weights: SpatialWeights, values: np.ndarray, statistic: np.ndarray, expected: np.ndarray,
            z: np.ndarray, p_sim: np.ndarray, quadrant: np.ndarray, labels: dict[str, str], permutations: int,
            seed: int, alpha: float, fdr: bool, isolated: np.ndarray) -> LocalClusters:
    # esda returns float32 pseudo p-values: 50/1000 becomes 0.0500000007 > 0.05. They are counts over
    # permutations + 1, so they are put back on that grid in float64 before any comparison with alpha.
    p = np.round(p_sim.astype(float) * (permutations + 1)) / (permutations + 1)
    p = np.where(isolated, np.nan, p)
    valid = ~np.isnan(p)
    p_fdr = np.full(len(p), np.nan)
    if valid.any():
        p_fdr[valid] = stats.false_discovery_control(p[valid], method="bh")
    with np.errstate(invalid="ignore"):
        significant = np.nan_to_num(p_fdr if fdr else p, nan=1.0) <= alpha
    cluster = np.where(significant, pd.Series(quadrant).map(labels).to_numpy(), NOT_SIGNIFICANT)
    frame = pd.DataFrame({
        "code": list(weights.ids), "value": values, "statistic": statistic, "expected": expected, "z": z,
        "p_sim": p, "p_fdr": p_fdr, "significant": significant, "quadrant": quadrant, "cluster": cluster,
    }, columns=list(COLUMNS))
    isolated_codes = tuple(weights.ids[i] for i in np.flatnonzero(isolated))
    return LocalClusters(method, frame, int(permutations), int(seed), float(alpha), fdr, isolated_codes)


def _flat(method: str, weights: SpatialWeights, values: np.ndarray, permutations: int, seed: int, alpha: float,
          fdr: bool, isolated: np.ndarray) -> LocalClusters:
    """A map where every territory has the same value: no association to find (the statistics divide by 0)."""
    n = weights.n
    zeros = np.zeros(n)
    if method == "local_moran":  # every z_i is 0: so is every I_i and its expectation
        return _result(method, weights, values, zeros, zeros, zeros, np.ones(n), np.full(n, "LL"), MORAN_CLUSTERS,
                       permutations, seed, alpha, fdr, isolated)
    # Gi* is the territory's share of the total: (neighbours + 1) / n whatever the permutation (undefined at 0)
    share = (weights.cardinalities() + 1.0) / n if values.sum() > 0 else np.full(n, np.nan)
    return _result(method, weights, values, share, share, zeros, np.ones(n), np.full(n, "cold"), GI_CLUSTERS,
                   permutations, seed, alpha, fdr, isolated)
