"""Weekly counts of an indicator by territory, for the early-warning methods.

The query modeler's periods are months and what they add up to (quarters, years, rolling
windows); surveillance also watches weeks. A week here is an ISO 8601 week (Monday to Sunday,
labelled 2015-W07). Only the weeks wholly inside the months the extracts cover are counted (a
week that reaches into a month nobody reported on would read as a fall), and only events whose
day is known: records that give their month only are counted apart and said. Counts are the
indicator's numerator (its base's filters and its own), without disclosure control: the series
are for the observatory's analysts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from segura.indicators.catalogue import Catalogue
from segura.indicators.dimensions import UNKNOWN
from segura.indicators.query import QueryContext, QueryError, _condition, _fact, territory_keys


@dataclass
class WeeklyCounts:
    """Territory x week counts (rows: territory keys; columns: ISO week labels), with what was left out."""

    cube: pd.DataFrame
    names: dict[str, str]
    weeks: list[dt.date]  # each week's Monday
    undated: int  # events of the covered months without a known day
    unplaced: int  # events in a coarser territory than the level ("<state>_U")


def iso_week(monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def covered_weeks(months: tuple[dt.date, ...] | list[dt.date]) -> list[dt.date]:
    """The Mondays of the weeks whose seven days all fall in covered months."""
    covered = {(m.year, m.month) for m in months}
    if not covered:
        return []
    first = min(months)
    last = max(months)
    end = (pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()
    monday = first - dt.timedelta(days=first.weekday())
    out = []
    while monday + dt.timedelta(days=6) <= end:
        days = [monday + dt.timedelta(days=i) for i in range(7)]
        if all((d.year, d.month) in covered for d in days):
            out.append(monday)
        monday += dt.timedelta(days=7)
    return out


def weekly_counts(ctx: QueryContext, catalogue: Catalogue, indicator_id: str, level: str) -> WeeklyCounts:
    indicator = catalogue.get(indicator_id)
    if indicator.kind not in ("count", "rate"):
        raise QueryError(f"{indicator_id}: a {indicator.kind} has no weekly count to watch; choose a count or a rate")
    if level not in ctx.levels and level not in set(ctx.territories.level):
        raise QueryError(f"level {level!r}: expected one of {', '.join(sorted(set(ctx.territories.level)))}")
    weeks = covered_weeks(ctx.months)
    if not weeks:
        raise QueryError(f"{indicator_id}: the extracts cover no whole week")
    t = _fact(ctx, indicator.base.subject)
    for key, values in {**indicator.base.where, **indicator.numerator}.items():
        t = t.filter(_condition(t, key, values, ctx))
    lo, hi = weeks[0], weeks[-1] + dt.timedelta(days=6)
    t = t.filter(t.month.between(lo.replace(day=1), hi))
    tkeys = territory_keys(ctx, level)
    keymap = ibis.memtable(tkeys.rename(columns={"code": "t_code", "key": "territory"}))
    t = t.left_join(keymap, t.territory_code == keymap.t_code)
    t = t.mutate(territory=t.territory.fill_null(UNKNOWN), week=t.day.truncate("W").cast("date"))
    rows = t.group_by(["territory", "week"]).aggregate(n=t.count()).to_pyarrow().to_pandas()
    undated = int(rows.loc[rows["week"].isna(), "n"].sum())
    rows = rows[rows["week"].notna() & rows["week"].between(lo, weeks[-1])]
    placed = rows["territory"].astype(str)
    unplaced = int(rows.loc[placed.str.endswith(UNKNOWN), "n"].sum())
    rows = rows[~placed.str.endswith(UNKNOWN)]
    terr = ctx.territories[ctx.territories.level == level]
    cube = rows.pivot_table(index="territory", columns="week", values="n", aggfunc="sum")
    cube = cube.reindex(index=sorted(terr.code), columns=weeks).fillna(0.0)
    cube.columns = [iso_week(w) for w in weeks]
    return WeeklyCounts(cube=cube, names=dict(zip(terr.code, terr.name, strict=True)), weeks=weeks,
                        undated=undated, unplaced=unplaced)
