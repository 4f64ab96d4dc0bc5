"""Cell suppression: primaries are flagged, linked margins agree, and no attacker recovers a
suppressed cell that any pattern could protect.

The attackers are written here, independently of the product: every cell of every table is a
variable of its own, tables of a measure are tied by equalities on their common margins, and

- the LP attacker minimises and maximises each suppressed cell with scipy's HiGHS (published
  cells fixed, every suppressed cell >= 0: the public sees one flag for all of them);
  disclosed if floor(max) - ceil(min) < 1;
- the subtraction attacker reads every relation, and every pair of relations sharing a
  suppressed cell combined to cancel it, for one left with a single suppressed cell.

No suppressed cell may be pinned unless the product reports it in `Suppression.unproven`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from segura.disclosure import Axis, Suppression, Table, protect, suppress_cells

EPS = 1e-6


# ---------------------------------------------------------------- cubes from finest counts


@dataclass(frozen=True)
class Spec:
    """An axis and, for each label, the finest units it adds up (to build consistent counts)."""

    axis: Axis
    units: np.ndarray  # labels x units, 0/1


def spec(
    name: str,
    labels: list[tuple[str, list[int]]],
    relations: list[tuple[int, tuple[int, ...]]],
    n: int,
) -> Spec:
    units = np.zeros((len(labels), n), dtype=np.int64)
    for i, (_, covered) in enumerate(labels):
        units[i, covered] = 1
    return Spec(Axis(name, tuple(label for label, _ in labels), tuple(relations), 0), units)


def flat(name: str, n: int) -> Spec:
    """_T = a1 + ... + an."""
    labels = [("_T", list(range(n)))] + [(f"a{i}", [i]) for i in range(n)]
    return spec(name, labels, [(0, tuple(range(1, n + 1)))], n)


def two_level(name: str) -> Spec:
    """_T = g1 + g2, g1 = l1 + l2, g2 = l3 + l4 + l5 (a state and its municipalities)."""
    labels = [("_T", [0, 1, 2, 3, 4]), ("g1", [0, 1]), ("g2", [2, 3, 4])]
    labels += [(f"l{i}", [i]) for i in range(5)]
    return spec(name, labels, [(0, (1, 2)), (1, (3, 4)), (2, (5, 6, 7))], 5)


def two_ways(name: str) -> Spec:
    """_T = b1 + b2 and also _T = f1 + f2 + f3 + f4; b1 = f1 + f2 (broad and five-year ages)."""
    labels = [("_T", [0, 1, 2, 3]), ("b1", [0, 1]), ("b2", [2, 3])]
    labels += [(f"f{i}", [i]) for i in range(4)]
    return spec(name, labels, [(0, (1, 2)), (0, (3, 4, 5, 6)), (1, (3, 4))], 4)


def rolling(name: str) -> Spec:
    """_T = m1 + ... + m4, and windows w1 = m1 + m2 + m3, w2 = m2 + m3 + m4 (overlapping)."""
    labels = [("_T", [0, 1, 2, 3])] + [(f"m{i}", [i]) for i in range(4)]
    labels += [("w1", [0, 1, 2]), ("w2", [1, 2, 3])]
    return spec(name, labels, [(0, (1, 2, 3, 4)), (5, (1, 2, 3)), (6, (2, 3, 4))], 4)


def aggregate(specs: list[Spec], finest: np.ndarray) -> np.ndarray:
    """Counts at every label of every axis from counts of the finest units."""
    out = finest
    for k, s in enumerate(specs):
        out = np.moveaxis(np.tensordot(s.units, np.moveaxis(out, k, 0), axes=(1, 0)), 0, k)
    return out


def at_totals(full: np.ndarray, specs: list[Spec], keep: list[int]) -> np.ndarray:
    """The sub-cube on the axes `keep`, every other axis at its total."""
    index = tuple(slice(None) if k in keep else s.axis.total for k, s in enumerate(specs))
    return full[index]


# ---------------------------------------------------------------- the public's view, written here


@dataclass
class View:
    """What the public can combine: one LP variable per cell of every table."""

    a_eq: sp.csr_array
    low: np.ndarray
    high: np.ndarray
    truth: np.ndarray
    suppressed: np.ndarray
    offsets: list[int]


Threshold = int | list[np.ndarray]


def per_cell(tables: list[Table], threshold: Threshold) -> list[np.ndarray]:
    if isinstance(threshold, int):
        return [np.full(t.counts.shape, threshold) for t in tables]
    return threshold


def public_view(tables: list[Table], flags: list[np.ndarray], threshold: Threshold) -> View:
    sizes = [t.counts.size for t in tables]
    offsets = list(np.cumsum([0, *sizes[:-1]]))
    ids = [
        np.arange(o, o + n).reshape(t.counts.shape)
        for o, n, t in zip(offsets, sizes, tables, strict=True)
    ]
    rows: list[np.ndarray] = []  # per relation: (instances, 1 + children) variables, parent first
    for t, idx in zip(tables, ids, strict=True):
        for k, axis in enumerate(t.axes):
            lines = np.moveaxis(idx, k, -1).reshape(-1, len(axis.labels))
            for parent, children in axis.relations:
                rows.append(np.column_stack([lines[:, parent], lines[:, list(children)]]))
    links = [(sub_a.ravel(), sub_b.ravel()) for sub_a, sub_b in shared_margins(tables, ids)]
    data, r, c, n_rows = [], [], [], 0
    for block in rows:
        m, w = block.shape
        r.append(np.repeat(np.arange(n_rows, n_rows + m), w))
        c.append(block.ravel())
        data.append(np.tile([1.0] + [-1.0] * (w - 1), m))
        n_rows += m
    for left, right in links:
        m = len(left)
        r.append(np.repeat(np.arange(n_rows, n_rows + m), 2))
        c.append(np.column_stack([left, right]).ravel())
        data.append(np.tile([1.0, -1.0], m))
        n_rows += m
    total = sum(sizes)
    a_eq = sp.csr_array(
        (np.concatenate(data), (np.concatenate(r), np.concatenate(c))), shape=(n_rows, total)
    )
    truth = np.concatenate([t.counts.ravel() for t in tables]).astype(float)
    flag = np.concatenate([f.ravel() for f in flags])
    limit = np.concatenate([t.ravel() for t in per_cell(tables, threshold)])
    del limit  # the public cannot tell a primary cell from a secondary one
    low = np.where(flag == "F", truth, 0.0)
    high = np.where(flag == "F", truth, np.inf)
    return View(a_eq, low, high, truth, flag != "F", offsets)


def lp_pinned(view: View, cells: np.ndarray) -> np.ndarray:
    """Which of `cells` the LP attacker pins. A solution that moves a cell by a unit is a
    witness that it is not pinned, so later cells it moves skip their own LPs."""
    witnessed = np.zeros(len(view.truth), dtype=bool)
    pinned = np.zeros(len(cells), dtype=bool)
    bounds = np.column_stack([view.low, view.high])
    zeros = np.zeros(view.a_eq.shape[0])
    for i, cell in enumerate(cells):
        extremes = []
        for sign in (1.0, -1.0):
            if witnessed[cell]:
                break
            c = np.zeros(len(view.truth))
            c[cell] = -sign  # maximise, then minimise
            res = linprog(c, A_eq=view.a_eq, b_eq=zeros, bounds=bounds, method="highs")
            if res.status == 3:  # unbounded above
                extremes.append(np.inf)
                break
            assert res.status == 0, res.message
            witnessed |= np.abs(res.x - view.truth) >= 1 - EPS
            extremes.append(res.x[cell])
        if not witnessed[cell] and len(extremes) == 2 and extremes[0] < np.inf:
            high, low = extremes
            pinned[i] = np.floor(high + EPS) - np.ceil(low - EPS) < 1
    return pinned


def subtraction_recovered(view: View) -> set[int]:
    """Cells recovered from one relation, or from two relations sharing a suppressed cell."""
    a = view.a_eq.tocsr()
    equations = [
        dict(
            zip(
                a.indices[a.indptr[i] : a.indptr[i + 1]].tolist(),
                a.data[a.indptr[i] : a.indptr[i + 1]].tolist(),
                strict=True,
            )
        )
        for i in range(a.shape[0])
    ]
    hidden = view.suppressed
    found: set[int] = set()
    by_cell: dict[int, list[int]] = defaultdict(list)
    for i, eq in enumerate(equations):
        unknown = [v for v in eq if hidden[v]]
        if len(unknown) == 1:
            found.add(unknown[0])
        for v in unknown:
            by_cell[v].append(i)
    for shared, rows in by_cell.items():
        for x in range(len(rows)):
            for y in range(x + 1, len(rows)):
                p, q = equations[rows[x]], equations[rows[y]]
                combined = {
                    v: p.get(v, 0.0) * q[shared] - q.get(v, 0.0) * p[shared]
                    for v in p.keys() | q.keys()
                }
                unknown = [v for v, coef in combined.items() if hidden[v] and abs(coef) > EPS]
                if len(unknown) == 1:
                    found.add(unknown[0])
    return found


def assert_protected(
    tables: list[Table], threshold: Threshold, result: Suppression, unproven_allowed: bool = False
) -> None:
    """The guarantee: flags follow the threshold, linked margins agree, attackers pin nothing
    the product does not report."""
    for t, limit, flag, unproven in zip(
        tables, per_cell(tables, threshold), result.status, result.unproven, strict=True
    ):
        assert flag.dtype == np.dtype("<U1") and flag.shape == t.counts.shape
        primary = (t.counts > 0) & (t.counts < limit)
        assert np.array_equal(flag == "C", primary)  # (a) and (b)
        assert unproven_allowed or not unproven.any()
        assert not (unproven & (flag == "F")).any()
    assert_linked_margins_agree(tables, result.status)  # (c)
    view = public_view(tables, result.status, threshold)
    unproven = np.concatenate([u.ravel() for u in result.unproven])
    reported = set(np.flatnonzero(unproven))
    hidden = np.flatnonzero(view.suppressed)
    pinned = hidden[lp_pinned(view, hidden)]
    assert not set(pinned) - reported, "the LP attacker pins unreported cells"  # (d)
    assert subtraction_recovered(view) <= reported  # (e)


def shared_margins(tables: list[Table], arrays: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each pair of tables of a measure, the parts of `arrays` (one per table, shaped like its
    counts) at their common margin (other axes at their totals), aligned axis by axis."""
    out = []
    for i, a in enumerate(tables):
        for j in range(i + 1, len(tables)):
            b = tables[j]
            if a.measure != b.measure:
                continue
            shared = [x.name for x in a.axes if x.name in {y.name for y in b.axes}]
            sub_a = arrays[i][tuple(slice(None) if x.name in shared else x.total for x in a.axes)]
            sub_b = arrays[j][tuple(slice(None) if y.name in shared else y.total for y in b.axes)]
            order_b = [y.name for y in b.axes if y.name in shared]
            out.append((sub_a, np.transpose(sub_b, [order_b.index(n) for n in shared]) if shared else sub_b))
    return out


def assert_linked_margins_agree(tables: list[Table], flags: list[np.ndarray]) -> None:
    for fa, fb in shared_margins(tables, flags):
        assert np.array_equal(fa, fb)


# ---------------------------------------------------------------- properties

KINDS = {
    "flat2": lambda n: flat(n, 2),
    "flat3": lambda n: flat(n, 3),
    "two_level": two_level,
    "two_ways": two_ways,
    "rolling": rolling,
}
SMALL = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 7, 12, 30]


@st.composite
def publications(draw: st.DrawFn) -> tuple[list[Table], Threshold]:
    """One or two tables of a measure (the second on a different axis set), sparse counts, one
    threshold or a stricter one on the cells of one label (violence against women)."""
    threshold = draw(st.integers(3, 10))
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=2, max_size=3))
    if len(kinds) == 3:
        kinds[2] = "flat2"  # keeps the attacker's LPs small
    specs = [KINDS[k](f"axis{i}") for i, k in enumerate(kinds)]
    linked = draw(st.booleans())
    if linked:
        specs.append(flat("extra", draw(st.integers(2, 3))))
    shape = tuple(s.units.shape[1] for s in specs)
    finest = np.array(
        draw(
            st.lists(
                st.sampled_from(SMALL), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
            )
        )
    )
    full = aggregate(specs, finest.reshape(shape))
    own = list(range(len(kinds)))
    tables = [Table("victims", tuple(specs[k].axis for k in own), at_totals(full, specs, own))]
    if linked:
        other = [0, len(specs) - 1]
        tables.append(
            Table("victims", tuple(specs[k].axis for k in other), at_totals(full, specs, other))
        )
    if draw(st.booleans()):
        stricter = draw(st.integers(threshold, 10))
        limits = [np.full(t.counts.shape, threshold) for t in tables]
        for limit in limits:
            limit[1] = stricter  # the first axis is in every table: shared cells agree
        return tables, limits
    return tables, threshold


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(publication=publications())
def test_no_attacker_pins_a_cell_that_could_be_protected(
    publication: tuple[list[Table], Threshold],
) -> None:
    tables, threshold = publication
    assert_protected(tables, threshold, suppress_cells(tables, threshold))


# ---------------------------------------------------------------- a textbook table

# fmt: off
#            c1  c2  c3 | total
TEXTBOOK = [[20,  3, 15,  38],   # r1
            [12, 25,  9,  46],   # r2
            [ 8, 14, 30,  52],   # r3
            [40, 42, 54, 136]]   # total
# fmt: on


def textbook() -> Table:
    rows = Axis("row", ("r1", "r2", "r3", "_T"), ((3, (0, 1, 2)),), 3)
    columns = Axis("column", ("c1", "c2", "c3", "_T"), ((3, (0, 1, 2)),), 3)
    return Table("victims", (rows, columns), np.array(TEXTBOOK))


def test_textbook_table_hides_the_small_cell_in_a_rectangle() -> None:
    """3 at (r1, c2) is primary. Suppressing only a second cell of its row leaks it through its
    column (42 - 25 - 14 = 3). The pattern is the cheapest rectangle: (r1, c1) = 20, (r3, c2) = 14,
    (r3, c1) = 8; then x = (r1, c2) gives (r1, c1) = 23 - x, (r3, c1) = 5 + x, (r3, c2) = 17 - x,
    and every x in [0, 17] fits: the public cannot tell which."""
    table = textbook()
    naive = np.full((4, 4), "F")
    naive[0, 1], naive[0, 2] = "C", "D"
    view = public_view([table], [naive], 5)
    assert lp_pinned(view, np.array([1])).all()
    assert 1 in subtraction_recovered(view)

    [flags] = protect([table], 5)
    expected = np.full((4, 4), "F")
    expected[0, 1] = "C"
    expected[0, 0] = expected[2, 1] = expected[2, 0] = "D"
    assert (flags == expected).all(), flags
    view = public_view([table], [flags], 5)
    bounds = np.column_stack([view.low, view.high])
    unit = np.eye(16)[1]
    low = linprog(
        unit, A_eq=view.a_eq, b_eq=np.zeros(view.a_eq.shape[0]), bounds=bounds, method="highs"
    )
    high = linprog(
        -unit, A_eq=view.a_eq, b_eq=np.zeros(view.a_eq.shape[0]), bounds=bounds, method="highs"
    )
    assert (low.fun, -high.fun) == pytest.approx((0.0, 17.0))


def test_two_ones_summing_to_a_published_two_get_a_third_cell() -> None:
    """x1 + x2 = 2 with both >= 1 pins both: the pair needs a partner with room."""
    axis = Axis("sex", ("F", "M", "_U", "_T"), ((3, (0, 1, 2)),), 3)
    region = Axis("territory", ("A", "B", "C", "_T"), ((3, (0, 1, 2)),), 3)
    counts = np.array([[1, 1, 0, 2], [6, 9, 0, 15], [7, 8, 1, 16], [14, 18, 1, 33]])
    table = Table("victims", (region, axis), counts)
    result = suppress_cells([table], 5)
    assert_protected([table], 5, result)


def test_without_primaries_nothing_is_suppressed() -> None:
    table = textbook()
    big = Table(
        table.measure,
        table.axes,
        np.array(TEXTBOOK) + np.array([[0, 5, 0, 5]] + [[0] * 4] * 2 + [[0, 5, 0, 5]]),
    )
    [flags] = protect([big], 5)
    assert (flags == "F").all()


def test_all_primaries_are_protected_with_zeros_as_partners() -> None:
    """Every nonzero count is below the threshold: all 'C'. A margin of 2 over two cells of 1
    would give them away if zeros were always published; a zero suppressed beside them (it
    could be a 1 for all the public knows) protects them."""
    [spec_a, spec_b] = [two_level("territory"), rolling("period")]
    finest = np.zeros((5, 4), dtype=np.int64)
    finest[0, 0] = finest[1, 1] = 1
    table = Table("victims", (spec_a.axis, spec_b.axis), aggregate([spec_a, spec_b], finest))
    result = suppress_cells([table], 3)
    assert set(np.unique(result.status[0])) <= {"C", "D", "F"}
    assert_protected([table], 3, result)


# ---------------------------------------------------------------- inputs


def test_bad_inputs_are_refused_with_the_reason() -> None:
    table = textbook()
    with pytest.raises(ValueError, match="shape"):
        protect([Table("v", table.axes, np.zeros((4, 3), dtype=int))], 5)
    with pytest.raises(ValueError, match="non-negative"):
        protect([Table("v", table.axes, -np.array(TEXTBOOK))], 5)
    with pytest.raises(ValueError, match="out of range"):
        bad = Axis("row", ("r1", "_T"), ((1, (0, 2)),), 1)
        protect([Table("v", (bad,), np.array([1, 1]))], 5)
    with pytest.raises(ValueError, match="not the sum"):
        protect([Table("v", table.axes, np.array(TEXTBOOK) + np.eye(4, dtype=int))], 5)
    with pytest.raises(ValueError, match="different totals"):
        other = Axis("column", ("c1", "c2", "ALL"), ((2, (0, 1)),), 2)
        protect([table, Table("victims", (other,), np.array([40, 96, 136]))], 5)
    with pytest.raises(ValueError, match="disagree"):
        protect([table, Table("victims", (table.axes[1],), np.array([41, 42, 53, 136]))], 5)
    with pytest.raises(ValueError, match="threshold"):
        protect([table], 0)


# ---------------------------------------------------------------- demo scale


def demo_cube(victims: int = 3000, seed: int = 0) -> Table:
    """The shape of a public table of the sample observatory: territory (nation, 2 states) x
    period (total, 2 years, 8 quarters, 24 months, 13 rolling 12-month windows) x sex x age,
    sparse counts (the state-month cells by sex and age are mostly 0 to 4)."""
    territory = Axis("territory", ("NAT", "A", "B"), ((0, (1, 2)),), 0)
    labels = (
        ["_T", "Y1", "Y2"] + [f"Q{q}" for q in range(1, 9)] + [f"M{m:02}" for m in range(1, 25)]
    )
    relations = [(0, (1, 2)), (1, (3, 4, 5, 6)), (2, (7, 8, 9, 10))]
    relations += [(3 + q, (11 + 3 * q, 12 + 3 * q, 13 + 3 * q)) for q in range(8)]
    for end in range(12, 25):
        labels.append(f"R{end:02}")
        relations.append((len(labels) - 1, tuple(range(11 + end - 12, 11 + end))))
    period = Axis("period", tuple(labels), tuple(relations), 0)
    sex = Axis("sex", ("F", "M", "_U", "_T"), ((3, (0, 1, 2)),), 3)
    age = Axis(
        "age",
        ("Y0T17", "Y18T29", "Y30T44", "Y45T64", "Y_GE65", "_U", "_T"),
        ((6, (0, 1, 2, 3, 4, 5)),),
        6,
    )
    rng = np.random.default_rng(seed)
    finest = np.zeros((2, 24, 3, 6), dtype=np.int64)
    np.add.at(
        finest,
        (
            rng.choice(2, victims, p=[0.65, 0.35]),
            rng.choice(24, victims),
            rng.choice(3, victims, p=[0.12, 0.86, 0.02]),
            rng.choice(6, victims, p=[0.1, 0.35, 0.3, 0.17, 0.05, 0.03]),
        ),
        1,
    )
    specs = []
    for axis, units in ((territory, 2), (period, 24), (sex, 3), (age, 6)):
        cover = np.zeros((len(axis.labels), units), dtype=np.int64)
        leaves = [i for i in range(len(axis.labels)) if i not in {p for p, _ in axis.relations}]
        cover[leaves, np.arange(units)] = 1
        for parent, children in sorted(axis.relations, key=lambda r: -r[0]) * 3:
            cover[parent] = cover[list(children)].sum(axis=0).clip(0, 1)
        specs.append(Spec(axis, cover))
    return Table("victims", tuple(s.axis for s in specs), aggregate(specs, finest))


@pytest.mark.slow
def test_demo_scale_cube_holds_against_the_lp_attacker() -> None:
    """4,032 cells, 3,000 victims, threshold 5: a third of the nonzero cells are primaries. No
    suppressed cell can be pinned by an LP over the whole table, and the headline figures stay:
    the nation and both states by year, the nation by quarter."""
    table = demo_cube()
    result = suppress_cells([table], 5)
    [flags] = result.status
    assert np.array_equal(flags == "C", (table.counts > 0) & (table.counts < 5))
    assert (flags == "C").sum() > 200 and not result.unproven[0].any()
    assert (flags[:, :3, 3, 6] == "F").all() and (flags[0, 3:11, 3, 6] == "F").all()
    view = public_view([table], [flags], 5)
    hidden = np.flatnonzero(view.suppressed)
    assert not lp_pinned(view, hidden).any()
