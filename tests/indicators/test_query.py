"""The query modeler: complete tables that add up across levels, rates from the right population,
and an allow-list that no user text gets through."""

from __future__ import annotations

import pandas as pd
import pytest

from segura.indicators import Query, QueryContext, QueryError, parse_where
from segura.indicators.catalogue import Catalogue
from segura.indicators.query import aggregate


def counts(ctx: QueryContext, catalogue: Catalogue, indicator: str, by: tuple[str, ...], **kw: object) -> pd.DataFrame:
    q = Query(indicator, by, **kw)  # type: ignore[arg-type]
    return aggregate(q, catalogue.get(indicator), ctx).frame


def state_of(key: str) -> str:
    return key[:2]


@pytest.mark.parametrize("extra", [(), ("sex",), ("period",)])
def test_municipalities_add_up_to_states_and_states_to_the_nation(ctx: QueryContext, catalogue: Catalogue,
                                                                   extra: tuple[str, ...]) -> None:
    by = ("territory", *extra)
    mun = counts(ctx, catalogue, "homicide_victims", by, level="admin2", grain="month")
    states = counts(ctx, catalogue, "homicide_victims", by, level="admin1", grain="month")
    nation = counts(ctx, catalogue, "homicide_victims", by, level="country", grain="month")
    rest = list(extra)
    mun["state"] = mun["territory"].map(state_of)
    summed = mun.groupby(["state", *rest])["numerator"].sum().rename("summed").reset_index()
    joined = states.merge(summed, left_on=["territory", *rest], right_on=["state", *rest])
    assert len(joined) == len(states)
    assert (joined["numerator"] == joined["summed"]).all()
    national = states.groupby(rest)["numerator"].sum() if rest else states["numerator"].sum()
    by_nation = nation.set_index(rest)["numerator"] if rest else nation["numerator"].sum()
    assert (national == by_nation).all() if rest else national == by_nation
    with_victims = ctx.table("victim").filter(ctx.table("victim").run_id == ctx.run_id).count().to_pandas()
    assert nation["numerator"].sum() == mun["numerator"].sum() == with_victims - _non_homicides(ctx)


def _non_homicides(ctx: QueryContext) -> int:
    v = ctx.table("victim")
    v = v.filter((v.run_id == ctx.run_id) & ~v.iccs_code.startswith("0101"))
    return int(v.count().to_pandas())


def test_the_table_is_complete_with_zeros(ctx: QueryContext, catalogue: Catalogue) -> None:
    frame = counts(ctx, catalogue, "femicide_victims", ("territory", "period"), level="admin2", grain="quarter")
    municipalities = (ctx.territories.level == "admin2").sum()
    assert len(frame) >= municipalities * 8  # 2 years x 4 quarters, every municipality
    assert (frame["numerator"] == 0).sum() > len(frame) / 2  # most municipality-quarters have no femicide


def test_a_rolling_window_ending_in_december_is_the_year(ctx: QueryContext, catalogue: Catalogue) -> None:
    rolling = counts(ctx, catalogue, "homicide_victims", ("territory", "period"), level="admin1", grain="rolling12")
    years = counts(ctx, catalogue, "homicide_victims", ("territory", "period"), level="admin1", grain="year")
    december = rolling[rolling["period"].map(lambda d: d.month == 12)]
    assert len(december) == 4  # two states x the windows ending 2014-12 and 2015-12
    merged = december.assign(year=december["period"].map(lambda d: d.year)).merge(
        years.assign(year=years["period"].map(lambda d: d.year)), on=["territory", "year"])
    assert (merged["numerator_x"] == merged["numerator_y"]).all()
    # windows only where 12 months of data exist: 2014-12 ... 2015-12
    assert sorted({d.isoformat()[:7] for d in rolling["period"]})[0] == "2014-12"


def test_rates_use_the_summed_population_of_the_territory(ctx: QueryContext, catalogue: Catalogue) -> None:
    frame = counts(ctx, catalogue, "femicide_rate", ("territory",), level="admin1", where={"year": ("2015",)})
    pop = ctx.table("population").to_pandas()
    female = pop[(pop.year == 2015) & (pop.sex == "F") & (pop.age_group == "_T") & (pop.territory_code.str.len() == 5)]
    expected = female.groupby(female.territory_code.str[:2])["population"].sum()
    for row in frame.itertuples():
        assert row.denominator == expected[row.territory]


def test_a_share_counts_its_numerator_within_its_base(ctx: QueryContext, catalogue: Catalogue) -> None:
    share = counts(ctx, catalogue, "homicide_firearm_share", ("territory",), level="admin1")
    homicides = counts(ctx, catalogue, "homicide_victims", ("territory", "weapon_class"), level="admin1")
    firearm = homicides[homicides.weapon_class == "firearm"].set_index("territory")["numerator"]
    total = homicides.groupby("territory")["numerator"].sum()
    for row in share.itertuples():
        assert row.numerator == firearm[row.territory]
        assert row.denominator == total[row.territory]


def test_a_filter_on_a_territory_keeps_its_descendants(ctx: QueryContext, catalogue: Catalogue) -> None:
    frame = counts(ctx, catalogue, "homicide_victims", ("territory",), level="admin2", where={"territory": ("17",)})
    assert set(frame["territory"].map(state_of)) == {"17"}
    state = counts(ctx, catalogue, "homicide_victims", ("territory",), level="admin1")
    assert frame["numerator"].sum() == state.set_index("territory").loc["17", "numerator"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (Query("sdg_16_1_1", ("weapon_class",)), "cannot be broken down by 'weapon_class'"),
        (Query("sdg_16_1_1", ("territory",), {"colour": ("red",)}), "cannot be filtered by 'colour'"),
        (Query("sdg_16_1_1", ("sex",), {"sex": ("F' OR 1=1 --",)}), "unknown sex value"),
        (Query("sdg_16_1_1", ("territory",), {"territory": ("11; DROP TABLE victim",)}), "unknown territory code"),
        (Query("sdg_16_1_1", ("territory",), {"year": ("2015 OR 1=1",)}), "four-digit years"),
        (Query("sdg_16_1_1", ("territory",), {"from": ("2015-13",)}), "YYYY-MM"),
        (Query("sdg_16_1_1", ("territory",), level="galaxy"), "unknown territory level"),
        (Query("sdg_16_1_1", ("period",), grain="fortnight"), "period grain"),
        (Query("homicide_victims", ("age",), {"age": ("15-30",)}), "unknown age group"),
        (Query("homicide_victims", ("territory",), grain="rolling12"), "windows overlap"),
    ],
)
def test_the_allow_list_refuses_anything_else(ctx: QueryContext, catalogue: Catalogue, query: Query, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        aggregate(query, catalogue.get(query.indicator), ctx)


def test_parse_where_reads_what_people_type() -> None:
    assert parse_where(["year=2015", "sex=F,M"]) == {"year": ("2015",), "sex": ("F", "M")}
    with pytest.raises(QueryError, match="field=value"):
        parse_where(["2015"])
