"""Disclosure control on the sample observatory, attacked.

The argument has two links, each tested:
1. a public query reveals only cells of the protected tables, with their published values: hypothesis
   runs random public queries (indicator, breakdowns, level, period grain, filters) and checks that
   every figure a row shows is a free cell ('F') of the base's protected tables, and that suppressed
   rows show nothing that would give their count back (value, interval, smoothed rate, change);
2. the free cells do not give a suppressed cell away: an attacker who knows every free cell of every
   table, every relation between them (territory and period hierarchies, breakdown totals, the
   margins the tables share), that counts are non-negative integers and that 'C' cells lie between
   1 and the threshold - 1, bounds each suppressed cell by linear programming (scipy HiGHS); it must
   not pin any of them to a single value.
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


def coordinates(cube: Cube, row: dict[str, object], keys: list[str], fixed: dict[str, str], grain: str) -> tuple[int, ...]:
    coords = dict(fixed)
    for k in keys:
        coords[k] = _label_of(k, row[k], grain)
    idx = cube.index(coords)
    assert idx is not None, coords
    return idx


HOMICIDE_INDICATORS = sorted(i.id for i in load_catalogue().indicators.values() if i.base.id == "homicide")


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
        cube = next(c for c in cubes if needed <= set(c.dims))
        assert cube.status is not None
        raw = compute(query, ctx, catalogue, protect=False).frame
        for row, unprotected in zip(result.frame.to_dict("records"), raw.to_dict("records"), strict=True):
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


def system(cubes: list[Cube], thresholds: list[np.ndarray]) -> tuple[sp.csr_array, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The attacker's linear system over the suppressed cells of all the base's tables."""
    offsets, n = [], 0
    for c in cubes:
        assert c.status is not None
        offsets.append(n)
        n += int((c.status != "F").sum())
    rows, cols, vals, rhs = [], [], [], []
    low, high = np.zeros(n), np.full(n, np.inf)
    var_of = []
    for c, off, t in zip(cubes, offsets, thresholds, strict=True):
        assert c.status is not None
        hidden = c.status != "F"
        var = np.full(c.counts.shape, -1, dtype=np.int64)
        var[hidden] = off + np.arange(hidden.sum())
        low[var[c.status == "C"]] = 1
        high[var[c.status == "C"]] = t[c.status == "C"] - 1
        var_of.append(var)
        for axis, spec in enumerate(c.specs):
            for parent, children in spec.relations:
                members = [spec.labels.index(parent), *[spec.labels.index(ch) for ch in children]]
                coef = np.array([1.0] + [-1.0] * len(children))
                v = np.stack([np.take(var, m, axis=axis) for m in members]).reshape(len(members), -1)
                x = np.stack([np.take(c.counts, m, axis=axis) for m in members]).reshape(len(members), -1)
                active = np.flatnonzero((v >= 0).any(axis=0))
                for j in active:
                    e = len(rhs)
                    known = 0.0
                    for i in range(len(members)):
                        if v[i, j] >= 0:
                            rows.append(e)
                            cols.append(v[i, j])
                            vals.append(coef[i])
                        else:
                            known += coef[i] * x[i, j]
                    rhs.append(-known)
    # the margins two tables share are the same cells
    for a in range(len(cubes)):
        for b in range(a + 1, len(cubes)):
            ca, cb = cubes[a], cubes[b]
            shared = [s.name for s in ca.specs if s.name in {t.name for t in cb.specs}]
            sel_a = tuple(slice(None) if s.name in shared else s.labels.index(TOTAL) for s in ca.specs)
            sel_b = tuple(slice(None) if s.name in shared else s.labels.index(TOTAL) for s in cb.specs)
            va, vb = var_of[a][sel_a].ravel(), var_of[b][sel_b].ravel()
            for x, y in zip(va, vb, strict=True):
                assert (x >= 0) == (y >= 0), "a shared cell is suppressed in one table and not the other"
                if x >= 0:
                    e = len(rhs)
                    rows += [e, e]
                    cols += [x, y]
                    vals += [1.0, -1.0]
                    rhs.append(0.0)
    matrix = sp.csr_array((vals, (rows, cols)), shape=(len(rhs), n))
    truth = np.concatenate([c.counts[c.status != "F"] for c in cubes if c.status is not None])
    return matrix, np.array(rhs), low, high, truth


@pytest.mark.xfail(strict=True, reason="known defect, issue 4 open: on the sample observatory the secondary "
                   "suppression of segura.disclosure (still being tuned) leaves some suppressed cells that linear "
                   "programming pins to their value; remove this mark when it holds")
def test_the_attacker_cannot_pin_a_suppressed_cell(ctx: QueryContext, catalogue: Catalogue, cubes: list[Cube]) -> None:
    from segura.indicators.protect import thresholds

    base = catalogue.bases["homicide"]
    normal, vaw = int(ctx.settings["disclosure.threshold"]), int(ctx.settings["disclosure.threshold_vaw"])
    matrix, rhs, low, high, truth = system(cubes, [thresholds(base, c, normal, vaw) for c in cubes])
    assert len(truth) > 50  # the sample has small cells to protect
    assert np.allclose(matrix @ truth, rhs)  # the true counts satisfy what the attacker knows
    rng = np.random.default_rng(1)
    targets = rng.choice(len(truth), size=min(40, len(truth)), replace=False)
    bounds = list(zip(low, [None if math.isinf(h) else h for h in high], strict=True))
    for t in targets:
        c = np.zeros(len(truth))
        c[t] = 1
        lo = linprog(c, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
        assert lo.status == 0 and hi.status in (0, 3)  # 3: unbounded above, so certainly not pinned
        top = math.inf if hi.status == 3 else -hi.fun
        assert top == math.inf or math.floor(top + 1e-7) - math.ceil(lo.fun - 1e-7) >= 1, (t, truth[t], lo.fun, top)
