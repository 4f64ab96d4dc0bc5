"""The tables of one publication as a single linear system: what the public can combine.

Every cell becomes a variable; cells that two tables of a measure share are one variable. A cell
is identified by its label on every axis of its measure, an axis the table lacks standing at its
total: table (territory x sex) at (state A, _T) and table (territory) at (state A) are the same
cell. This closes the pairwise linking rule (common margins are the same cells) under transitivity
in one step, so linking needs no fixpoint of its own.

Every relation of every table becomes a row of a sparse matrix with +1 for the parent and -1 for
each child, so that `matrix @ values == 0`; relations repeated by linked tables appear once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from segura.disclosure.cube import Table, check_tables


@dataclass(frozen=True)
class System:
    """Variables (distinct cells) with their counts, and relations as rows of a sparse matrix."""

    values: np.ndarray  # int64, the count of each variable
    cells: tuple[np.ndarray, ...]  # per table, the variable of each cell (the table's shape)
    matrix: sp.csr_array  # relations x variables: +1 parent, -1 children; matrix @ values == 0

    @property
    def size(self) -> int:
        return len(self.values)


def build_system(tables: Sequence[Table]) -> System:
    """Merge the cells the tables share and collect every relation once; validates the tables."""
    check_tables(tables)
    cells: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(tables)
    values: list[np.ndarray] = []
    offset = 0
    by_measure: dict[str, list[int]] = defaultdict(list)
    for i, table in enumerate(tables):
        by_measure[table.measure].append(i)
    for measure, members in by_measure.items():
        # an axis may hold fewer labels in one table than in another (municipalities in one,
        # states only in the other): cells are matched by label, across every table of the measure
        labels: dict[str, dict[str, int]] = defaultdict(dict)
        for i in members:
            for a in tables[i].axes:
                for label in a.labels:
                    labels[a.name].setdefault(label, len(labels[a.name]))
        names = sorted(labels)
        totals: dict[str, int] = {}
        for i in members:
            for a in tables[i].axes:
                totals.setdefault(a.name, labels[a.name][a.labels[a.total]])
        keys = [cell_keys(tables[i], names, totals, labels) for i in members]
        unique, inverse = np.unique(np.concatenate(keys), axis=0, return_inverse=True)
        counts = np.concatenate(
            [np.asarray(tables[i].counts, dtype=np.int64).ravel() for i in members]
        )
        merged = np.zeros(len(unique), dtype=np.int64)
        merged[inverse] = counts
        if not np.array_equal(merged[inverse], counts):
            at = int(np.flatnonzero(merged[inverse] != counts)[0])
            named = {n: list(labels[n])[k] for n, k in zip(names, unique[inverse[at]], strict=True)}
            raise ValueError(
                f"tables of {measure!r} disagree on the cell {named}: a margin that two tables "
                "share must have the same count in both"
            )
        start = 0
        for i in members:
            size = int(np.prod(tables[i].shape))
            cells[i] = (inverse[start : start + size] + offset).reshape(tables[i].shape)
            start += size
        values.append(merged)
        offset += len(unique)
    return System(
        values=np.concatenate(values) if values else np.empty(0, dtype=np.int64),
        cells=tuple(cells),
        matrix=relation_matrix(tables, cells, offset),
    )


def cell_keys(
    table: Table, names: list[str], totals: dict[str, int], labels: dict[str, dict[str, int]]
) -> np.ndarray:
    """One row per cell (C order): its label's index in `labels` on each of `names` (the measure's
    labels of that axis, over all its tables), the total if the table lacks the axis."""
    own = [a.name for a in table.axes]
    grid = np.indices(table.shape).reshape(len(own), -1)
    local = {a.name: np.array([labels[a.name][x] for x in a.labels], dtype=np.int64) for a in table.axes}
    columns = [
        local[n][grid[own.index(n)]] if n in own else np.full(grid.shape[1], totals[n])
        for n in names
    ]
    return np.stack(columns, axis=1) if columns else np.zeros((grid.shape[1], 0), dtype=np.int64)


def relation_matrix(
    tables: Sequence[Table], cells: Sequence[np.ndarray], size: int
) -> sp.csr_array:
    """Each relation instance once, as a row: parent then its children in increasing order."""
    by_width: dict[int, list[np.ndarray]] = defaultdict(list)
    for table, ids in zip(tables, cells, strict=True):
        for k, axis in enumerate(table.axes):
            lines = np.moveaxis(ids, k, -1).reshape(-1, len(axis.labels))
            for parent, children in axis.relations:
                rows = np.column_stack(
                    [lines[:, parent], np.sort(lines[:, list(children)], axis=1)]
                )
                by_width[rows.shape[1]].append(rows)
    blocks = [np.unique(np.concatenate(by_width[w]), axis=0) for w in sorted(by_width)]
    if not blocks:
        return sp.csr_array((len(blocks), size), dtype=np.int8)
    widths = np.concatenate([np.full(len(b), b.shape[1]) for b in blocks])
    indptr = np.concatenate([[0], np.cumsum(widths)])
    indices = np.concatenate([b.ravel() for b in blocks])
    data = np.concatenate([np.tile([1] + [-1] * (b.shape[1] - 1), len(b)) for b in blocks])
    return sp.csr_array((data.astype(np.int8), indices, indptr), shape=(len(widths), size))
