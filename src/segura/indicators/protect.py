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

from segura.disclosure import Axis, Table, protect
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


def territory_axis(ctx: QueryContext) -> AxisSpec:
    terr = ctx.territories
    children: dict[str, list[str]] = {}
    for code, parent in zip(terr.code, terr.parent_code, strict=True):
        if isinstance(parent, str) and parent in set(terr.code):
            children.setdefault(parent, []).append(code)
    roots = [c for c, p in zip(terr.code, terr.parent_code, strict=True) if not (isinstance(p, str) and p in set(terr.code))]
    event_codes = set(terr.loc[terr.level == ctx.event_level, "code"])
    labels = [TOTAL]
    relations: list[tuple[str, list[str]]] = [(TOTAL, [*roots, UNKNOWN])]
    members: dict[str, list[str]] = {}
    fine: list[str] = [UNKNOWN]

    def walk(code: str) -> list[str]:
        labels.append(code)
        if code in event_codes or code not in children:
            fine.append(code)
            members[code] = [code]
            return [code]
        unspecified = f"{code}{UNKNOWN}"
        out: list[str] = []
        for child in sorted(children[code]):
            out += walk(child)
        labels.append(unspecified)
        fine.append(unspecified)
        members[unspecified] = [unspecified]
        relations.append((code, [*sorted(children[code]), unspecified]))
        members[code] = [*out, unspecified]
        return members[code]

    total: list[str] = [UNKNOWN]
    for r in sorted(roots):
        total += walk(r)
    labels.append(UNKNOWN)
    members[UNKNOWN] = [UNKNOWN]
    members[TOTAL] = total
    return AxisSpec("territory", labels, fine, members, relations)


def period_axis(ctx: QueryContext) -> AxisSpec:
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
        relations.append((str(y), qs))
        for q in qs:
            labels.append(q)
            members[q] = quarters[q]
            relations.append((q, quarters[q]))
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
    dims_all = sorted({d for t in base.tables for d in t})
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
    terr, per = territory_axis(ctx), period_axis(ctx)
    cubes = []
    for dims in base.tables:
        specs = [terr, per, *[category_axis(d, ctx) for d in dims]]
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


def protected_cubes(base: Base, ctx: QueryContext) -> list[Cube]:
    """The base's cubes with their CONF_STATUS, cached by content (same counts, same statuses)."""
    cubes = build_cubes(base, ctx)
    normal, vaw = int(ctx.settings["disclosure.threshold"]), int(ctx.settings["disclosure.threshold_vaw"])
    limits = [thresholds(base, c, normal, vaw) for c in cubes]
    digest = hashlib.sha256()
    for c, t in zip(cubes, limits, strict=True):
        for spec in c.specs:
            digest.update(repr((spec.name, spec.labels, spec.relations)).encode())
        digest.update(c.counts.tobytes())
        digest.update(t.tobytes())
    key = digest.hexdigest()
    if key not in _CACHE:
        tables = [Table(base.id, tuple(s.axis() for s in c.specs), c.counts) for c in cubes]
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = protect(tables, limits)
    for c, status in zip(cubes, _CACHE[key], strict=True):
        c.status = status
    return cubes


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
    cube = next((c for c in cubes if needed <= set(c.dims)), None)
    if cube is None:
        raise DisclosureError(f"no published table of {indicator.base.id} crosses {', '.join(sorted(needed))}")
    assert cube.status is not None
    num = np.full(len(frame), "F", dtype="<U1")
    den = np.full(len(frame), "F", dtype="<U1")
    shares = indicator.kind in ("share", "distribution")
    columns = {k: frame[k].tolist() for k in keys}
    for i in range(len(frame)):
        coords = dict(fixed)
        for k in keys:
            coords[k] = _label_of(k, columns[k][i], query.grain)
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


def _label_of(key: str, value: Any, grain: str) -> str:
    if key == "period":
        if not isinstance(value, dt.date):
            return UNKNOWN
        if grain == "rolling12" and value.month == 12:
            return str(value.year)  # the window ending in December is the year's cell
        return period_label(value, grain)
    return str(value)


def apply_protection(result: Any, ctx: QueryContext) -> None:
    """Empty the suppressed cells of `result.frame` and flag them (SDMX CONF_STATUS C or D)."""
    frame = result.frame
    num, den = cell_status(frame, result.keys, result.indicator, result.query, ctx)
    conf = np.where(num != "F", num, np.where(den != "F", "D", "F"))
    hidden = conf != "F"
    frame["conf_status"] = conf
    cols = ["numerator", "value", "ci_low", "ci_high", "eb_global", "eb_local"]
    if result.indicator.kind in ("share", "distribution"):
        cols.append("denominator")
    for c in cols:
        if c in frame.columns:
            frame[c] = frame[c].astype(float).where(~hidden, np.nan)
    frame["unstable"] = frame["unstable"].where(~hidden, None)
    frame["obs_status"] = np.where(hidden, "M", frame["obs_status"])
    result.protected = True
