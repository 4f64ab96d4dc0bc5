"""Cell suppression for published count tables: SDMX CONF_STATUS per cell.

`protect(tables, threshold)` flags every cell 'F' (free), 'C' (confidential: 0 < count <
threshold) or 'D' (secondary: suppressed so that no suppressed cell can be recovered). 'C' and
'D' are for the producer's audit: the public must see one flag for both (see `secondary.py` for
why), and is assumed to see every published cell of every table, every relation, and to know
that counts are non-negative integers. Against that, every suppressed cell is proven to keep at
least two possible integer values (`certify.py`), except those returned by `suppress_cells` in
`Suppression.unproven` (no certificate found; empty on Segura's tables, and tested so).

Pipeline: tables -> one linked system (`system.py`) -> primaries -> certificates searched in
growing neighbourhoods and the cells they move (`secondary.py`, `certify.py`) -> flags per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from segura.disclosure.cube import Table
from segura.disclosure.secondary import plan_suppression
from segura.disclosure.system import System, build_system

FREE, CONFIDENTIAL, SECONDARY = "F", "C", "D"
Threshold = int | Sequence[np.ndarray]  # one for all cells, or one array per table (per cell)


@dataclass(frozen=True)
class Suppression:
    """Flags per table, and the suppressed cells the pattern cannot vouch for."""

    status: list[np.ndarray]  # '<U1': 'F', 'C' or 'D', shaped like each table's counts
    unproven: list[np.ndarray]  # bool: suppressed, but no certificate was found


def suppress_cells(tables: Sequence[Table], threshold: Threshold) -> Suppression:
    """Primary and secondary suppression over all `tables` at once (shared cells agree)."""
    system = build_system(tables)
    limit = thresholds(system, tables, threshold)
    primary = (system.values > 0) & (system.values < limit)
    plan = plan_suppression(system, tables, primary)
    flags = np.where(primary, CONFIDENTIAL, np.where(plan.suppressed, SECONDARY, FREE)).astype(
        "<U1"
    )
    return Suppression(
        status=[flags[cells] for cells in system.cells],
        unproven=[plan.unproven[cells] for cells in system.cells],
    )


def protect(tables: Sequence[Table], threshold: Threshold) -> list[np.ndarray]:
    """CONF_STATUS per cell for each table: arrays of dtype '<U1' with 'F', 'C' or 'D'.

    `threshold` is one integer for every cell (5 by default, 10 for violence against women),
    or one integer array per table, shaped like its counts, for tables that mix the two.
    """
    return suppress_cells(tables, threshold).status


def thresholds(system: System, tables: Sequence[Table], threshold: Threshold) -> np.ndarray:
    """The threshold of each variable; a cell shared by tables takes the strictest of theirs."""
    if isinstance(threshold, int | np.integer):
        per_table = [np.full(t.shape, int(threshold)) for t in tables]
    else:
        per_table = [np.asarray(t) for t in threshold]
        if len(per_table) != len(tables):
            raise ValueError(
                f"{len(per_table)} threshold arrays for {len(tables)} tables; give one per table"
            )
        for table, limits in zip(tables, per_table, strict=True):
            if limits.shape != table.shape or not np.issubdtype(limits.dtype, np.integer):
                raise ValueError(
                    f"thresholds for the table of {table.measure!r} must be integers of shape "
                    f"{table.shape} (its counts), got {limits.dtype} {limits.shape}"
                )
    lowest = min((int(t.min()) for t in per_table if t.size), default=1)
    if lowest < 1:
        raise ValueError(f"threshold {lowest}: a threshold is at least 1 (5 by default, 10 for violence against women)")
    limit = np.zeros(system.size, dtype=np.int64)
    for cells, limits in zip(system.cells, per_table, strict=True):
        np.maximum.at(limit, cells.ravel(), limits.ravel())
    return limit
