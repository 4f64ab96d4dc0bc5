"""Secondary suppression built from certificates: suppress what the proofs of protection move.

Every primary cell needs a certificate (`certify.py`): a move of the table that keeps every
published count and relation and shifts the cell by a full unit (the attacker subproblem of
Fischetti and Salazar-Gonzalez, "Solving the cell suppression problem on tabular data with
linear constraints", Management Science 47(7), 2001, with protection level 1). The cells a move
touches must be suppressed for the move to stay consistent with the publication; they become
the secondary ('D') cells and need certificates too (usually the same move). So the pattern is
the primaries plus the union of the moves, and every suppressed cell carries its proof.

1. Interval propagation over the safest pattern (every nonzero cell suppressed) finds what no
   pattern can change: 'C' cells pinned there are *exposed* by the flags alone (reported, see
   `Plan`); nonzero cells pinned there are derivable and never need hiding.
2. Moves may touch every other nonzero cell (zeros are published and never move); a cell
   already suppressed is free, another costs its count per unit moved, so that small cells are
   hidden before the margins people use. One LP moves as many uncertified cells as it can (a
   full unit each, up in one round and down in the next, while rounds still pay off).
3. Moves are searched in closed regions first (`regions.py`: a few municipalities, then a
   state, with nothing above them), so that they balance locally; then on each connected
   component in tiers that let the largest counts in last: an LP free to raise a grand total
   uses it as a sink for every move it cannot balance, and the first version of this module
   suppressed the national total that way. The last tier takes any price, a few cells per LP.
4. What is left is settled one cell at a time on its whole component while that stays within
   `EXACT_BUDGET`: a cell no move shifts is pinned whatever is suppressed (exposed). Beyond the
   budget, or on components above `LP_CAP`, it is reported as unproven, never assumed safe.

Why not the textbook bottom-up heuristic (give each relation with a single suppressed member a
second one, audit, repair, repeat)? Segura's cubes are sparse (municipality x month x sex x age:
mostly 0 and 1) and the public knows which cells are zero and that a 'C' cell is at least 1, so
most pins come from lower bounds (a published 6 over six nonzero cells is six ones) and from
identities between margins (a rolling 12-month window that equals a year); repairs climb the
hierarchy one cell at a time. On the demo-scale cube (85 territories x 48 periods x 4 sexes x 7
age groups, 3,000 victims, threshold 5) that loop, audited by interval propagation, published 408
of the 33,846 nonzero cells and was still open to the LP attacker; a top-down variant checked by
propagation published 4,457 but the LP attacker pinned 18 of 20 cells sampled from it. This
module publishes 1,625 (national and state totals among them), every suppressed cell with a
proof, in about 5 seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from segura.disclosure.certify import Move, Room, find_moves
from segura.disclosure.cube import Table
from segura.disclosure.intervals import Bounds, Propagator
from segura.disclosure.regions import region_levels
from segura.disclosure.system import System

LP_CAP = 60_000  # candidate cells of a component solved as one LP; larger ones region by region
REGION_CAP = 2_000  # candidate cells per region at the finest level
EXACT_BUDGET = 100_000  # component cells x cells left: settle them one LP each, else unproven
MAX_ROUNDS = 8
MAX_BATCHES = 32  # LPs per round in a tier that solves a few targets at a time
WEIGHT = 1e-4  # per unit of count moved: a move through 10,000 counts is worth one cell
LAST_WEIGHT = 1e-8  # when certifying at any price: still the cheapest such move, not any


@dataclass(frozen=True)
class Tier:
    """How moves are searched in a stage of rounds."""

    share: float = 1.0  # of the block's largest count: larger cells stay out of the moves
    weight: float = WEIGHT  # of suppression prices against certified cells
    stall: float = 0.1  # a pair of rounds certifying no more than this share of what is left
    batch: int = 1 << 30  # targets per LP: one LP for many can split them all half-and-half


REGION_TIER = Tier()
# The largest counts are let in last (an LP allowed to raise a grand total uses it as a sink
# for every move it cannot balance); the last tier certifies whatever can be, at any price, a
# few cells per LP.
TIERS = (Tier(share=0.25), Tier(share=0.999), Tier(), Tier(weight=LAST_WEIGHT, stall=0.0, batch=16))


@dataclass(frozen=True)
class Plan:
    """A suppression pattern and what it does not protect."""

    suppressed: np.ndarray  # per variable
    exposed: np.ndarray  # suppressed cells pinned even when every nonzero cell is suppressed
    unproven: np.ndarray  # suppressed cells left without a certificate (over EXACT_BUDGET)


@dataclass
class Search:
    """State of the search: candidates, prices, what is suppressed and certified so far."""

    system: System
    room: Room
    candidates: np.ndarray  # cells a move may touch: nonzero and not derivable
    suppressed: np.ndarray
    certified: np.ndarray

    def apply(self, move: Move) -> int:
        """Suppress what `move` touches, certify what it moves a full unit; newly certified."""
        before = int(self.certified.sum())
        self.suppressed[move.touched] = True
        self.certified[move.certified] = True
        return int(self.certified.sum()) - before

    def pending(self) -> np.ndarray:
        return self.suppressed & self.candidates & ~self.certified

    def solve(
        self, variables: np.ndarray, targets: np.ndarray, upward: bool, weight: float = WEIGHT
    ) -> Move:
        """The best move over `variables` for `targets`, each moved in the preferred direction
        when it has room both ways."""
        can_rise = self.room.up[targets] >= 1
        can_fall = self.room.down[targets] >= 1
        rise = np.where(can_rise & can_fall, upward, can_rise)
        values = self.system.values[variables]
        price = np.where(self.suppressed[variables], 0.0, values.astype(float))
        return find_moves(
            self.system, variables, targets, np.where(rise, 1, -1), self.room, price, weight
        )

    def rounds(self, blocks: Sequence[np.ndarray], tier: Tier) -> None:
        """Solve every block for its uncertified cells, up then down, while a pair of rounds
        certifies more than `tier.stall` of what was left (anything, for stall 0)."""
        for _ in range(0, MAX_ROUNDS, 2):
            left = sum(int(self.pending()[block].sum()) for block in blocks)
            gained = 0
            for upward in (True, False):
                for block in blocks:
                    targets = block[self.pending()[block]]
                    for start in range(0, len(targets), tier.batch):
                        batch = targets[start : start + tier.batch]
                        batch = batch[self.pending()[batch]]
                        if len(batch):
                            gained += self.apply(self.solve(block, batch, upward, tier.weight))
            if gained <= tier.stall * left or gained == left:
                return

    def tiers(self, blocks: Sequence[np.ndarray]) -> None:
        """Rounds with the largest counts held back, then let in tier by tier for what is left:
        an LP that may raise a grand total uses it as a sink for every move it cannot balance."""
        values = self.system.values
        for tier in TIERS:
            left = sum(int(self.pending()[b].sum()) for b in blocks)
            if left > tier.batch * MAX_BATCHES:
                return  # too many for small batches: left to `settle` (or reported unproven)
            cut = [
                b[(values[b] <= tier.share * values[b].max()) | self.suppressed[b]] for b in blocks
            ]
            self.rounds([b for b in cut if len(b)], tier)

    def settle(self, component: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cells of `component` that no move shifts (hopeless) and those left unsettled."""
        hopeless = np.zeros(len(component), dtype=bool)
        while (left := np.flatnonzero(self.pending()[component] & ~hopeless)).size:
            if len(component) * len(left) > EXACT_BUDGET:
                return component[hopeless], component[left]
            target = component[left[:1]]
            for upward in (True, False):
                if self.pending()[target[0]]:
                    self.apply(self.solve(component, target, upward, weight=LAST_WEIGHT))
            hopeless[left[0]] = self.pending()[target[0]]
        return component[hopeless], component[:0]


def plan_suppression(
    system: System, tables: Sequence[Table], primary: np.ndarray, limit: np.ndarray
) -> Plan:
    """Primaries plus the cells their certificates move, `limit` the threshold of each variable."""
    values = system.values
    nonzero = values > 0
    bounds = Propagator(system).full(Bounds.public(values, nonzero, primary, limit))
    pinned = bounds.pinned() & nonzero
    search = Search(
        system=system,
        room=Room(down=values - bounds.low, up=bounds.high - values),
        candidates=nonzero & ~pinned,
        suppressed=primary.copy(),
        certified=np.zeros(system.size, dtype=bool),
    )
    exposed = pinned & primary
    unproven = np.zeros(system.size, dtype=bool)
    if search.candidates.sum() > REGION_CAP:  # below, one LP does it all
        levels = [
            region_levels(t, c, search.candidates, REGION_CAP)[:-1]
            for t, c in zip(tables, system.cells, strict=True)
        ]
        for level in itertools.zip_longest(*levels, fillvalue=[]):
            search.rounds([region for regions in level for region in regions], REGION_TIER)
    labels = components(system, search.candidates)
    for label in np.unique(labels[search.pending()]):
        component = np.flatnonzero(labels == label)
        if len(component) <= LP_CAP:
            search.tiers([component])
        hopeless, unsettled = search.settle(component)
        exposed[hopeless] = True
        unproven[unsettled] = True
    return Plan(suppressed=search.suppressed, exposed=exposed, unproven=unproven)


def components(system: System, members: np.ndarray) -> np.ndarray:
    """Component of each variable among `members` (joined by shared relations), -1 outside."""
    columns = np.flatnonzero(members)
    incidence = abs(system.matrix)[:, columns]
    graph = sp.block_array([[None, incidence], [incidence.T, None]]).tocsr()
    labels = np.full(system.size, -1, dtype=np.int64)
    labels[columns] = connected_components(graph, directed=False)[1][incidence.shape[0] :]
    return labels
