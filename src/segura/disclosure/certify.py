"""Certificates: alternative tables that prove suppressed cells are not disclosed.

The public's attacker (Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, 4.2 and
5.4) minimises and maximises each suppressed cell over every table consistent with what is
published: the relations, the published counts, and suppressed cells >= 0 (one flag for all).
A cell is disclosed when fewer than two integers lie between that minimum and maximum. Since the
true table is consistent, one consistent table whose cell differs from the truth by at least 1
proves the cell safe; it stays a proof however many more cells are suppressed later (more
suppression only enlarges the set of consistent tables). Such a table is a *move* d added to
the truth: every relation still holds (matrix @ d == 0), published cells do not move, and each
cell stays within its public bounds.

`find_moves` finds one move by linear programming (scipy's HiGHS) over some variables, the
others fixed: it moves as many target cells as it can by a full unit in a chosen direction,
and among such moves it prefers cells that are suppressed already or cheap to suppress. Every
variable the move touches must then be suppressed; every one it moves by a unit is certified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from segura.disclosure.system import System

EPS = 1e-6  # LP solutions are exact up to HiGHS's tolerances (1e-7)
IPM_FROM = 10_000  # variables: interior point (then crossover to a vertex) beats dual simplex


@dataclass(frozen=True)
class Room:
    """How far each variable may move from its true value and stay within its public bounds."""

    down: np.ndarray
    up: np.ndarray  # inf for secondary cells


@dataclass(frozen=True)
class Move:
    """A move over `variables`: `step[i]` is added to the true value of `variables[i]`."""

    variables: np.ndarray
    step: np.ndarray

    @property
    def touched(self) -> np.ndarray:
        return self.variables[np.abs(self.step) > EPS]

    @property
    def certified(self) -> np.ndarray:
        return self.variables[np.abs(self.step) >= 1 - EPS]


def find_moves(
    system: System,
    variables: np.ndarray,
    targets: np.ndarray,
    direction: np.ndarray,
    room: Room,
    price: np.ndarray,
    weight: float,
) -> Move:
    """The LP move over sorted `variables` (the rest fixed) that certifies most `targets`.

    Maximise sum(u) - weight * sum(price * |d|) with u_t <= 1 and u_t <= direction_t * d_t for
    each target t, matrix @ d == 0 on every relation the variables touch, -room.down <= d <=
    room.up. |d| is split as d = rise - fall, both non-negative.
    """
    n, k = len(variables), len(targets)
    selected = np.zeros(system.size, dtype=bool)
    selected[variables] = True
    rows = np.flatnonzero(abs(system.matrix) @ selected.astype(np.int64) > 0)
    relations = sp.csr_array(system.matrix[rows][:, variables], dtype=float)
    # d itself for every variable; a second part `fall` only where moving has a price, with
    # d = rise - fall, so |d| = rise + fall costs price * (d + 2 * fall) at the optimum
    priced = np.flatnonzero(price > 0)
    m = len(priced)
    at = np.searchsorted(variables, targets)
    pick = sp.csr_array((direction.astype(float), (np.arange(k), at)), shape=(k, n))
    split = sp.csr_array((np.ones(m), (priced, np.arange(m))), shape=(n, m))
    equalities = sp.hstack([relations, sp.csr_array((len(rows), m + k))]).tocsr()
    # fall_j >= -d_j, i.e. -d_j - fall_j <= 0; u_t - direction_t * d_t <= 0
    inequalities = sp.vstack(
        [
            sp.hstack([-split.T, -sp.eye_array(m), sp.csr_array((m, k))]),
            sp.hstack([-pick, sp.csr_array((k, m)), sp.eye_array(k)]),
        ]
    ).tocsr()
    # distinct rewards per target, so that the LP moves one target a full unit rather than
    # two of them half a unit each when they compete for the same room (a tie)
    reward = 1 + np.arange(k)[::-1] / (100 * max(k, 1))
    cost = np.concatenate([weight * price, 2 * weight * price[priced], -reward])
    low = np.concatenate([-room.down[variables], np.zeros(m + k)])
    high = np.concatenate([room.up[variables], room.down[variables][priced], np.ones(k)])
    result = linprog(
        cost,
        A_ub=inequalities,
        b_ub=np.zeros(m + k),
        A_eq=equalities,
        b_eq=np.zeros(len(rows)),
        bounds=np.column_stack([low, high]),
        method="highs-ipm" if n > IPM_FROM else "highs-ds",  # measured: ipm 2x faster on large
    )
    if result.status != 0:
        raise RuntimeError(f"the certificate LP failed on {n} cells: {result.message}")
    step = result.x[:n]
    whole = np.round(step)
    if np.allclose(step, whole, atol=EPS) and not np.any(relations @ whole):
        step = whole  # an integer table: a proof against an integer attacker too
    return Move(variables=variables, step=step)
