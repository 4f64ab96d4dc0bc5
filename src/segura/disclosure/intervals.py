"""Interval propagation: the bounds the public can derive for every cell by chaining relations.

Each relation says parent = sum(children); given intervals for all its members but one, the
last one lies in an interval too. Repeating this until nothing moves gives, for every cell, an
interval that contains every value consistent with the publication (so it contains the bounds of
the linear programming attacker): a cell it pins is disclosed. It is what a careful reader with a
spreadsheet does: subtraction, addition, and "these four nonzero children are at least 1 each,
so the margin of 4 is all ones", chained across the whole cube, in milliseconds.

Starting bounds are public: a published cell is its value, a 'C' cell lies in [1, threshold-1],
a 'D' cell in [0, inf). Bounds stay integers (sums and differences of integers), so a cell is
pinned exactly when its two bounds meet. Each round revisits only the relations of the cells
whose bounds moved in the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segura.disclosure.system import System

MAX_ROUNDS = 10_000  # a safety net: every round narrows some bound by at least 1 (stopping early
# leaves valid, only looser, bounds)


@dataclass(frozen=True)
class Bounds:
    """An interval per variable (floats holding integers, or +-inf)."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def public(
        cls, values: np.ndarray, suppressed: np.ndarray, primary: np.ndarray, limit: np.ndarray
    ) -> Bounds:
        """What the flags say: published = value, 'C' in [1, limit-1], 'D' in [0, inf)."""
        exact = values.astype(float)
        low = np.where(suppressed, np.where(primary, 1.0, 0.0), exact)
        high = np.where(suppressed, np.where(primary, limit - 1.0, np.inf), exact)
        return cls(low=low, high=high)

    def pinned(self) -> np.ndarray:
        """Variables whose interval holds a single integer."""
        return self.high - self.low < 1


class Propagator:
    """Interval propagation over the relations of one system."""

    def __init__(self, system: System) -> None:
        matrix = system.matrix
        self.row_ptr = matrix.indptr
        self.row_length = np.diff(matrix.indptr)
        self.columns = matrix.indices
        self.is_parent = matrix.data > 0
        by_column = matrix.tocsc()
        self.column_ptr = by_column.indptr
        self.rows_of_column = by_column.indices
        self.n_rows, self.n_columns = matrix.shape

    def rows_of(self, variables: np.ndarray) -> np.ndarray:
        """The relations (rows) that hold any of `variables`, in increasing order."""
        return distinct(self.rows_of_column[spans(self.column_ptr, variables)], self.n_rows)

    def run(self, bounds: Bounds, changed: np.ndarray) -> Bounds:
        """Bounds narrowed through every relation, starting from the variables in `changed`."""
        low, high = bounds.low.copy(), bounds.high.copy()
        frontier = distinct(changed, self.n_columns)
        for _ in range(MAX_ROUNDS):
            if not len(frontier):
                break
            rows = self.rows_of(frontier)
            entries = spans(self.row_ptr, rows)
            local = np.repeat(np.arange(len(rows)), self.row_length[rows])
            columns, parent = self.columns[entries], self.is_parent[entries]
            # each member's a*x with a = +1 for the parent and -1 for a child; sum(a*x) == 0
            least = np.where(parent, low[columns], -high[columns])
            most = np.where(parent, high[columns], -low[columns])
            others_least = sum_of_others(local, least, len(rows), -np.inf)
            others_most = sum_of_others(local, most, len(rows), np.inf)
            new_low = np.where(parent, -others_most, others_least)
            new_high = np.where(parent, -others_least, others_most)
            before_low, before_high = low[columns], high[columns]
            np.maximum.at(low, columns, new_low)
            np.minimum.at(high, columns, new_high)
            moved = (low[columns] > before_low) | (high[columns] < before_high)
            frontier = distinct(columns[moved], self.n_columns)
        return Bounds(low=low, high=high)

    def full(self, bounds: Bounds) -> Bounds:
        """Bounds narrowed through every relation."""
        return self.run(bounds, np.arange(len(self.column_ptr) - 1))


def distinct(ids: np.ndarray, n: int) -> np.ndarray:
    """The distinct values of `ids` (all in range(n)), sorted; a mask beats hashing here."""
    mask = np.zeros(n, dtype=bool)
    mask[ids] = True
    return np.flatnonzero(mask)


def spans(ptr: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Concatenated ranges ptr[i]:ptr[i+1] for i in ids (CSR/CSC gather)."""
    starts, lengths = ptr[ids], ptr[ids + 1] - ptr[ids]
    total = int(lengths.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return offsets + np.arange(total)


def sum_of_others(rows: np.ndarray, values: np.ndarray, n: int, infinite: float) -> np.ndarray:
    """For each entry, the sum of the other entries of its row (`infinite` if one of them is)."""
    finite = np.isfinite(values)
    plain = np.where(finite, values, 0.0)
    total = np.bincount(rows, plain, n)
    infinities = np.bincount(rows, ~finite, n)
    return np.where(infinities[rows] - ~finite > 0, infinite, total[rows] - plain)
