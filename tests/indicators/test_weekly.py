"""Weekly counts for early warning, against the warehouse counted again in plain SQL."""

from __future__ import annotations

import datetime as dt

import pytest

from segura.indicators import QueryContext
from segura.indicators.catalogue import Catalogue
from segura.indicators.query import QueryError
from segura.indicators.weekly import covered_weeks, iso_week, weekly_counts


def test_covered_weeks_are_whole_iso_weeks_inside_the_months() -> None:
    weeks = covered_weeks([dt.date(2015, 1, 1), dt.date(2015, 2, 1)])
    # 2014-12-29 starts in December, 2015-02-23 ends in March: neither is covered
    assert weeks[0] == dt.date(2015, 1, 5) and weeks[-1] == dt.date(2015, 2, 16)
    assert all(w.weekday() == 0 for w in weeks) and len(weeks) == 7
    gap = covered_weeks([dt.date(2015, 1, 1), dt.date(2015, 3, 1)])  # February not covered
    assert all(w.month != 2 and (w + dt.timedelta(days=6)).month != 2 for w in gap)
    assert iso_week(dt.date(2015, 12, 28)) == "2015-W53" and iso_week(dt.date(2016, 1, 4)) == "2016-W01"


def test_weekly_homicides_match_a_plain_count(ctx: QueryContext, catalogue: Catalogue) -> None:
    w = weekly_counts(ctx, catalogue, "homicide_victims", "admin2")
    assert w.undated == 0  # reconciled victims always carry a day
    lo, hi = w.weeks[0], w.weeks[-1] + dt.timedelta(days=6)
    con = ctx.backend.con
    rows = con.execute(
        "SELECT v.territory_code, date_trunc('week', v.event_date)::DATE AS week, count(*) FROM victim v "
        "WHERE v.run_id = ? AND v.iccs_code LIKE '0101%' AND v.event_date BETWEEN ? AND ? GROUP BY 1, 2",
        [ctx.run_id, lo, hi]).fetchall()
    admin2 = set(w.cube.index)
    expected: dict[tuple[str, str], int] = {}
    outside = 0
    for code, week, n in rows:
        if code in admin2:
            key = (code, iso_week(week))
            expected[key] = expected.get(key, 0) + n
        else:
            outside += n
    got = {(t, p): int(v) for (t, p), v in w.cube.stack().items() if v}
    assert got == expected
    assert w.unplaced == outside
    assert list(w.cube.columns) == [iso_week(d) for d in w.weeks]
    with pytest.raises(QueryError, match="distribution"):
        weekly_counts(ctx, catalogue, "victim_perpetrator_relationship", "admin2")
