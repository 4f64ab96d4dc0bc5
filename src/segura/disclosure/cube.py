"""Count tables as the public sees them: axes with hierarchies, and the counts of every cell.

A table is one cube of a measure (victims of homicide, say): every combination of the positions
of its axes, totals and aggregates included. The additive relations of an axis (a state is the
sum of its municipalities, a year of its quarters and also of its months) hold for every position
of the other axes. Validation here fails loudly: a table that breaks its own relations would make
every disclosure audit meaningless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Relation = tuple[int, tuple[int, ...]]  # (parent, children): value[parent] == sum(value[children])


@dataclass(frozen=True)
class Axis:
    """One dimension of a table: its labels and how some of them add up to others."""

    name: str  # "territory", "period", "sex", ...
    labels: tuple[str, ...]  # every position, totals and aggregates included
    relations: tuple[Relation, ...]  # a parent may appear in several relations
    total: int  # index of the grand total label (national, all periods, both sexes)

    def check(self) -> None:
        """Raise ValueError if a label repeats, an index is out of range or a relation is empty."""
        n = len(self.labels)
        if n == 0:
            raise ValueError(f"axis {self.name!r} has no labels")
        if len(set(self.labels)) != n:
            repeated = sorted({x for x in self.labels if self.labels.count(x) > 1})
            raise ValueError(f"axis {self.name!r}: labels {repeated} appear more than once")
        if not 0 <= self.total < n:
            raise ValueError(
                f"axis {self.name!r}: total={self.total} is not an index of its {n} labels"
            )
        for parent, children in self.relations:
            where = f"axis {self.name!r}, relation ({parent}, {tuple(children)})"
            if not children:
                raise ValueError(f"{where}: a relation needs at least one child")
            bad = [i for i in (parent, *children) if not 0 <= i < n]
            if bad:
                raise ValueError(
                    f"{where}: indices {bad} are out of range; the axis has {n} labels"
                )
            if parent in children or len(set(children)) != len(children):
                raise ValueError(f"{where}: the parent and the children must be distinct labels")


@dataclass(frozen=True)
class Table:
    """One published cube of a measure; tables of the same measure share their common margins."""

    measure: str
    axes: tuple[Axis, ...]
    counts: np.ndarray  # non-negative integers, shape == tuple(len(a.labels) for a in axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.labels) for a in self.axes)

    def check(self) -> None:
        """Raise ValueError unless the counts fit the axes, are non-negative integers and add up."""
        for axis in self.axes:
            axis.check()
        names = [a.name for a in self.axes]
        if len(set(names)) != len(names):
            raise ValueError(f"table of {self.measure!r}: axis names {names} repeat")
        counts = np.asarray(self.counts)
        if counts.shape != self.shape:
            raise ValueError(
                f"table of {self.measure!r}: counts have shape {counts.shape} but the axes "
                f"{names} call for {self.shape}"
            )
        if counts.size and not np.all(np.mod(counts, 1) == 0):
            raise ValueError(f"table of {self.measure!r}: counts must be integers")
        if counts.size and counts.min() < 0:
            lowest = tuple(int(i) for i in np.unravel_index(int(np.argmin(counts)), counts.shape))
            raise ValueError(
                f"table of {self.measure!r}: counts must be non-negative, found {counts[lowest]} "
                f"at {self.labels_of(lowest)}"
            )
        for k, axis in enumerate(self.axes):
            moved = np.moveaxis(counts, k, 0)
            for parent, children in axis.relations:
                broken = moved[parent] != moved[list(children)].sum(axis=0)
                if broken.any():
                    first = np.argwhere(broken)[0]
                    at = [int(i) for i in np.insert(first, k, parent)]
                    raise ValueError(
                        f"table of {self.measure!r}: {axis.labels[parent]!r} is not the sum of "
                        f"{[axis.labels[c] for c in children]} along {axis.name!r} at "
                        f"{int(broken.sum())} positions (first: {self.labels_of(at)})"
                    )

    def labels_of(self, index: Sequence[int]) -> dict[str, str]:
        """The labels of the cell at `index`, by axis name (for messages and reports)."""
        return {a.name: a.labels[int(i)] for a, i in zip(self.axes, index, strict=True)}


def check_tables(tables: Sequence[Table]) -> None:
    """Check every table, and that tables of one measure agree on the total of each shared axis
    (an axis may hold fewer labels in one table: states only, years only)."""
    seen: dict[tuple[str, str], str] = {}
    for table in tables:
        table.check()
        for axis in table.axes:
            total = seen.setdefault((table.measure, axis.name), axis.labels[axis.total])
            if total != axis.labels[axis.total]:
                raise ValueError(
                    f"tables of {table.measure!r} share cells but their {axis.name!r} axes have "
                    f"different totals ({total!r} and {axis.labels[axis.total]!r})"
                )
