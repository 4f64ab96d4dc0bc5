"""The Knox test of space-time interaction and the near-repeat table, for geolocated incidents.

Distances in metres, through `segura.territorial.points.projected_xy`; times as dates or
datetimes (days). Events without coordinates or without a time are dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from segura.errors import SeguraError
from segura.territorial.clusters import DEFAULT_SEED, PERMUTATIONS
from segura.territorial.points import projected_xy

NEAR_REPEAT_COLUMNS = ("distance_band", "day_band", "observed", "expected", "ratio", "p_value")


@dataclass(frozen=True)
class KnoxResult:
    """The Knox test: pairs of events within `distance_m` and `days` of each other (observed),
    against their expectation when the times are shuffled among the events."""

    n: int
    distance_m: float
    days: float
    pairs: int  # n (n - 1) / 2
    close_in_space: int
    close_in_time: int
    observed: int  # close in both
    expected: float  # exact mean of the permutation distribution: close_in_space * close_in_time / pairs
    simulated_mean: float  # mean of the permutations drawn (checks `expected`)
    ratio: float  # observed / expected: the Knox ratio of the Near Repeat Calculator
    p_value: float  # one-sided pseudo p-value: (permutations with as many or more + 1) / (permutations + 1)
    permutations: int
    seed: int
    dropped: int  # events without coordinates or time


def knox(
    points_xy: Any,
    times: Any,
    distance_m: float,
    days: float,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    crs: Any = None,
) -> KnoxResult:
    """Knox (1964) test of space-time interaction: are events close in space (<= `distance_m`)
    also close in time (<= `days`) more often than chance? Inference by permuting the times
    among the events (Mantel 1967), which keeps the spatial and the temporal pattern each as
    they are; a ratio above 1 with a small p-value is the near-repeat pattern (Townsley, Homel
    and Chaseling 2003). `points_xy` is an (n, 2) array in metres or a GeoSeries; `times` are
    dates, datetimes or numbers of days.

    Permuting the times also breaks any slow change in where events are recorded (a new area, a
    change of geocoding practice), and the test then reads that change as interaction: run it
    over periods of stable recording (a year at a time) and compare.
    """
    # Written here rather than with pointpats.spacetime.Knox (pointpats 2.5): that one draws from
    # NumPy's global random state (no seed), permutes in a Python loop over sets of neighbours
    # (seconds per permutation on tens of thousands of events), has no band table, and would add
    # pointpats and matplotlib to the dependencies. Here the spatial pairs come once from a
    # KD-tree and each permutation is one vectorised comparison over them.
    table = _near_repeat(points_xy, times, np.array([0.0, float(distance_m)]), np.array([0.0, float(days)]),
                         permutations=permutations, seed=seed, crs=crs, same_location=False)
    first = table.cells[0]  # distance band [0, distance_m] x day band [0, days]
    return KnoxResult(
        n=table.n, distance_m=float(distance_m), days=float(days), pairs=table.pairs,
        close_in_space=int(table.space_totals[0]), close_in_time=int(table.time_totals[0]),
        observed=int(first["observed"]), expected=float(first["expected"]), simulated_mean=float(first["simulated_mean"]),
        ratio=float(first["ratio"]), p_value=float(first["p_value"]), permutations=int(permutations), seed=int(seed),
        dropped=table.dropped,
    )


@dataclass(frozen=True, eq=False)
class NearRepeatTable:
    """Knox ratios and p-values over distance x time bands, as the Near Repeat Calculator
    (Ratcliffe 2009) lays them out (see NEAR_REPEAT_COLUMNS)."""

    frame: pd.DataFrame
    n: int
    permutations: int
    seed: int
    dropped: int

    def pivot(self, value: str = "ratio") -> pd.DataFrame:
        """Distance bands as rows, day bands as columns, in band order."""
        table = self.frame.pivot(index="distance_band", columns="day_band", values=value)
        return table.loc[self.frame["distance_band"].unique(), self.frame["day_band"].unique()]


def near_repeat_table(
    points_xy: Any,
    times: Any,
    distance_edges_m: Any,
    day_edges: Any,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = DEFAULT_SEED,
    same_location: bool = True,
    crs: Any = None,
) -> NearRepeatTable:
    """The near-repeat table: for each distance band (0 to e1, e1 to e2, ..., beyond the last
    edge) and day band (likewise), the pairs observed, expected under permuted times, their ratio
    and one-sided pseudo p-value. With `same_location` the pairs at distance 0 (the same
    address: repeat victimisation) have a band of their own, as in the Near Repeat Calculator.
    Edges are inclusive above: a pair 100 m apart is in the band that ends at 100.
    """
    distance_edges = np.asarray(distance_edges_m, dtype=float)
    day_edges_ = np.asarray(day_edges, dtype=float)
    table = _near_repeat(points_xy, times, distance_edges, day_edges_, permutations=permutations, seed=seed,
                         crs=crs, same_location=same_location)
    frame = pd.DataFrame(table.cells, columns=[*NEAR_REPEAT_COLUMNS, "simulated_mean"])
    return NearRepeatTable(frame, table.n, int(permutations), int(seed), table.dropped)


@dataclass(frozen=True)
class _Bands:
    cells: list[dict[str, Any]]
    n: int
    pairs: int
    space_totals: np.ndarray  # pairs per distance band
    time_totals: np.ndarray  # pairs per day band, over all pairs
    dropped: int


def _near_repeat(points_xy: Any, times: Any, distance_edges: np.ndarray, day_edges: np.ndarray, *,
                 permutations: int, seed: int, crs: Any, same_location: bool) -> _Bands:
    """Pairs per (distance band, day band), observed and under permutations of the times.

    Only pairs within the last distance edge are listed (KD-tree); the row beyond it is the total
    of each day band over all n (n - 1) / 2 pairs, which permuting the times leaves unchanged and
    which sorted times give in O(n log n), less the rows listed. The expectation of each cell is
    exact: a permutation sends a pair of events to a uniformly drawn pair of times, so a pair of
    distance band a lands in day band b with probability (pairs of band b) / (all pairs).
    """
    for name, edges in (("distance", distance_edges), ("day", day_edges)):
        if edges.ndim != 1 or len(edges) < 2 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
            raise SeguraError(f"{name} edges must start at 0 and increase (got {edges.tolist()})")
    if int(permutations) != permutations or permutations < 1:
        raise SeguraError(f"permutations must be a whole number, at least 1 (999 is usual; got {permutations!r})")
    xy, valid, _ = projected_xy(points_xy, crs)
    t, per_day = _times(times)
    day_edges = day_edges * per_day
    if len(t) != len(xy):
        raise SeguraError(f"{len(t)} times for {len(xy)} points; give one time per point")
    valid &= np.isfinite(t)
    xy, t = xy[valid], t[valid]
    n = len(t)
    if n < 2:
        raise SeguraError(f"{n} event(s) with coordinates and time: the Knox test needs pairs")
    pairs = n * (n - 1) // 2
    i, j = cKDTree(xy).query_pairs(float(distance_edges[-1]), output_type="ndarray").T
    d = np.hypot(*(xy[i] - xy[j]).T)
    # distance band of each listed pair: 0 = same location (if asked), then (e_k, e_k+1]
    offset = 1 if same_location else 0
    dband = np.searchsorted(distance_edges[1:], d, side="left") + offset
    if same_location:
        dband[d == 0] = 0
    nd = len(distance_edges) - 1 + offset + 1  # + the band beyond the last edge
    nt = len(day_edges)  # bands (e_k, e_k+1] and one beyond
    time_totals = _pairs_by_gap(t, day_edges, pairs)

    def table(times_: np.ndarray) -> np.ndarray:
        tband = np.searchsorted(day_edges[1:], np.abs(times_[i] - times_[j]), side="left")
        listed = np.bincount(dband * nt + tband, minlength=(nd - 1) * nt).reshape(nd - 1, nt)
        return np.vstack([listed, time_totals - listed.sum(axis=0)])

    observed = table(t)
    space_totals = observed.sum(axis=1)
    expected = np.outer(space_totals, time_totals) / pairs
    rng = np.random.default_rng(seed)
    as_large = np.zeros_like(observed)
    total = np.zeros(observed.shape, dtype=float)
    for _ in range(int(permutations)):
        sim = table(t[rng.permutation(n)])
        as_large += sim >= observed
        total += sim
    p = (as_large + 1) / (permutations + 1)
    dlabels = (["same location"] if same_location else []) + _band_labels(distance_edges, "m")
    tlabels = _band_labels(day_edges / per_day, "days")
    cells = []
    for a, dl in enumerate(dlabels):
        for b, tl in enumerate(tlabels):
            e = expected[a, b]
            cells.append({"distance_band": dl, "day_band": tl, "observed": int(observed[a, b]), "expected": e,
                          "ratio": observed[a, b] / e if e > 0 else np.nan, "p_value": p[a, b],
                          "simulated_mean": total[a, b] / permutations})
    return _Bands(cells, n, pairs, space_totals, time_totals, int((~valid).sum()))


def _pairs_by_gap(t: np.ndarray, edges: np.ndarray, pairs: int) -> np.ndarray:
    """Pairs of events per band of time gap (e_k, e_k+1], first band [0, e_1], last beyond."""
    s = np.sort(t)
    idx = np.arange(len(s))
    within = [int((np.searchsorted(s, s + e, side="right") - idx - 1).sum()) for e in edges[1:]]
    cumulative = np.array([*within, pairs])
    return np.diff(cumulative, prepend=0)


def _band_labels(edges: np.ndarray, unit: str) -> list[str]:
    def fmt(v: float) -> str:
        return f"{v:g}"

    labels = [f"0 to {fmt(edges[1])} {unit}"]
    labels += [f"{fmt(a)} to {fmt(b)} {unit}" for a, b in zip(edges[1:-1], edges[2:], strict=True)]
    return [*labels, f"more than {fmt(edges[-1])} {unit}"]


def _times(times: Any) -> tuple[np.ndarray, float]:
    """Times as floats and how many of their units make a day: numbers are days as they are;
    dates and datetimes become whole seconds from the earliest, so that every gap and every
    band edge is an exact float and a pair on an edge falls on the same side in each count."""
    values = times if isinstance(times, pd.Series) else pd.Series(np.asarray(times).ravel())
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float), 1.0
    try:
        stamps = pd.to_datetime(values)
    except (ValueError, TypeError) as e:
        raise SeguraError(f"times must be dates, datetimes or numbers of days ({e})") from e
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    seconds = stamps.to_numpy(dtype="datetime64[s]")
    out = np.full(len(seconds), np.nan)
    ok = ~np.isnat(seconds)
    if ok.any():
        out[ok] = (seconds[ok] - seconds[ok].min()).astype(np.int64)
    return out, 86400.0
