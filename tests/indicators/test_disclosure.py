"""Disclosure control on the sample observatory, attacked.

The argument has two links, each tested:
1. a public query reveals only cells of the protected tables, with their published values: hypothesis
   runs random public queries (indicator, breakdowns, level, period grain, filters) and checks that
   every figure a row shows is a free cell ('F') of the base's protected tables, and that suppressed
   rows show nothing that would give their count back (value, interval, smoothed rate, change);
2. the free cells do not give a suppressed cell away: an attacker who knows every free cell of every
   table, every relation between them (territory and period hierarchies, breakdown totals, the
   cells the tables share, matched here by their labels) and that counts are non-negative
   integers, bounds every suppressed cell by linear programming (scipy HiGHS, over the connected
   block of suppressed cells it belongs to); it must not pin any of them to a single value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from segura.indicators import Query, QueryContext, compute, load_catalogue
from segura.indicators.catalogue import Catalogue
from segura.indicators.dimensions import TOTAL
from segura.indicators.protect import Cube, DisclosureError, _label_of, protected_cubes
from segura.indicators.query import QueryError

HIDDEN_WITH_THE_COUNT = ("numerator", "value", "ci_low", "ci_high", "eb_global", "eb_local")


def located(cube: Cube, row: dict[str, object], keys: list[str], fixed: dict[str, str], grain: str) -> bool:
    coords = dict(fixed)
    for k in keys:
        coords[k] = _label_of(k, row[k], grain)
    return cube.index(coords) is not None


def coordinates(cube: Cube, row: dict[str, object], keys: list[str], fixed: dict[str, str], grain: str) -> tuple[int, ...]:
    coords = dict(fixed)
    for k in keys:
        coords[k] = _label_of(k, row[k], grain)
    idx = cube.index(coords)
    assert idx is not None, coords
    return idx


HOMICIDE_INDICATORS = sorted(i.id for i in load_catalogue().indicators.values() if i.base.id == "homicide")
RATES = {i.id for i in load_catalogue().indicators.values() if i.kind == "rate"}


@st.composite
def public_queries(draw: st.DrawFn) -> Query:
    ind = load_catalogue().get(draw(st.sampled_from(HOMICIDE_INDICATORS)))
    dims = draw(st.lists(st.sampled_from(sorted(ind.disaggregations)), max_size=1, unique=True)) \
        if ind.disaggregations else []
    if ind.kind == "distribution" and ind.over not in dims:
        dims = [ind.over, *dims][:2]
    by = tuple(draw(st.sampled_from([(), ("territory",), ("period",), ("territory", "period")]))) + tuple(dims)
    where: dict[str, tuple[str, ...]] = {}
    if draw(st.booleans()):
        where["year"] = (draw(st.sampled_from(["2014", "2015"])),)
    if draw(st.booleans()):
        where["territory"] = (draw(st.sampled_from(["11", "17", "11020", "17007"])),)
    return Query(ind.id, by, where, level=draw(st.sampled_from(["admin2", "admin1", "country"])),
                 grain=draw(st.sampled_from(["month", "quarter", "year", "rolling12"])))


@pytest.fixture()
def cubes(ctx: QueryContext, catalogue: Catalogue) -> list[Cube]:
    return protected_cubes(catalogue.bases["homicide"], ctx)


def test_a_public_query_shows_only_free_cells(ctx: QueryContext, catalogue: Catalogue, cubes: list[Cube]) -> None:
    from segura.indicators.protect import _fixed_coords

    # the fixtures stay out of hypothesis' arguments (their repr is the whole warehouse)
    @settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(query=public_queries())
    def check(query: Query) -> None:
        indicator = catalogue.get(query.indicator)
        try:
            result = compute(query, ctx, catalogue, protect=True)
        except (DisclosureError, QueryError):
            return  # refused: a query whose cells were never protected
        fixed = _fixed_coords(indicator, query, ctx)
        needed = {k for k in result.keys if k not in ("territory", "period")} | {
            k for k in fixed if k not in ("territory", "period")}
        raw = compute(query, ctx, catalogue, protect=False).frame
        rows = list(zip(result.frame.to_dict("records"), raw.to_dict("records"), strict=True))
        assert {r["conf_status"] for r, _ in rows} <= {"F", "C"}  # one flag for every hidden cell
        cube = next(c for c in cubes if needed <= set(c.dims) and all(
            located(c, _as_keys(u, result.keys), result.keys, fixed, query.grain) for _, u in rows))
        assert cube.status is not None
        if "territory" in result.keys and query.indicator in RATES:
            # smoothed rates only where their whole slice of territories is published
            rest = [k for k in result.keys if k != "territory"]
            for _, group in (result.frame.groupby(rest, dropna=False) if rest else [(None, result.frame)]):
                if (group["conf_status"] != "F").any():
                    assert group["eb_global"].isna().all() and group["eb_local"].isna().all()
        for row, unprotected in rows:
            if row["conf_status"] == "F":
                idx = coordinates(cube, _as_keys(unprotected, result.keys), result.keys, fixed, query.grain)
                assert cube.status[idx] == "F", (query, row)
                assert row["numerator"] == cube.counts[idx] == unprotected["numerator"], (query, row)
            else:
                for col in HIDDEN_WITH_THE_COUNT:
                    assert row[col] is None or (isinstance(row[col], float) and math.isnan(row[col])), (col, row)
                # (previous_value and year_ago_value are other cells, published or emptied on their own)
                for col in ("change_previous_pct", "change_year_ago_pct", "p_previous", "p_year_ago"):
                    assert row[col] is None or math.isnan(row[col]), (col, row)

    check()


def _as_keys(row: dict[str, object], keys: list[str]) -> dict[str, object]:
    import datetime as dt

    out = dict(row)
    if "period" in keys and isinstance(row["period"], str):
        text = str(row["period"]).split("/")[-1]
        if "-Q" in text:
            year, q = text.split("-Q")
            out["period"] = dt.date(int(year), 3 * int(q) - 2, 1)
        elif len(text) == 4:
            out["period"] = dt.date(int(text), 1, 1)
        else:
            out["period"] = dt.date.fromisoformat(text + "-01")
    return out


def public_system(cubes: list[Cube]) -> tuple[np.ndarray, np.ndarray, list[tuple[int, ...]]]:
    """One variable per distinct cell (cells of two tables with the same labels are one), its
    count, whether it is hidden, and every relation as (parent, children...) variables."""
    var_of: dict[tuple[tuple[str, str], ...], int] = {}
    values: list[int] = []
    hidden: list[bool] = []
    ids_of = []
    for c in cubes:
        assert c.status is not None
        ids = np.empty(c.counts.shape, dtype=np.int64)
        for idx in np.ndindex(c.counts.shape):
            key = tuple(sorted((s.name, s.labels[i]) for s, i in zip(c.specs, idx, strict=True) if s.labels[i] != TOTAL))
            v = var_of.setdefault(key, len(values))
            if v == len(values):
                values.append(int(c.counts[idx]))
                hidden.append(bool(c.status[idx] != "F"))
            else:
                assert values[v] == c.counts[idx] and hidden[v] == (c.status[idx] != "F"), key
            ids[idx] = v
        ids_of.append(ids)
    rows: set[tuple[int, ...]] = set()
    for c, ids in zip(cubes, ids_of, strict=True):
        for axis, spec in enumerate(c.specs):
            index = {lab: i for i, lab in enumerate(spec.labels)}
            lines = np.moveaxis(ids, axis, -1).reshape(-1, len(spec.labels))
            for parent, children in spec.relations:
                cols = [index[parent], *[index[ch] for ch in children]]
                rows.update(tuple(int(x) for x in line) for line in lines[:, cols])
    return np.array(values, dtype=float), np.array(hidden), sorted(rows)


def pinned_cells(values: np.ndarray, hidden: np.ndarray, rows: list[tuple[int, ...]]) -> list[tuple[int, float, float, float]]:
    """Every hidden variable whose minimum and maximum over the publication leave one integer."""
    unknown = np.flatnonzero(hidden)
    col = np.full(len(values), -1)
    col[unknown] = np.arange(len(unknown))
    r, c, data, rhs = [], [], [], []
    for row in rows:
        known, entries = 0.0, []
        for j, v in enumerate(row):
            coef = 1.0 if j == 0 else -1.0
            if hidden[v]:
                entries.append((col[v], coef))
            else:
                known += coef * values[v]
        if entries:
            r += [len(rhs)] * len(entries)
            c += [e for e, _ in entries]
            data += [k for _, k in entries]
            rhs.append(-known)
    matrix = sp.csr_array((data, (r, c)), shape=(len(rhs), len(unknown)))
    b = np.array(rhs)
    truth = values[unknown]
    assert np.allclose(matrix @ truth, b)  # the truth is one of the tables the attacker considers
    # A table consistent with the publication in which a cell differs from the truth by a unit
    # proves that cell is not pinned (the truth is consistent too): a few LPs in random
    # directions clear most cells at once, then each cell left gets its own minimum and maximum.
    witnessed = np.zeros(len(unknown), dtype=bool)

    def solve(objective: np.ndarray) -> float | None:
        res = linprog(objective, A_eq=matrix, b_eq=b, bounds=(0, None), method="highs")
        if res.status == 3:
            return None  # unbounded in that direction
        assert res.status == 0, res.message
        witnessed[np.abs(res.x - truth) >= 1 - 1e-7] = True
        return float(res.fun)

    rng = np.random.default_rng(0)
    for _ in range(6):
        solve(rng.normal(size=len(unknown)))
    pinned = []
    for k in range(len(unknown)):
        if witnessed[k]:
            continue
        unit = np.zeros(len(unknown))
        unit[k] = 1
        low = solve(unit)
        high = None if witnessed[k] else solve(-unit)
        if not witnessed[k]:
            assert low is not None and high is not None
            pinned.append((int(unknown[k]), float(truth[k]), low, -high))
    return pinned


@pytest.mark.parametrize("base", ["homicide", "records"])
def test_the_attacker_cannot_pin_a_suppressed_cell(ctx: QueryContext, catalogue: Catalogue, base: str) -> None:
    cubes = protected_cubes(catalogue.bases[base], ctx)
    values, hidden, rows = public_system(cubes)
    primaries = sum(int((c.status == "C").sum()) for c in cubes if c.status is not None)
    assert primaries > 50  # the sample has small cells to protect
    assert pinned_cells(values, hidden, rows) == []
