"""Closed regions: sub-cubes whose moves cannot reach the margins above them.

The table's axis with the most leaves (labels that are no relation's parent: municipalities,
usually) is cut into groups of leaves; a region holds every cell whose label on that axis covers
leaves of one group only, with any label on the other axes. Its margins beyond the group (the
state, the nation) stay out, so a move solved inside it (the cells outside fixed at their true
values) must balance within the group: a municipality against its neighbour, not against the
national total. Solving the fine levels first keeps the large margins out of the pattern unless
a cell needs them; and a move found inside a region keeps every relation of the whole
publication, so it is a proof there too.
"""

from __future__ import annotations

import numpy as np

from segura.disclosure.cube import Axis, Table


def leaf_cover(axis: Axis) -> np.ndarray:
    """Boolean (labels x leaves): which leaves each label covers, through any of its relations."""
    n = len(axis.labels)
    parents = {p for p, _ in axis.relations}
    leaves = [i for i in range(n) if i not in parents]
    cover = np.zeros((n, len(leaves)), dtype=bool)
    cover[leaves, np.arange(len(leaves))] = True
    for _ in range(n):  # a hierarchy is at most n levels deep
        before = cover.copy()
        for parent, children in axis.relations:
            cover[parent] |= cover[list(children)].any(axis=0)
        if np.array_equal(before, cover):
            break
    return cover


def region_levels(
    table: Table, cells: np.ndarray, usable: np.ndarray, cap: int
) -> list[list[np.ndarray]]:
    """Levels of closed regions (the usable variables of each), finest first.

    The axis with the most leaves is cut along its hierarchy: first into runs of leaves inside
    each child of the total (a state's municipalities, sized so that a region holds about `cap`
    usable cells), then into those children whole (each state with its total), then not at all
    (the whole table).
    """
    if not table.axes:
        return [[np.unique(cells[usable[cells]])]]
    covers = [leaf_cover(a) for a in table.axes]
    k = int(np.argmax([c.shape[1] for c in covers]))
    axis, cover = table.axes[k], covers[k]
    leaves = cover.shape[1]
    first = next((children for parent, children in axis.relations if parent == axis.total), ())
    blocks = [np.flatnonzero(cover[child]) for child in first] or [np.arange(leaves)]
    run = max(1, int(leaves * cap / max(int(usable[cells].sum()), 1)))
    runs = [block[i : i + run] for block in blocks for i in range(0, len(block), run)]
    lines = np.moveaxis(cells, k, 0)
    levels = []
    for groups in (runs, blocks, [np.arange(leaves)]):
        regions = []
        for group in groups:
            outside = np.ones(leaves, dtype=bool)
            outside[group] = False
            variables = np.unique(lines[~cover[:, outside].any(axis=1)])
            if len(variables := variables[usable[variables]]):
                regions.append(variables)
        levels.append(regions)
    return levels
