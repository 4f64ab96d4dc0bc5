"""Disclosure control for indicator results: every cell a public query can return is a cell of a
protected cube, and takes that cube's confidentiality status.

For each base (homicide victims, robbery victims...) the cubes are the base's `tables`, each
crossed with territory (every level, with "unspecified" rows) and period (all, years,
quarters, months, rolling 12-month windows). All cubes of a base are protected together by
`segura.disclosure.protect`, so a cell suppressed in one breakdown is suppressed in every
other and no combination of public queries recovers it. A query is answered from the cube
cells: a breakdown that no cube holds (two territories summed, an arbitrary month range) is
refused in protected mode, because its cells were never protected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

from segura.disclosure import Axis, Table, secondary, suppress_cells
from segura.errors import SeguraError
from segura.indicators.catalogue import Base, Indicator
from segura.indicators.dimensions import DIMENSIONS, TOTAL, UNKNOWN
from segura.indicators.periods import period_label, periods
from segura.indicators.query import (
    QueryContext,
    _age_key,
    _condition,
    _fact,
    age_labels,
    territory_keys,
)

FEMICIDE = ("intimate_partner_family", "other_gender_related")


class DisclosureError(SeguraError):
    """A public query whose cells are not cells of a protected table."""

    exit_code = 2


@dataclass
class AxisSpec:
    """An axis of a cube: its labels, which fine positions each label sums, its relations."""

    name: str
    labels: list[str]
    fine: list[str]
    members: dict[str, list[str]]  # label -> fine labels it sums
    relations: list[tuple[str, list[str]]]  # parent label -> child labels

    def axis(self) -> Axis:
        index = {lab: i for i, lab in enumerate(self.labels)}
        rels = tuple((index[p], tuple(index[c] for c in ch)) for p, ch in self.relations if ch)
        return Axis(self.name, tuple(self.labels), rels, index[TOTAL])

    def matrix(self) -> np.ndarray:
        fidx = {f: j for j, f in enumerate(self.fine)}
        m = np.zeros((len(self.labels), len(self.fine)), dtype=np.int64)
        for i, lab in enumerate(self.labels):
            for f in self.members[lab]:
                m[i, fidx[f]] = 1
        return m


def territory_axis(ctx: QueryContext, level: str | None = None) -> AxisSpec:
    """Every territory down to `level` (the finest if None), with "<code>_U" for the victims of a
    territory whose finer place is unknown, and "_U" for those with no territory at all. The fine
    positions are always those of the event level, so that every table rolls up from one count."""
    level = _level(ctx, level)
    terr = ctx.territories
    codes = set(terr.code)
    rank = {lv: i for i, lv in enumerate(ctx.levels)}
    level_of = dict(zip(terr.code, terr.level, strict=True))
    children: dict[str, list[str]] = {}
    for code, parent in zip(terr.code, terr.parent_code, strict=True):
        if isinstance(parent, str) and parent in codes:
            children.setdefault(parent, []).append(code)
    roots = sorted(c for c, p in zip(terr.code, terr.parent_code, strict=True) if not (isinstance(p, str) and p in codes))
    event_codes = set(terr.loc[terr.level == ctx.event_level, "code"])
    labels = [TOTAL]
    relations: list[tuple[str, list[str]]] = [(TOTAL, [*roots, UNKNOWN])]
    members: dict[str, list[str]] = {}
    fine: list[str] = [UNKNOWN]

    def walk(code: str) -> list[str]:
        shown = rank.get(level_of[code], len(rank)) <= rank[level]
        if shown:
            labels.append(code)
        if code in event_codes or code not in children:
            fine.append(code)
            out = [code]
        else:
            out = []
            for child in sorted(children[code]):
                out += walk(child)
            unspecified = f"{code}{UNKNOWN}"
            fine.append(unspecified)
            out.append(unspecified)
            if shown and rank[level_of[code]] < rank[level]:  # its children are shown too
                labels.append(unspecified)
                members[unspecified] = [unspecified]
                relations.append((code, [*sorted(children[code]), unspecified]))
        if shown:
            members[code] = out
        return out

    total: list[str] = [UNKNOWN]
    for r in roots:
        total += walk(r)
    labels.append(UNKNOWN)
    members[UNKNOWN] = [UNKNOWN]
    members[TOTAL] = total
    return AxisSpec("territory", labels, fine, members, relations)


def _level(ctx: QueryContext, level: str | None) -> str:
    if level is None or level == ctx.event_level:
        return ctx.event_level
    if level not in ctx.levels:
        raise DisclosureError(f"a public table goes down to territory level {level!r}, which this workspace "
                              f"does not have (levels: {', '.join(ctx.levels)}); set the base's tables in "
                              "indicators/*.yaml")
    # never finer than the level events are recorded at
    return level if ctx.levels.index(level) < ctx.levels.index(ctx.event_level) else ctx.event_level


def period_axis(ctx: QueryContext, grain: str = "month") -> AxisSpec:
    """All periods, years, quarters (grain quarter or month), months and rolling 12-month windows
    (grain month); each label lists the months it sums."""
    months = periods(ctx, "month", {})
    fine = [period_label(m, "month") for m in months]
    labels, relations, members = [TOTAL], [], {TOTAL: list(fine)}
    years: dict[int, list[str]] = {}
    quarters: dict[str, list[str]] = {}
    for m, lab in zip(months, fine, strict=True):
        years.setdefault(m.year, []).append(lab)
        quarters.setdefault(period_label(m, "quarter"), []).append(lab)
    relations.append((TOTAL, [str(y) for y in years]))
    for y, ms in years.items():
        labels.append(str(y))
        members[str(y)] = ms
        qs = [q for q in quarters if q.startswith(f"{y}-")]
        if grain == "year":
            continue
        relations.append((str(y), qs))
        for q in qs:
            labels.append(q)
            members[q] = quarters[q]
            if grain == "month":
                relations.append((q, quarters[q]))
    if grain != "month":
        return AxisSpec("period", labels, fine, members, relations)
    for lab in fine:
        labels.append(lab)
        members[lab] = [lab]
    for end in periods(ctx, "rolling12", {}):
        window = [period_label(m, "month") for m in pd.date_range(end - pd.DateOffset(months=11), end, freq="MS").date]
        if end.month == 12 and len(years.get(end.year, [])) == 12:
            continue  # the same cell as the year
        lab = period_label(end, "rolling12")
        labels.append(lab)
        members[lab] = window
        relations.append((lab, window))
    return AxisSpec("period", labels, fine, members, relations)


def category_axis(name: str, ctx: QueryContext) -> AxisSpec:
    if name == "age":
        fine = [*age_labels(ctx.settings), "_O", UNKNOWN]
    elif name == "source":
        fine = list(ctx.sources)
    elif name == "sex":
        fine = [c for c, _, _ in DIMENSIONS["sex"].values]
    else:
        fine = [c for c, _, _ in DIMENSIONS[name].values if c != "femicide"]
    labels = [*fine, TOTAL]
    members = {f: [f] for f in fine} | {TOTAL: list(fine)}
    relations = [(TOTAL, list(fine))]
    if name == "femicide_class":
        labels.insert(-1, "femicide")
        members["femicide"] = list(FEMICIDE)
        relations.append(("femicide", list(FEMICIDE)))
    return AxisSpec(name, labels, fine, members, relations)


@dataclass
class Cube:
    dims: tuple[str, ...]
    specs: list[AxisSpec]
    counts: np.ndarray
    status: np.ndarray | None = None

    def index(self, coords: dict[str, str]) -> tuple[int, ...] | None:
        out = []
        for spec in self.specs:
            lab = coords.get(spec.name, TOTAL)
            if lab not in spec.labels:
                return None
            out.append(spec.labels.index(lab))
        return tuple(out)


def build_cubes(base: Base, ctx: QueryContext) -> list[Cube]:
    """Count the base at the finest keys once, then roll each table up to every level."""
    dims_all = sorted({d for t in base.tables for d in t.by})
    t = _fact(ctx, base.subject)
    for k, v in base.where.items():
        t = t.filter(_condition(t, k, v, ctx))
    keymap = territory_keys(ctx, ctx.event_level)
    km = ibis.memtable(keymap.rename(columns={"code": "t_code", "key": "territory"}))
    t = t.left_join(km, t.territory_code == km.t_code)
    t = t.mutate(territory=t.territory.fill_null(UNKNOWN))
    if "age" in dims_all:
        t = t.mutate(age=_age_key(t, ctx))
    fine = t.group_by(["territory", "month", *dims_all]).aggregate(n=t.count()).to_pandas()
    fine["period"] = [period_label(pd.Timestamp(m).date(), "month") for m in fine["month"]]
    cubes = []
    for table in base.tables:
        dims = table.by
        specs = [territory_axis(ctx, table.level), period_axis(ctx, table.grain), *[category_axis(d, ctx) for d in dims]]
        shape = tuple(len(s.fine) for s in specs)
        arr = np.zeros(shape, dtype=np.int64)
        idx = []
        for s, col in zip(specs, ["territory", "period", *dims], strict=True):
            pos = {f: i for i, f in enumerate(s.fine)}
            idx.append(fine[col].astype(str).map(pos).to_numpy())
        ok = np.all([~pd.isna(i) for i in idx], axis=0)
        np.add.at(arr, tuple(i[ok].astype(np.int64) for i in idx), fine["n"].to_numpy()[ok])
        full = arr
        for axis, s in enumerate(specs):
            full = np.moveaxis(np.tensordot(s.matrix(), np.moveaxis(full, axis, 0), axes=1), 0, axis)
        cubes.append(Cube(tuple(dims), specs, full))
    return cubes


def thresholds(base: Base, cube: Cube, normal: int, vaw: int) -> np.ndarray:
    """Per-cell threshold: the stricter one on cells about violence against women."""
    if base.vaw_all:
        return np.full(cube.counts.shape, vaw)
    out = np.full(cube.counts.shape, normal)
    for name, values in (base.vaw_cells or {}).items():
        for axis, spec in enumerate(cube.specs):
            if spec.name == name:
                for v in values:
                    if v in spec.labels:
                        sl: list[Any] = [slice(None)] * len(cube.specs)
                        sl[axis] = spec.labels.index(v)
                        out[tuple(sl)] = vaw
    return out


_CACHE: dict[str, list[np.ndarray]] = {}
# what the statuses depend on besides the counts: a change here recomputes every cache
ALGORITHM = repr(("certificates in neighbourhoods, one public flag", secondary.WEIGHTS, secondary.PRICE_POWER,
                  secondary.SMALL_AXIS, secondary.MAX_ROUNDS, secondary.MARGIN_PRICE))


def protected_cubes(base: Base, ctx: QueryContext) -> list[Cube]:
    """The base's cubes with their CONF_STATUS, cached by content (same counts, same statuses)."""
    cubes = build_cubes(base, ctx)
    normal, vaw = int(ctx.settings["disclosure.threshold"]), int(ctx.settings["disclosure.threshold_vaw"])
    limits = [thresholds(base, c, normal, vaw) for c in cubes]
    digest = hashlib.sha256(ALGORITHM.encode())
    for c, t in zip(cubes, limits, strict=True):
        for spec in c.specs:
            digest.update(repr((spec.name, spec.labels, spec.relations)).encode())
        digest.update(c.counts.tobytes())
        digest.update(t.tobytes())
    key = digest.hexdigest()
    if key not in _CACHE:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = _stored(ctx, key, len(cubes)) or _protect(base, cubes, limits, ctx, key)
    for c, status in zip(cubes, _CACHE[key], strict=True):
        c.status = status
    return cubes


def _stored(ctx: QueryContext, key: str, n: int) -> list[np.ndarray] | None:
    """The statuses saved by an earlier run for the same tables and counts (the key says so)."""
    path = ctx.cache_dir / f"{key}.npz" if ctx.cache_dir else None
    if path is None or not path.exists():
        return None
    with np.load(path) as saved:
        return [saved[f"t{i}"] for i in range(n)]


def _protect(base: Base, cubes: list[Cube], limits: list[np.ndarray], ctx: QueryContext, key: str) -> list[np.ndarray]:
    tables = [Table(base.id, tuple(s.axis() for s in c.specs), c.counts) for c in cubes]
    result = suppress_cells(tables, limits)
    unproven = sum(int(u.sum()) for u in result.unproven)
    if unproven:  # fail closed: nothing of the base is published on a pattern that is not proven
        raise DisclosureError(f"{base.id}: {unproven} suppressed cell(s) have no certificate of protection; "
                              "nothing of this base can be published (please report this)")
    status = result.status
    if ctx.cache_dir is not None:
        ctx.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = ctx.cache_dir / f"{key}.tmp.npz"
        arrays: dict[str, Any] = {f"t{i}": s for i, s in enumerate(status)}
        np.savez_compressed(tmp, **arrays)
        tmp.replace(ctx.cache_dir / f"{key}.npz")
    return status


def _fixed_coords(indicator: Indicator, query: Any, ctx: QueryContext) -> dict[str, str]:
    """Cube coordinates that the query fixes without breaking down by them."""
    coords: dict[str, str] = {}
    where = query.where
    if "territory" not in query.by:
        codes = where.get("territory", ())
        if len(codes) > 1:
            raise DisclosureError("a public query filters one territory, or breaks down by territory")
        coords["territory"] = codes[0] if codes else TOTAL
    if "period" not in query.by:
        if "from" in where or "to" in where:
            raise DisclosureError("a public query without a period breakdown takes one year (year=YYYY), not from/to")
        years = where.get("year", ())
        if len(years) > 1:
            raise DisclosureError("a public query without a period breakdown takes one year, or breaks down by period")
        coords["period"] = years[0] if years else TOTAL
    for key, values in indicator.numerator.items():
        if key == "femicide_class" and sorted(map(str, values)) == sorted(FEMICIDE):
            coords[key] = "femicide"
        elif key == "age":
            lo, hi = values
            match = [n for n, r in ctx.settings["age_groups.aggregations"].items() if list(r) == [lo, hi]]
            if not match:
                raise DisclosureError(f"the age range {lo}-{hi} is not one of the workspace's age groups")
            coords["age"] = match[0]
        elif len(values) == 1:
            coords[key] = str(values[0]).lower() if key == "reconciled" else str(values[0])
        else:
            raise DisclosureError(f"{indicator.id}: a numerator over several {key} values is not a published cell")
    for key, values in where.items():
        if key in ("territory", "year", "from", "to") or key in query.by:
            continue
        if len(values) > 1:
            raise DisclosureError(f"a public query filters one {key} value, or breaks down by {key}")
        coords[key] = values[0]
    return coords


def cell_status(frame: pd.DataFrame, keys: list[str], indicator: Indicator, query: Any,
                ctx: QueryContext) -> tuple[np.ndarray, np.ndarray]:
    """The CONF_STATUS of each row's numerator cell and of its denominator cell ('F' for populations)."""
    fixed = _fixed_coords(indicator, query, ctx)
    needed = {k for k in keys if k not in ("territory", "period")} | {k for k in fixed if k not in ("territory", "period")}
    cubes = protected_cubes(indicator.base, ctx)
    columns = {k: frame[k].tolist() for k in keys}
    coords_of = []
    for i in range(len(frame)):
        coords = dict(fixed)
        for k in keys:
            coords[k] = _label_of(k, columns[k][i], query.grain)
        coords_of.append(coords)
    cube = next((c for c in cubes if needed <= set(c.dims)
                 and all(c.index(co) is not None for co in coords_of)), None)
    if cube is None:
        raise DisclosureError(
            f"{indicator.base.id}: no public table holds these cells ({', '.join(sorted(needed)) or 'totals'} at "
            f"{query.level or ctx.event_level}, by {query.grain}); the public tables are "
            f"{published_tables(indicator.base, ctx)}. Analysts can run it unprotected (--no-protect)")
    assert cube.status is not None
    num = np.full(len(frame), "F", dtype="<U1")
    den = np.full(len(frame), "F", dtype="<U1")
    shares = indicator.kind in ("share", "distribution")
    for i, coords in enumerate(coords_of):
        idx = cube.index(coords)
        if idx is None:
            raise DisclosureError(f"{coords} is not a cell of the published tables")
        num[i] = cube.status[idx]
        if shares:
            dcoords = dict(coords)
            freed = list(indicator.numerator) if indicator.kind == "share" else [str(indicator.over)]
            for k in freed:
                dcoords[k] = TOTAL
            didx = cube.index(dcoords)
            den[i] = cube.status[didx] if didx is not None else "D"
    return num, den


def published_tables(base: Base, ctx: QueryContext) -> str:
    """The base's public tables in words: "sex by admin2 and month; sex x age by admin1 and month"."""
    return "; ".join(f"{' x '.join(t.by) or 'totals'} by {_level(ctx, t.level)} and {t.grain}" for t in base.tables)


def _label_of(key: str, value: Any, grain: str) -> str:
    if key == "period":
        if not isinstance(value, dt.date):
            return UNKNOWN
        if grain == "rolling12" and value.month == 12:
            return str(value.year)  # the window ending in December is the year's cell
        return period_label(value, grain)
    return str(value)


def apply_protection(result: Any, ctx: QueryContext) -> None:
    """Empty the suppressed cells of `result.frame` and flag them CONF_STATUS C.

    One flag for every suppressed cell: telling primary from secondary cells (SDMX's C and D)
    would tell the public that a 'C' cell holds between 1 and the threshold - 1, which the
    protection does not assume. Smoothed rates pool the counts of a whole slice of territories,
    so they are published only where every territory of the slice is.
    """
    frame = result.frame
    num, den = cell_status(frame, result.keys, result.indicator, result.query, ctx)
    hidden = (num != "F") | (den != "F")
    frame["conf_status"] = np.where(hidden, "C", "F")
    cols = ["numerator", "value", "ci_low", "ci_high", "eb_global", "eb_local"]
    if result.indicator.kind in ("share", "distribution"):
        cols.append("denominator")
    for c in cols:
        if c in frame.columns:
            frame[c] = frame[c].astype(float).where(~hidden, np.nan)
    if "territory" in result.keys and frame["eb_global"].notna().any():
        rest = [k for k in result.keys if k != "territory"]
        slices = frame.groupby(rest, sort=False, dropna=False)["conf_status"] if rest else None
        any_hidden = (slices.transform(lambda s: (s != "F").any()) if slices is not None
                      else pd.Series((frame["conf_status"] != "F").any(), index=frame.index)).astype(bool)
        for c in ("eb_global", "eb_local"):
            frame[c] = frame[c].where(~any_hidden, np.nan)
        if any_hidden.any():
            result.notes.append("smoothed rates (eb_global, eb_local) are published only for slices where "
                                "no territory is suppressed: they pool the counts of every territory")
    frame["unstable"] = frame["unstable"].where(~hidden, None)
    frame["obs_status"] = np.where(hidden, "M", frame["obs_status"])
    result.protected = True
