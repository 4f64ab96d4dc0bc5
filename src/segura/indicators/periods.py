"""Periods: which months, quarters, years and rolling 12-month windows the extracts cover, their
spans and their ISO 8601 / SDMX labels."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from segura.indicators.query import QueryContext


def _parse_month(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text + "-01") if len(text) == 7 else None
    except ValueError:
        return None


def periods(ctx: QueryContext, grain: str, where: dict[str, tuple[str, ...]]) -> list[dt.date]:
    """The period keys (first month; for rolling windows the last month) the extracts cover, filtered.

    A quarter or year is kept when any of its months is covered (see `partial_periods`); a
    rolling window only when all its 12 months are.
    """
    covered = set(ctx.months)
    if grain == "month":
        keys = list(ctx.months)
    elif grain == "quarter":
        keys = sorted({m.replace(month=3 * ((m.month - 1) // 3) + 1) for m in covered})
    elif grain == "year":
        keys = sorted({m.replace(month=1) for m in covered})
    else:
        keys = [m for m in ctx.months if all(_add_months(m, -i) in covered for i in range(12))]
    lo = _parse_month(where["from"][0]) if "from" in where else None
    hi = _parse_month(where["to"][0]) if "to" in where else None
    years = {int(y) for y in where.get("year", ())}
    out = []
    for k in keys:
        start, end = period_span(k, grain)
        if years and end.year not in years:
            continue
        if (lo and start < lo) or (hi and end > hi):
            continue
        out.append(k)
    return out


def partial_periods(ctx: QueryContext, grain: str, keys: list[dt.date]) -> set[dt.date]:
    """The periods some of whose months no extract covers: their figures are partial."""
    covered = set(ctx.months)
    out = set()
    for k in keys:
        start, end = period_span(k, grain)
        m = start
        while m <= end:
            if m not in covered:
                out.add(k)
                break
            m = _add_months(m, 1)
    return out


def period_span(key: dt.date, grain: str) -> tuple[dt.date, dt.date]:
    """First and last month of the period with this key."""
    if grain == "month":
        return key, key
    if grain == "quarter":
        return key, _add_months(key, 2)
    if grain == "year":
        return key, _add_months(key, 11)
    return _add_months(key, -11), key


def period_label(key: dt.date, grain: str) -> str:
    """ISO 8601 / SDMX time period: 2015, 2015-Q2, 2015-03, 2014-04/2015-03."""
    if grain == "month":
        return f"{key:%Y-%m}"
    if grain == "quarter":
        return f"{key.year}-Q{(key.month - 1) // 3 + 1}"
    if grain == "year":
        return f"{key.year}"
    start = _add_months(key, -11)
    return f"{start:%Y-%m}/{key:%Y-%m}"


def _add_months(d: dt.date, n: int) -> dt.date:
    i = d.year * 12 + d.month - 1 + n
    return dt.date(i // 12, i % 12 + 1, 1)
