"""The query modeler: an indicator x dimensions x filters -> a tidy table of counts and denominators.

Every query is an Ibis expression over the warehouse's tables (`victim`, `link`,
`person_current`, `event_current`, `population`), so the same code runs on DuckDB and on
Spark. Dimensions and filter fields come from the allow-list in `dimensions.py` and every
value is checked against its domain before it becomes an Ibis literal: no text from a user
is ever spliced into SQL.

The table is complete: every territory of the chosen level, every period in the data's span
and every value of a categorical dimension has a row, with 0 when nothing happened, because a
municipality with no femicide has a rate of 0, not a missing rate. Victims placed only at a
coarser level than asked (a state but no municipality) get the row "<parent>_U" (unspecified),
so municipal rows always add up to their state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segura.errors import SeguraError
from segura.indicators.catalogue import Indicator
from segura.indicators.dimensions import DIMENSIONS, FILTER_FIELDS, TOTAL, UNKNOWN, check_filter
from segura.indicators.periods import _parse_month, period_span, periods
from segura.model.codes import codelist, five_year_groups_in
from segura.settings import Settings

GRAINS = ("month", "quarter", "year", "rolling12")
PERIOD_FILTERS = ("year", "from", "to")


class QueryError(SeguraError):
    """A query that asks for something the allow-list does not have."""

    exit_code = 2


@dataclass(frozen=True)
class Query:
    """What a user asks: an indicator broken down `by` dimensions, with filters.

    `where` maps a field to the values kept: a dimension (sex, age, weapon_class...), `territory`
    (a code; its descendants are kept), `year`, `from` and `to` (YYYY-MM, inclusive).
    """

    indicator: str
    by: tuple[str, ...] = ()
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    level: str | None = None
    grain: str = "year"


@dataclass
class QueryContext:
    """The backend and the small facts a query needs: territories, coverage, latest run."""

    backend: Any
    settings: Settings
    territories: pd.DataFrame  # code, name, level, parent_code
    run_id: int | None
    months: tuple[dt.date, ...]  # the months the institutions' extracts cover
    sources: tuple[str, ...]
    population_levels: frozenset[str]
    cache_dir: Path | None = None  # where protected tables are kept between runs (the workspace's)
    _keys: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def first_month(self) -> dt.date | None:
        return self.months[0] if self.months else None

    @property
    def last_month(self) -> dt.date | None:
        return self.months[-1] if self.months else None

    @property
    def levels(self) -> list[str]:
        return list(self.settings["territory.levels"])

    @property
    def event_level(self) -> str:
        return str(self.settings["territory.event_level"])

    def table(self, name: str) -> ir.Table:
        return self.backend.table(name)


def context_for(backend: Any, settings: Settings) -> QueryContext:
    """Read the small facts (territories, the latest run, the months covered) once.

    The months are those the loaded extracts cover (`latest_load_month`): a month no extract
    covers is not a period with zero victims, it is a period nobody reported on.
    """
    terr = backend.table("territory").select("code", "name", "level", "parent_code").to_pandas()
    runs = backend.table("reconcile_run")
    run_id = runs.run_id.max().to_pandas() if runs.count().to_pandas() else None
    months: list[dt.date] = []
    sources: tuple[str, ...] = ()
    if run_id is not None:
        if "latest_load_month" in backend.list_tables():
            cover = backend.table("latest_load_month")
            months = sorted({_month_of(m) for m in cover.select("month").distinct().to_pandas()["month"]})
        else:  # a copy of the warehouse without its loads: the span of the victims' dates
            v = backend.table("victim")
            v = v.filter(v.run_id == int(run_id))
            span = v.aggregate(lo=v.event_date.min(), hi=v.event_date.max()).to_pandas().iloc[0]
            if pd.notna(span["lo"]):
                months = pd.date_range(_month_of(span["lo"]), _month_of(span["hi"]), freq="MS").date.tolist()
        link = backend.table("link")
        sources = tuple(sorted(link.filter(link.run_id == int(run_id)).select("source_id").distinct().to_pandas().source_id))
    pop = backend.table("population")
    pop_codes = set(pop.select("territory_code").distinct().to_pandas().territory_code)
    levels = frozenset(terr.loc[terr.code.isin(pop_codes), "level"])
    return QueryContext(backend, settings, terr, None if run_id is None else int(run_id), tuple(months), sources, levels)


def _month_of(value: Any) -> dt.date:
    d = pd.Timestamp(value).date()
    return d.replace(day=1)


# -- parsing what a user typed -------------------------------------------------------------


def parse_where(items: list[str]) -> dict[str, tuple[str, ...]]:
    """`["year=2015", "sex=F,M"]` -> {"year": ("2015",), "sex": ("F", "M")}."""
    out: dict[str, tuple[str, ...]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise QueryError(f"a filter is field=value[,value...], like year=2015 or sex=F; found {item!r}")
        out[key.strip()] = tuple(v.strip() for v in value.split(",") if v.strip())
    return out


def validate(query: Query, indicator: Indicator, ctx: QueryContext) -> None:
    """Refuse anything outside the allow-list, with the reason and what is allowed."""
    subject = indicator.base.subject
    allowed_by = {"territory", "period", *indicator.disaggregations}
    for d in query.by:
        if d not in allowed_by:
            raise QueryError(f"{indicator.id} cannot be broken down by {d!r}; it can by: {', '.join(sorted(allowed_by))}")
    if len(set(query.by)) != len(query.by):
        raise QueryError(f"a dimension is repeated in --by {','.join(query.by)}")
    if query.grain not in GRAINS:
        raise QueryError(f"period grain must be one of {', '.join(GRAINS)}, found {query.grain!r}")
    if query.grain == "rolling12" and "period" not in query.by:
        raise QueryError("rolling 12-month windows overlap, so they cannot be added up: break down by period "
                         "(--by period) or choose month, quarter or year")
    if query.level is not None and query.level not in ctx.levels:
        raise QueryError(f"unknown territory level {query.level!r}; levels: {', '.join(ctx.levels)}")
    filter_dims = {d for d in indicator.disaggregations} | {"territory", *PERIOD_FILTERS}
    for key, values in query.where.items():
        if key not in filter_dims:
            raise QueryError(f"{indicator.id} cannot be filtered by {key!r}; it can by: {', '.join(sorted(filter_dims))}")
        if not values:
            raise QueryError(f"the filter {key}= has no value")
        if key == "year":
            if not all(v.isdigit() and len(v) == 4 for v in values):
                raise QueryError(f"year takes four-digit years, found {list(values)}")
        elif key in ("from", "to"):
            if len(values) != 1 or _parse_month(values[0]) is None:
                raise QueryError(f"{key} takes one month as YYYY-MM, found {list(values)}")
        elif key == "territory":
            unknown = [v for v in values if v not in set(ctx.territories.code)]
            if unknown:
                raise QueryError(f"unknown territory code(s) {unknown}; `segura status` lists the territories")
            level_of = dict(zip(ctx.territories.code, ctx.territories.level, strict=True))
            asked = query.level or ctx.event_level
            finer = [v for v in values if ctx.levels.index(level_of[v]) > ctx.levels.index(asked)]
            if finer:
                raise QueryError(f"territory {finer[0]} is a {level_of[finer[0]]}, inside the {asked} level asked for: "
                                 f"use --level {level_of[finer[0]]} or a finer level")
        elif key == "age":
            labels = set(age_labels(ctx.settings)) | {UNKNOWN}
            bad = [v for v in values if v not in labels]
            if bad:
                raise QueryError(f"unknown age group(s) {bad}; the workspace's groups: {', '.join(age_labels(ctx.settings))}")
        elif key == "source":
            bad = [v for v in values if v not in ctx.sources]
            if bad:
                raise QueryError(f"unknown institution(s) {bad}; institutions: {', '.join(ctx.sources)}")
        elif key == "reconciled":
            if any(v not in ("true", "false") for v in values):
                raise QueryError(f"reconciled takes true or false, found {list(values)}")
        else:
            values_checked = [v for v in values if v != "femicide"] if key == "femicide_class" else list(values)
            problem = check_filter(key, values_checked) if key in FILTER_FIELDS[subject] else None
            if problem:
                raise QueryError(problem)


# -- the facts ------------------------------------------------------------------------------


def age_labels(settings: Settings) -> list[str]:
    return list(settings["age_groups.aggregations"])


def victims_fact(ctx: QueryContext) -> ir.Table:
    """One row per reconciled victim of the latest run, with the classes indicators use."""
    v = ctx.table("victim")
    v = v.filter(v.run_id == (ctx.run_id if ctx.run_id is not None else -1))
    intimate_family = [c.code for c in codelist("relationship").values() if c.get("intimate_or_family") == "true"]
    rel = v.relationship
    relationship_class = ibis.cases(
        (rel.startswith("intimate_partner"), "intimate_partner"),
        (rel.isin(intimate_family), "family"),
        (rel.startswith("known_"), "known_other"),
        (rel == "stranger", "stranger"),
        else_="unknown",
    )
    female_homicide = (v.sex == "F") & v.iccs_code.startswith("0101")
    femicide_class = ibis.cases(
        (female_homicide & rel.isin(intimate_family), "intimate_partner_family"),
        (female_homicide & v.femicide_legal.fill_null(False), "other_gender_related"),
        (female_homicide, "not_identified"),
        else_="not_applicable",
    )
    weapon_class = ibis.cases(
        (v.weapon.startswith("firearm"), "firearm"),
        (v.weapon.isnull() | (v.weapon == "unknown"), "unknown"),
        else_="other",
    )
    return v.select(
        territory_code=v.territory_code,
        month=v.event_date.truncate("M").cast("date"),
        day=v.event_date.cast("date"),  # weekly series (segura.indicators.weekly)
        sex=v.sex.fill_null(UNKNOWN),
        age=v.age,
        iccs_code=v.iccs_code,
        weapon_class=weapon_class,
        relationship_class=relationship_class,
        femicide_class=femicide_class,
    )


def records_fact(ctx: QueryContext) -> ir.Table:
    """One row per current victim record of each institution, with whether it was reconciled."""
    link = ctx.table("link")
    link = link.filter(link.run_id == (ctx.run_id if ctx.run_id is not None else -1))
    spread = link.group_by("cluster_id").aggregate(n_sources=link.source_id.nunique())
    p = ctx.table("person_current")
    e = ctx.table("event_current")
    rec = link.join(p, link.person_id == p.person_id).join(
        e, (e.load_id == p.load_id) & (e.source_record_id == p.event_record_id)
    ).join(spread, "cluster_id")
    return rec.select(
        territory_code=rec.territory_code,
        month=rec.occurred_date.truncate("M").cast("date").fill_null(rec.period_month.cast("date")),
        day=rec.occurred_date.cast("date"),  # null when the record knows its month only
        sex=rec.sex.fill_null(UNKNOWN),
        age=rec.age,
        iccs_code=rec.iccs_code,
        source=link.source_id,
        reconciled=ibis.ifelse(rec.n_sources >= 2, "true", "false"),
    )


def _fact(ctx: QueryContext, subject: str) -> ir.Table:
    return victims_fact(ctx) if subject == "victims" else records_fact(ctx)


def _condition(t: ir.Table, key: str, values: list[Any] | tuple[Any, ...], ctx: QueryContext) -> ir.BooleanValue:
    if key == "iccs":
        cond = ibis.literal(False)
        for code in values:
            cond = cond | t.iccs_code.startswith(str(code))
        return cond
    if key == "age":
        if isinstance(values, list):  # a catalogue range [low, high]
            return t.age.between(int(values[0]), int(values[1]))
        return _age_key(t, ctx).isin([str(v) for v in values])
    if key == "femicide_class":
        expanded = {str(v) for v in values}
        if "femicide" in expanded:
            expanded |= {"intimate_partner_family", "other_gender_related"}
        return t.femicide_class.isin(sorted(expanded))
    if key == "reconciled":
        return t.reconciled.isin([str(v).lower() for v in values])
    return t[key].isin([str(v) for v in values])


def _age_key(t: ir.Table, ctx: QueryContext) -> ir.StringValue:
    cases = [(t.age.between(lo, hi), name) for name, (lo, hi) in ctx.settings["age_groups.aggregations"].items()]
    return ibis.cases((t.age.isnull(), UNKNOWN), *cases, else_="_O")


# -- keys: territory at a level, periods ----------------------------------------------------


def territory_keys(ctx: QueryContext, level: str) -> pd.DataFrame:
    """code -> key at `level`: the ancestor at that level, or "<ancestor>_U" for coarser codes."""
    if level in ctx._keys:
        return ctx._keys[level]
    parent = dict(zip(ctx.territories.code, ctx.territories.parent_code, strict=True))
    lvl = dict(zip(ctx.territories.code, ctx.territories.level, strict=True))
    order = {lv: i for i, lv in enumerate(ctx.levels)}
    rows = []
    for code in parent:
        c: str | None = code
        while c is not None and lvl.get(c) != level:
            p = parent.get(c)
            c = p if isinstance(p, str) and p in parent else None
        if c is not None:
            rows.append((code, c))
        elif order.get(lvl[code], 0) < order.get(level, 0):
            rows.append((code, f"{code}{UNKNOWN}"))
    ctx._keys[level] = pd.DataFrame(rows, columns=["code", "key"])
    return ctx._keys[level]


def _period_key(t: ir.Table, grain: str) -> ir.IntegerValue:
    """The period as a month index (year x 12 + month - 1) of its first month (a rolling window:
    its last): grouping on an integer is markedly faster than on a date over millions of rows."""
    index = t.month.year() * 12 + t.month.month() - 1
    if grain in ("month", "rolling12"):
        return index
    if grain == "quarter":
        return index - (t.month.month() - 1) % 3
    return t.month.year() * 12


def _index_to_date(index: ir.IntegerValue) -> ir.DateValue:
    return ibis.date(index // 12, index % 12 + 1, 1)


# -- the query ------------------------------------------------------------------------------


@dataclass
class Counts:
    """The tidy result before statistics: one row per cell, keys then numerator and denominator."""

    frame: pd.DataFrame
    keys: list[str]
    level: str
    grain: str
    notes: list[str]


def aggregate(query: Query, indicator: Indicator, ctx: QueryContext) -> Counts:
    """Run the query: numerator and denominator for every cell of the complete table."""
    validate(query, indicator, ctx)
    level = query.level or ctx.event_level
    grain = query.grain
    by = list(query.by)
    notes: list[str] = []
    t = _fact(ctx, indicator.base.subject)

    period_keys = periods(ctx, grain, query.where)
    if grain == "rolling12":
        offsets = ibis.memtable({"offset": list(range(12))})
        t = t.cross_join(offsets)
        t = t.mutate(month=t.month.cast("date") + t.offset.as_interval("M"))
        t = t.mutate(month=t.month.cast("date"))
    filters = dict(indicator.base.where)
    if indicator.kind in ("count", "rate", "distribution"):
        filters.update(indicator.numerator)
    conds = [_condition(t, k, v, ctx) for k, v in filters.items()]
    for key, values in query.where.items():
        if key in PERIOD_FILTERS:
            continue
        if key == "territory":
            continue
        conds.append(_condition(t, key, values, ctx))
    if period_keys:
        lo, _ = period_span(period_keys[0], grain)
        _, hi = period_span(period_keys[-1], grain)
        if grain == "rolling12":
            lo = period_keys[0]
        conds.append(t.month.between(lo, hi))
    else:
        conds.append(ibis.literal(False))
    for c in conds:
        t = t.filter(c)

    tkeys = territory_keys(ctx, level)
    keymap = ibis.memtable(tkeys.rename(columns={"code": "t_code", "key": "territory"}))
    t = t.left_join(keymap, t.territory_code == keymap.t_code)
    t = t.mutate(territory=t.territory.fill_null(UNKNOWN)).drop("t_code")
    if "territory" in query.where:
        inside = _territories_within(ctx, query.where["territory"], tkeys)
        t = t.filter(t.territory.isin(inside))

    t = t.mutate(period=_period_key(t, grain))
    if "age" in by:
        t = t.mutate(age=_age_key(t, ctx))
    keys = [d for d in ("territory", "period") if d in by] + [d for d in by if d not in ("territory", "period")]
    if indicator.kind == "share":
        num_cond = ibis.literal(True)
        for k, v in indicator.numerator.items():
            num_cond = num_cond & _condition(t, k, v, ctx)
        agg = t.group_by(keys).aggregate(numerator=t.count(where=num_cond), denominator=t.count()) if keys else \
            t.aggregate(numerator=t.count(where=num_cond), denominator=t.count())
    else:
        agg = t.group_by(keys).aggregate(numerator=t.count()) if keys else t.aggregate(numerator=t.count())
    if "period" in keys:
        agg = agg.mutate(period=_index_to_date(agg.period))

    if keys:
        grid = _grid(ctx, indicator, query, keys, level, period_keys, tkeys)
        # the grid with its counts, then the keys the grid did not expect (unknown sex, "<state>_U")
        joined = grid.left_join(agg, [grid[k] == agg[k] for k in keys]).select(
            *[grid[k] for k in keys], *[agg[c] for c in agg.columns if c not in keys])
        extra = agg.anti_join(grid, [agg[k] == grid[k] for k in keys])
        agg = joined.union(extra.select(*joined.columns))
    if indicator.kind == "rate":
        agg = _join_population(agg, indicator, query, ctx, keys, level, grain, notes)
    if keys:
        agg = agg.order_by(keys)
    counts = agg.to_pyarrow().to_pandas()  # dates arrive as datetime.date
    counts["numerator"] = counts["numerator"].fillna(0).astype("int64")
    if indicator.kind == "share":
        counts["denominator"] = counts["denominator"].fillna(0).astype("int64")
    elif indicator.kind == "distribution":
        rest = [k for k in keys if k != indicator.over]
        counts["denominator"] = (counts.groupby(rest)["numerator"].transform("sum") if rest
                                 else counts["numerator"].sum())
    elif indicator.kind == "rate" and counts["denominator"].isna().any() and len(counts):
        notes.append(f"{int(counts['denominator'].isna().sum())} cell(s) have no population (unspecified "
                     "territory, unknown sex or age, or a year without population): their rate is left empty")
    return Counts(counts, keys, level, grain, notes)


def _territories_within(ctx: QueryContext, codes: tuple[str, ...], tkeys: pd.DataFrame) -> list[str]:
    """The keys at the query's level that lie inside any of `codes` (or are them)."""
    terr = ctx.territories.set_index("code")
    inside = set()
    for code in tkeys.code:
        c = code
        while c in terr.index:
            if c in codes:
                inside.add(code)
                break
            c = terr.loc[c, "parent_code"]
    keys = set(tkeys.loc[tkeys.code.isin(inside), "key"])
    return sorted(keys)


def _grid(ctx: QueryContext, indicator: Indicator, query: Query, keys: list[str], level: str,
          period_keys: list[dt.date], tkeys: pd.DataFrame) -> ir.Table:
    """Every combination of the keys' expected values (those that may be 0), as a cross join."""
    grid: ir.Table | None = None
    for k in keys:
        if k == "territory":
            terr = ctx.territories
            values: list[Any] = sorted(terr.loc[terr.level == level, "code"])
            if "territory" in query.where:
                inside = set(_territories_within(ctx, query.where["territory"], tkeys))
                values = [c for c in values if c in inside]
        elif k == "period":
            values = period_keys
        elif k == "age":
            values = age_labels(ctx.settings)
        elif k == "sex":
            values = ["F", "M"]
        elif k == "source":
            values = list(ctx.sources)
        else:
            values = [c for c, _, _ in DIMENSIONS[k].values if c != "femicide"]
        if k in query.where and k != "territory":
            values = [v for v in values if str(v) in query.where[k]]
        if k in indicator.numerator and k != "age":
            wanted = {str(v) for v in indicator.numerator[k]}
            values = [v for v in values if str(v) in wanted]
        schema = {k: "date" if k == "period" else "string"}
        column = ibis.memtable(pd.DataFrame({k: pd.Series(values, dtype=object)}), schema=schema)
        grid = column if grid is None else grid.cross_join(column)
    assert grid is not None
    return grid


def _join_population(agg: ir.Table, indicator: Indicator, query: Query, ctx: QueryContext,
                     keys: list[str], level: str, grain: str, notes: list[str]) -> ir.Table:
    """Add the denominator: the mid-year population of each cell's territory, year, sex and age.

    A period's population is that of its year (a rolling window's: the year it ends in); a
    figure over several years divides by the sum of their populations (person-years).
    """
    den = indicator.population or {}
    pop = ctx.table("population")
    if "sex" in keys:
        pop = pop.filter(pop.sex.isin(["F", "M"]))
    else:
        pop = pop.filter(pop.sex == str(den.get("sex", TOTAL)))
    age_range = den.get("age")
    if "age" in keys:
        mapping = []
        for name, (lo, hi) in ctx.settings["age_groups.aggregations"].items():
            try:
                mapping += [(g, name) for g in five_year_groups_in(int(lo), int(hi))]
            except ValueError:
                notes.append(f"age group {name} does not follow five-year population groups: no rate for it")
        amap = ibis.memtable(pd.DataFrame(mapping, columns=["age_group", "age_key"]))
        pop = pop.join(amap, "age_group")
        pop = pop.mutate(age=pop.age_key)
    elif age_range:
        pop = pop.filter(pop.age_group.isin(five_year_groups_in(int(age_range[0]), int(age_range[1]))))
    else:
        pop = pop.filter(pop.age_group == TOTAL)
    order = ctx.levels
    usable = [lv for lv in order[order.index(level):] if lv in ctx.population_levels]
    if not usable:
        notes.append(f"no population at level {level} or below: rates cannot be computed")
        return agg.mutate(denominator=ibis.null("float64"))
    tk = territory_keys(ctx, level)
    tk = tk[tk.code.isin(set(ctx.territories.loc[ctx.territories.level == usable[0], "code"]))]
    if "territory" in query.where:
        tk = tk[tk.key.isin(_territories_within(ctx, query.where["territory"], territory_keys(ctx, level)))]
    keymap = ibis.memtable(tk.rename(columns={"code": "t_code", "key": "territory"}))
    pop = pop.join(keymap, pop.territory_code == keymap.t_code)
    if "period" not in keys:
        years = sorted({period_span(k, grain)[1].year for k in periods(ctx, grain, query.where)})
        if len(years) > 1:
            notes.append("a rate over several years uses the sum of their mid-year populations (person-years)")
        pop = pop.filter(pop.year.isin(years))
    group = [k for k in ("territory", "sex", "age") if k in keys] + (["year"] if "period" in keys else [])
    pop_agg = (pop.group_by(group).aggregate(denominator=pop.population.sum()) if group
               else pop.aggregate(denominator=pop.population.sum()))
    if not group:
        return agg.cross_join(pop_agg)
    if "period" in keys:
        agg = agg.mutate(_year=agg.period.year())
    preds = [agg[k] == pop_agg[k] for k in group if k != "year"]
    if "period" in keys:
        preds.append(agg._year == pop_agg.year)
    out = agg.left_join(pop_agg, preds)
    return out.select(*[out[c] for c in agg.columns if c != "_year"], out.denominator)
