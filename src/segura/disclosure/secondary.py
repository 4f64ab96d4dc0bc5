"""Secondary suppression built from certificates: suppress what the proofs of protection move.

What the public knows: every published cell, every relation of every table (a state is the sum
of its municipalities, a year of its months, a rolling window of its twelve months, a total of
its categories; tables of a measure share their common cells), that counts are non-negative
integers, and which cells are suppressed, all under one flag, so that a suppressed cell lies
in [0, inf) for all the public can tell (a flag for primary cells only would say "between 1
and the threshold - 1", and with zeros published that pins a good share of them).

Every suppressed cell needs a certificate (`certify.py`): another table consistent with all of
that, in which the cell differs from the truth by at least 1 (the attacker subproblem of
Fischetti and Salazar-Gonzalez, "Solving the cell suppression problem on tabular data with
linear constraints", Management Science 47(7), 2001, with protection level 1). The difference
is a *move*; the cells it touches must be suppressed for it to stay consistent with the
publication, and each cell it moves by a full unit is certified by it. A certificate stays one
however many more cells are suppressed later. So the pattern is the primaries plus the union of
the moves, and every suppressed cell carries its proof, or is reported `unproven`.

Moves are searched by linear programming in small neighbourhoods first, grown step by step
(`neighbourhoods`): a municipality-month is balanced against the other municipalities of its
state and the other months of its quarter, the state and the quarter held fixed; only what
cannot be certified there may reach the year, then the nation. An LP over the whole system
would use the grand totals as a sink for every move it cannot balance, and suppress them.
Within a neighbourhood the LP prefers cells already suppressed, then zeros and small counts
(a price per unit moved: the count + 1), so that the margins people use stay published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segura.disclosure.certify import Move, Room, find_moves
from segura.disclosure.cube import Axis, Table
from segura.disclosure.system import System

SMALL_AXIS = 16  # labels: an axis this short (sex, age groups, categories) is searched whole
MAX_ROUNDS = 6  # rounds of LPs per neighbourhood (up, then down, ...) while they certify more
ANY_PRICE = 0.0  # a weight so small that any certificate beats none (see `Search.solve`)
# Per unit of price (count + 1) moved, against 1 for each cell certified: first the LP may only
# use cells worth less than a certificate, then any.
WEIGHTS = ((0.05, 1 << 30), (1e-3, 16), (ANY_PRICE, 4))  # (weight, targets per LP)
PRICE_POWER = 1.5  # a margin of 1,000 costs 600 times a cell of 10, not 100 times
MARGIN_PRICE = 2.0  # and each of a cell's labels that sums others (a total, a state, a year) doubles it


@dataclass(frozen=True)
class Plan:
    """A suppression pattern and what it does not protect."""

    suppressed: np.ndarray  # per variable
    unproven: np.ndarray  # suppressed cells left without a certificate


@dataclass
class Search:
    """State of the search: prices, what is suppressed and certified so far."""

    system: System
    room: Room
    suppressed: np.ndarray
    certified: np.ndarray
    emphasis: np.ndarray  # per variable: MARGIN_PRICE ** (labels that are sums of others)

    def apply(self, move: Move) -> int:
        """Suppress what `move` touches, certify what it moves a full unit; newly certified."""
        before = int(self.certified.sum())
        self.suppressed[move.touched] = True
        self.certified[move.certified] = True
        return int(self.certified.sum()) - before

    def pending(self) -> np.ndarray:
        return self.suppressed & ~self.certified

    def solve(self, variables: np.ndarray, targets: np.ndarray, upward: bool, weight: float) -> Move:
        """The best move over `variables` for `targets`, each moved in the preferred direction
        when it has room both ways (a zero can only rise)."""
        can_fall = self.room.down[targets] >= 1
        rise = np.where(can_fall, upward, True)
        values = self.system.values[variables]
        price = np.where(self.suppressed[variables], 0.0,
                         (values.astype(float) + 1.0) ** PRICE_POWER * self.emphasis[variables])
        if weight == ANY_PRICE:  # even a move through every cell costs less than one certificate
            weight = 0.5 / max(float(price.sum()), 1.0)
        return find_moves(
            self.system, variables, targets, np.where(rise, 1, -1), self.room, price, weight
        )

    def rounds(self, variables: np.ndarray) -> None:
        """Certify the pending cells of `variables` with moves inside them, cheap cells first."""
        for weight, batch in WEIGHTS:
            for turn in range(MAX_ROUNDS):
                targets = variables[self.pending()[variables]]
                if not len(targets):
                    return
                gained = 0
                for start in range(0, len(targets), batch):
                    chunk = targets[start : start + batch]
                    chunk = chunk[self.pending()[chunk]]
                    if len(chunk):
                        gained += self.apply(self.solve(variables, chunk, turn % 2 == 0, weight))
                if not gained and turn:
                    break


def plan_suppression(system: System, tables: Sequence[Table], primary: np.ndarray) -> Plan:
    """Primaries plus the cells their certificates move."""
    values = system.values
    search = Search(
        system=system,
        room=Room(down=values.astype(float), up=np.full(system.size, np.inf)),
        suppressed=primary.copy(),
        certified=np.zeros(system.size, dtype=bool),
        emphasis=MARGIN_PRICE ** margins(tables, system),
    )
    grid = Grid(tables, system)
    for reach in range(grid.depth + 1):
        hoods = grid.neighbourhoods(np.flatnonzero(search.pending()), reach)
        for variables in sorted(hoods, key=len):  # the small ones first: they settle most cells
            search.rounds(variables)
        if not search.pending().any():
            break
    # what the neighbourhoods left: one cell at a time over the whole system, at any price
    everything = np.arange(system.size)
    for cell in np.flatnonzero(search.pending()):
        for upward in (True, False):
            if search.pending()[cell]:
                search.apply(search.solve(everything, np.array([cell]), upward, ANY_PRICE))
    return Plan(suppressed=search.suppressed, unproven=search.pending())


def margins(tables: Sequence[Table], system: System) -> np.ndarray:
    """Per variable, how many of its labels are sums of others (in the table that says most)."""
    out = np.zeros(system.size, dtype=np.int64)
    for table, ids in zip(tables, system.cells, strict=True):
        count = np.zeros(table.shape, dtype=np.int64)
        for k, axis in enumerate(table.axes):
            parents = np.zeros(len(axis.labels), dtype=np.int64)
            parents[[p for p, _ in axis.relations]] = 1
            shape = [1] * len(table.shape)
            shape[k] = len(axis.labels)
            count = count + parents.reshape(shape)
        np.maximum.at(out, ids.ravel(), count.ravel())
    return out


class Grid:
    """The cells of every table by label names, and the neighbourhoods of a cell.

    On each long axis (territory, period) a cell's neighbourhood at `reach` r is everything
    below its ancestor r + 1 levels up (by the first relation naming each label as a child:
    the state of a municipality, the quarter of a month, the year of a quarter), that ancestor
    itself excluded, plus the other aggregates over those labels (the rolling windows over a
    quarter's months); once the ancestor would pass the top, the whole axis. Short axes are
    always whole. Tables of a measure are matched by label name, so a neighbourhood holds the
    cells of every table whose labels all lie in it.
    """

    def __init__(self, tables: Sequence[Table], system: System) -> None:
        self.tables = tables
        self.system = system
        self.axes: dict[tuple[str, str], Axis] = {}
        for t in tables:
            for a in t.axes:
                known = self.axes.get((t.measure, a.name))
                if known is None or len(a.labels) > len(known.labels):
                    self.axes[(t.measure, a.name)] = a
        self.depth = max((self._height(a) for a in self.axes.values()), default=0)
        self._blocks: dict[tuple[str, str, str, int], frozenset[str]] = {}

    @staticmethod
    def _parents(axis: Axis) -> dict[int, int]:
        first: dict[int, int] = {}
        for parent, children in axis.relations:
            for c in children:
                first.setdefault(c, parent)
        return first

    def _height(self, axis: Axis) -> int:
        parents = self._parents(axis)
        best = 0
        for label in range(len(axis.labels)):
            n, at = 0, label
            while at in parents:
                at, n = parents[at], n + 1
            best = max(best, n)
        return best

    def block(self, measure: str, name: str, label: str, reach: int) -> frozenset[str] | None:
        """Label names of the neighbourhood of `label` on the axis; None for the whole axis."""
        axis = self.axes[(measure, name)]
        if len(axis.labels) <= SMALL_AXIS:
            return None
        key = (measure, name, label, reach)
        if key not in self._blocks:
            self._blocks[key] = self._block(axis, axis.labels.index(label), reach)
        return self._blocks[key] or None

    def _block(self, axis: Axis, label: int, reach: int) -> frozenset[str]:
        parents = self._parents(axis)
        top = label
        for _ in range(reach + 1):
            if top not in parents:
                return frozenset()  # past the top: the whole axis
            top = parents[top]
        children: dict[int, list[int]] = defaultdict(list)
        for parent, kids in axis.relations:
            children[parent].extend(kids)
        inside: set[int] = {top}
        stack = [top]
        while stack:
            for c in children.get(stack.pop(), []):
                if c not in inside:
                    inside.add(c)
                    stack.append(c)
        above = set()  # the ancestors of the block's top stay out
        at = top
        while at in parents:
            at = parents[at]
            above.add(at)
        # other aggregates over the block's labels (rolling windows), never its ancestors
        extra = {p for p, kids in axis.relations if p not in above and any(k in inside for k in kids)}
        return frozenset(axis.labels[i] for i in inside | extra)

    def neighbourhoods(self, cells: np.ndarray, reach: int) -> list[np.ndarray]:
        """The variables of the neighbourhood of each of `cells` (variables), merged when equal."""
        where = self._locate(cells)
        Key = tuple[str, tuple[tuple[str, frozenset[str] | None], ...]]
        groups: dict[Key, None] = {}
        for measure, labels in where:
            key: Key = (measure, tuple((name, self.block(measure, name, lab, reach)) for name, lab in labels))
            groups.setdefault(key, None)
        return [self._variables(measure, dict(blocks)) for measure, blocks in groups]

    def _locate(self, cells: np.ndarray) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """For each variable, its measure and its labels in the first table that holds it."""
        wanted = set(int(c) for c in cells)
        found: dict[int, tuple[str, tuple[tuple[str, str], ...]]] = {}
        for t, ids in zip(self.tables, self.system.cells, strict=True):
            flat = ids.ravel()
            hit = np.flatnonzero(np.isin(flat, list(wanted - set(found))))
            for pos in hit:
                index = np.unravel_index(pos, ids.shape)
                found[int(flat[pos])] = (t.measure, tuple((a.name, a.labels[int(i)]) for a, i in zip(t.axes, index, strict=True)))
        return [found[int(c)] for c in cells]

    def _variables(self, measure: str, blocks: dict[str, frozenset[str] | None]) -> np.ndarray:
        chosen = []
        for t, ids in zip(self.tables, self.system.cells, strict=True):
            if t.measure != measure:
                continue
            sel = []
            for a in t.axes:
                allowed = blocks.get(a.name)
                sel.append(np.arange(len(a.labels)) if allowed is None else
                           np.array([i for i, lab in enumerate(a.labels) if lab in allowed], dtype=np.int64))
            if all(len(s) for s in sel):
                chosen.append(ids[np.ix_(*sel)].ravel())
        return np.unique(np.concatenate(chosen)) if chosen else np.empty(0, dtype=np.int64)
