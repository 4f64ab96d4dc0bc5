"""What the API and the pages ask of a release: a view, filtered, labelled, as rows.

A query names an indicator, the dimensions to break it down by, a territory level, a period
grain and filters. It is answered from the release's query cubes only: the view with exactly
those dimensions (period is always one), filtered row by row. Filtering never adds cells up, so
it can only show cells disclosure control already published; a breakdown with no view is a 4xx
answer that lists the breakdowns there are. No text from a request reaches SQL: there is none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segura.errors import SeguraError
from segura.portal.release import GRAINS, NATIONAL, Release, View

FILTERS = ("territory", "year", "from", "to")
PERIOD_RE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")
VALUE_COLUMNS = ("numerator", "denominator", "value", "ci_low", "ci_high", "eb_global", "eb_local",
                 "previous_value", "change_previous_pct", "p_previous", "year_ago_value",
                 "change_year_ago_pct", "p_year_ago", "obs_status", "conf_status", "unstable")


class RequestError(SeguraError):
    """A request the release cannot answer as asked (a 4xx answer with this message)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Ask:
    indicator: str
    by: tuple[str, ...] = ()
    level: str | None = None
    grain: str = "year"
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()  # sorted, hashable: the cache key

    @classmethod
    def make(cls, indicator: str, by: Sequence[str] = (), level: str | None = None,
             grain: str = "year", where: Mapping[str, Sequence[str]] | None = None) -> Ask:
        clean = tuple(sorted((k, tuple(sorted({str(x) for x in v}))) for k, v in (where or {}).items() if v))
        dims = tuple(sorted({b for b in by if b and b != "period"}))
        return cls(indicator, dims, level or None, grain, clean)

    @property
    def filters(self) -> dict[str, tuple[str, ...]]:
        return dict(self.where)


@dataclass
class Answer:
    release: Release
    view: View
    ask: Ask
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def descendants(release: Release, codes: tuple[str, ...]) -> set[str]:
    """The codes and every territory below them (with their "_U" unspecified rows)."""
    children: dict[str, list[str]] = {}
    for code, parent in zip(release.territories.code, release.territories.parent_code, strict=True):
        children.setdefault(parent, []).append(code)
    out: set[str] = set()
    stack = list(codes)
    while stack:
        c = stack.pop()
        if c in out:
            continue
        out.add(c)
        out.add(f"{c}_U")
        stack.extend(children.get(c, []))
    return out


def level_of(release: Release, code: str) -> str | None:
    hit = release.territories.loc[release.territories.code == code, "level"]
    return str(hit.iloc[0]) if len(hit) else None


def resolve(release: Release, ask: Ask) -> View:
    """The view that answers `ask`, or a RequestError naming the ones there are."""
    if ask.indicator not in release.indicators:
        raise RequestError(f"unknown indicator {ask.indicator!r}; see /api/v1/indicators", 404)
    if ask.grain not in GRAINS:
        raise RequestError(f"grain must be one of {', '.join(GRAINS)}, not {ask.grain!r}", 422)
    levels = [lv for lv in release.meta["levels"][1:]]
    filters = ask.filters
    unknown = [k for k in filters if k not in FILTERS and k not in release.dimensions]
    if unknown:
        raise RequestError(f"unknown filter {', '.join(unknown)}; filters: {', '.join(FILTERS)} and the dimensions "
                           "of the indicator's breakdowns", 422)
    by = set(ask.by)
    level = ask.level
    if "territory" in by:
        level = level or levels[-1]
        if level not in levels:
            raise RequestError(f"level must be one of {', '.join(levels)}, not {level!r}", 422)
    elif level and level != NATIONAL:
        if level not in levels:
            raise RequestError(f"level must be one of {', '.join([NATIONAL, *levels])}, not {level!r}", 422)
        by.add("territory")
    elif "territory" in filters:
        # a territory's own series: the view at that territory's level
        found = {level_of(release, c) for c in filters["territory"]}
        if None in found or len(found) != 1:
            raise RequestError("territory filter: unknown code(s) or codes of different levels: "
                               f"{', '.join(filters['territory'])}", 422)
        level = found.pop()
        if level != release.meta["levels"][0]:
            by.add("territory")
        else:
            level = NATIONAL
    else:
        level = NATIONAL
    wanted = ("territory", "period") if "territory" in by else ("period",)
    rest = tuple(sorted(by - {"territory", "period"}))
    for view in release.views_of(ask.indicator):
        if view.level == level and view.grain == ask.grain and set(view.by) == set(wanted) | set(rest):
            return view
    offered = sorted({f"{'+'.join(v.by)} at {v.level} by {v.grain}" for v in release.views_of(ask.indicator)})
    raise RequestError(
        f"{ask.indicator}: no published table by {'+'.join([*wanted, *rest])} at {level} by {ask.grain} "
        f"(disclosure control publishes only these breakdowns): {'; '.join(offered)}", 404)


def answer(release: Release, ask: Ask, lang: str = "en") -> Answer:
    view = resolve(release, ask)
    frame = release.frame(ask.indicator, view.id)
    mask = np.ones(len(frame), dtype=bool)
    for key, values in ask.filters.items():
        if key == "territory":
            if "territory" in frame.columns:
                mask &= frame["territory"].isin(descendants(release, values)).to_numpy()
        elif key in ("year", "from", "to"):
            for v in values:
                if not PERIOD_RE.match(v):
                    raise RequestError(f"{key}: expected YYYY or YYYY-MM (ISO 8601), found {v!r}", 422)
            periods = frame["period"].astype(str)
            if key == "year":
                mask &= periods.str.slice(0, 4).isin([v[:4] for v in values]).to_numpy()
            elif key == "from":  # periods that end on or after the month
                mask &= (periods.map(lambda p: _months(p)[1]) >= _month(min(values), last=False)).to_numpy()
            else:  # periods that start on or before the month
                mask &= (periods.map(lambda p: _months(p)[0]) <= _month(max(values), last=True)).to_numpy()
        else:
            if key not in frame.columns:
                raise RequestError(f"filter {key}: {ask.indicator} is not broken down by {key} in this view; "
                                   f"add by={key}", 422)
            known = set(frame[key].astype(str))
            bad = [v for v in values if v not in known]
            if bad:
                raise RequestError(f"{key}: unknown value(s) {', '.join(bad)}; expected one of "
                                   f"{', '.join(sorted(known))}", 422)
            mask &= frame[key].astype(str).isin(values).to_numpy()
    out = frame.loc[mask].reset_index(drop=True)
    out = labelled(release, out, lang)
    notes = list(release.views[(ask.indicator, view.id)].get("notes", []))
    if ask.where and notes:  # the notes were written for the whole table, not for the rows kept
        notes = [f"{view.id} (whole table): {n}" for n in notes]
    return Answer(release, view, ask, out, notes)


def labelled(release: Release, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Codes keep their columns; a label column in `lang` follows each."""
    out = frame.copy()
    cols: list[str] = ["indicator"]
    for k in frame.columns:
        if k in ("indicator", *VALUE_COLUMNS):
            continue
        cols.append(k)
        if k == "territory":
            out["territory_name"] = [release.label("territory", c, lang) for c in frame[k]]
            cols.append("territory_name")
        elif k != "period":
            out[f"{k}_label"] = [release.label(k, c, lang) for c in frame[k]]
            cols.append(f"{k}_label")
    return out[[*cols, *[c for c in VALUE_COLUMNS if c in frame.columns]]]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows: NaN -> None, numpy scalars -> Python."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def _plain(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float | np.floating):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def _month(v: str, *, last: bool) -> str:
    """'2015' -> '2015-01' (or '2015-12' with `last`); '2015-03' stays."""
    return v if len(v) == 7 else f"{v}-12" if last else f"{v}-01"


def _months(period: str) -> tuple[str, str]:
    """The first and last month (YYYY-MM) of an ISO 8601 period: 2015, 2015-Q2 or 2015-03."""
    if len(period) == 4:
        return f"{period}-01", f"{period}-12"
    if "-Q" in period:
        q = int(period[-1])
        return f"{period[:4]}-{3 * q - 2:02d}", f"{period[:4]}-{3 * q:02d}"
    return period[:7], period[:7]
