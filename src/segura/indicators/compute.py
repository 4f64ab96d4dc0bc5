"""An indicator for a query: value, interval, smoothed rates, change, flags and labels.

`compute` turns the modeler's counts (query.py) into the table people read: the figure, its
exact 95% interval, whether it is unstable (too few events to trust), empirical Bayes rates
for small areas, the change against the previous period and the same period a year before
with the p-value of an exact test, SDMX observation and confidentiality flags, and labels in
Spanish or English. With `protect=True` (the default, and always for anything public) cells
below the disclosure threshold and their secondary suppressions are emptied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from segura.indicators import stats
from segura.indicators.catalogue import Catalogue, Indicator
from segura.indicators.dimensions import DIMENSIONS, UNKNOWN
from segura.indicators.periods import partial_periods, period_label, periods
from segura.indicators.query import (
    PERIOD_FILTERS,
    Counts,
    Query,
    QueryContext,
    aggregate,
)

# Columns of a result, in order; dimension columns (code and label) come first.
VALUE_COLUMNS = (
    "numerator", "denominator", "value", "ci_low", "ci_high", "unstable",
    "eb_global", "eb_local",
    "previous_value", "change_previous_pct", "p_previous",
    "year_ago_value", "change_year_ago_pct", "p_year_ago",
    "obs_status", "conf_status",
)


@dataclass
class Result:
    indicator: Indicator
    query: Query
    frame: pd.DataFrame
    keys: list[str]
    notes: list[str] = field(default_factory=list)
    protected: bool = True
    lang: str = "en"

    def records(self) -> list[dict[str, Any]]:
        out = self.frame.astype(object).where(self.frame.notna(), None)
        return [dict(r) for r in out.to_dict(orient="records")]


def compute(
    query: Query,
    ctx: QueryContext,
    catalogue: Catalogue,
    *,
    lang: str = "en",
    protect: bool = True,
    changes: bool = True,
    weights: Any = None,
) -> Result:
    """The indicator table for `query`; see the module docstring for what each column holds."""
    indicator = catalogue.get(query.indicator)
    with_changes = changes and "period" in query.by
    wide = replace(query, where={k: v for k, v in query.where.items() if k not in PERIOD_FILTERS}) \
        if with_changes else query
    counts = aggregate(wide, indicator, ctx)
    frame = counts.frame
    _add_values(frame, indicator, ctx)
    if indicator.kind == "rate" and "territory" in counts.keys:
        _add_smoothing(frame, counts, weights, indicator.multiplier)
    else:
        frame["eb_global"] = np.nan
        frame["eb_local"] = np.nan
    frame["obs_status"] = np.where(frame["value"].isna(), "M", np.where(frame["unstable"], "U", "A"))
    partial: set[dt.date] = set()
    if "period" in counts.keys:
        partial = partial_periods(ctx, query.grain, [p for p in frame["period"] if isinstance(p, dt.date)])
        if partial:
            frame.loc[frame["period"].isin(partial), "obs_status"] = "P"
            shown = ", ".join(sorted(period_label(p, query.grain) for p in partial))
            counts.notes.append(f"{shown}: not every month is covered by the extracts; figures are partial "
                                "(OBS_STATUS P) and not compared with other periods")
    frame["conf_status"] = "F"
    result = Result(indicator, wide, frame, counts.keys, counts.notes, protected=False, lang=lang)
    if protect:
        # before the changes are computed, so that no change or p-value is built on a hidden cell
        from segura.indicators.protect import apply_protection

        apply_protection(result, ctx)
        frame = result.frame
    if with_changes:
        _add_changes(frame, indicator, counts, partial)
        if wide is not query:
            keep = set(periods(ctx, query.grain, query.where))
            frame = frame[frame["period"].isin(keep)].reset_index(drop=True)
    else:
        for c in ("previous_value", "change_previous_pct", "p_previous", "year_ago_value",
                  "change_year_ago_pct", "p_year_ago"):
            frame[c] = np.nan
    result.frame = frame
    result.query = query
    _label(result, ctx, lang)
    return result


def _add_values(frame: pd.DataFrame, indicator: Indicator, ctx: QueryContext) -> None:
    n = frame["numerator"].to_numpy(dtype=float)
    unstable_below = int(ctx.settings["indicators.unstable_below"])
    if indicator.kind == "count":
        frame["denominator"] = np.nan
        frame["value"] = n
        low, high = stats.poisson_interval(n)
        frame["unstable"] = n < unstable_below
    elif indicator.kind == "rate":
        d = frame["denominator"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(d > 0, indicator.multiplier / d, np.nan)
        frame["value"] = n * scale
        low, high = stats.poisson_interval(n)
        low, high = low * scale, high * scale
        frame["unstable"] = n < unstable_below
    else:
        d = frame["denominator"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["value"] = np.where(d > 0, n / d * indicator.multiplier, np.nan)
        low, high = stats.binomial_interval(n, d)
        low, high = low * indicator.multiplier, high * indicator.multiplier
        frame["unstable"] = d < unstable_below
    frame["ci_low"] = low
    frame["ci_high"] = high


def _groups(frame: pd.DataFrame, keys: list[str], without: tuple[str, ...]) -> Any:
    rest = [k for k in keys if k not in without]
    return frame.groupby(rest, sort=False, dropna=False).groups.values() if rest else [frame.index]


def _add_smoothing(frame: pd.DataFrame, counts: Counts, weights: Any, multiplier: float) -> None:
    """Empirical Bayes rates across the territories of each slice (period, sex, age...)."""
    frame["eb_global"] = np.nan
    frame["eb_local"] = np.nan
    areas = ~frame["territory"].astype(str).str.endswith(UNKNOWN)
    for idx in _groups(frame, counts.keys, ("territory",)):
        idx = [i for i in idx if areas.loc[i]]
        if len(idx) < 3:
            continue
        sub = frame.loc[idx]
        e = sub["numerator"].to_numpy(dtype=float)
        b = sub["denominator"].to_numpy(dtype=float)
        factor = multiplier
        frame.loc[idx, "eb_global"] = stats.eb_global(e, b) * factor
        if weights is not None:
            codes = list(sub["territory"])
            w = weights.get(codes)
            if w is not None:
                ok = b > 0
                local = np.full(len(codes), np.nan)
                if ok.all():
                    local = stats.eb_local(e, b, w) * factor
                frame.loc[idx, "eb_local"] = local


def _add_changes(frame: pd.DataFrame, indicator: Indicator, counts: Counts, partial: set[dt.date]) -> None:
    """Change against the previous period and the same period a year before, with exact tests."""
    grain = counts.grain
    year_lag = {"month": 12, "quarter": 4, "year": 1, "rolling12": 12}[grain]
    frame.sort_values([k for k in counts.keys if k != "period"] + ["period"], inplace=True, kind="stable")
    frame.reset_index(drop=True, inplace=True)
    rest = [k for k in counts.keys if k != "period"]
    g = frame.groupby(rest, sort=False, dropna=False) if rest else None
    step = {"month": 1, "quarter": 3, "year": 12, "rolling12": 1}[grain]
    for name, lag_periods, lag_months in (("previous", 1, step), ("year_ago", year_lag, 12)):
        if grain == "rolling12" and name == "previous":
            # consecutive 12-month windows share 11 months: no test of change between them
            frame["previous_value"] = np.nan
            frame["change_previous_pct"] = np.nan
            frame["p_previous"] = np.nan
            continue
        cols = ["numerator", "denominator", "value", "period"]
        shifted = (g[cols].shift(lag_periods) if g is not None else frame[cols].shift(lag_periods))
        expected = [_minus_months(p, lag_months) for p in frame["period"]]
        aligned = shifted["period"].to_numpy() == np.array(expected, dtype=object)
        # a partial period (some months not covered) is compared with nothing
        aligned &= ~frame["period"].isin(partial).to_numpy() & ~shifted["period"].isin(partial).to_numpy()
        prev_value = np.where(aligned, shifted["value"].to_numpy(dtype=float), np.nan)
        frame[f"{name}_value" if name == "year_ago" else "previous_value"] = prev_value
        cur = frame["value"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            change = np.where(prev_value > 0, (cur - prev_value) / prev_value * 100, np.nan)
        change_col = "change_previous_pct" if name == "previous" else "change_year_ago_pct"
        p_col = "p_previous" if name == "previous" else "p_year_ago"
        frame[change_col] = change
        k1 = frame["numerator"].to_numpy(dtype=float)
        k0 = np.where(aligned, shifted["numerator"].to_numpy(dtype=float), np.nan)
        if indicator.kind in ("count", "rate"):
            e1 = frame["denominator"].to_numpy(dtype=float) if indicator.kind == "rate" else np.ones(len(frame))
            e0 = np.where(aligned, shifted["denominator"].to_numpy(dtype=float), np.nan) if indicator.kind == "rate" \
                else np.where(aligned, 1.0, np.nan)
            frame[p_col] = stats.poisson_change_test(k1, e1, k0, e0)
        else:
            n1 = frame["denominator"].to_numpy(dtype=float)
            n0 = np.where(aligned, shifted["denominator"].to_numpy(dtype=float), np.nan)
            frame[p_col] = stats.share_change_test(k1, n1, k0, n0)


def _minus_months(d: Any, n: int) -> Any:
    if not isinstance(d, dt.date):
        return None
    i = d.year * 12 + d.month - 1 - n
    return dt.date(i // 12, i % 12 + 1, 1)


def _label(result: Result, ctx: QueryContext, lang: str) -> None:
    """Codes stay; a label column in `lang` follows each dimension; periods become ISO 8601 text."""
    frame = result.frame
    cols: list[str] = []
    names = dict(zip(ctx.territories.code, ctx.territories.name, strict=False))
    for k in result.keys:
        if k == "territory":
            unspecified = "no especificado" if lang == "es" else "unspecified"
            frame["territory_name"] = [
                names.get(c) or (f"{names.get(c[: -len(UNKNOWN)], '')} ({unspecified})".strip()
                                 if isinstance(c, str) and c.endswith(UNKNOWN) else c)
                for c in frame["territory"]
            ]
            cols += ["territory", "territory_name"]
        elif k == "period":
            frame["period"] = [period_label(p, result.query.grain) if isinstance(p, dt.date) else UNKNOWN
                               for p in frame["period"]]
            cols.append("period")
        else:
            dim = DIMENSIONS[k]
            frame[f"{k}_label"] = [dim.value_label(str(v), lang) if v != UNKNOWN else
                                   ("Desconocido" if lang == "es" else "Unknown") for v in frame[k]]
            cols += [k, f"{k}_label"]
    frame.insert(0, "indicator", result.indicator.id)
    result.frame = frame[["indicator", *cols, *[c for c in VALUE_COLUMNS if c in frame.columns]]]

