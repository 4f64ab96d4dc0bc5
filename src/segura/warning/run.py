"""Aberration detection on a workspace's indicator series, one monthly count series per territory,
and the stored alerts it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segura.errors import SeguraError
from segura.indicators import Query, run_query
from segura.indicators.dimensions import UNKNOWN


@dataclass
class Scan:
    """One detection run: its alarms, the months it judged, and how many methods could judge each cell."""

    alarms: pd.DataFrame
    window: list[str]
    deciding: dict[tuple[str, str], int]
    notes: list[str] = field(default_factory=list)


def scan(con: Any, settings: Any, root: Path, indicator: str, *, level: str, methods: tuple[str, ...],
         last: int = 12, alpha: float = 0.01, grain: str = "month") -> Scan:
    """The alarms of the last `last` months (or ISO weeks) of `indicator`'s counts by territory of
    `level` (each alarm: territory, period, method, observed, expected, threshold, score). Reads
    the warehouse without disclosure control: alerts are for the observatory's analysts."""
    from segura.warning.aberration import detect

    notes: list[str] = []
    if grain == "month":
        result = run_query(con, settings, Query(indicator, ("territory", "period"), {}, level=level, grain="month"),
                           root=root, protect=False, changes=False)
        frame = result.frame
        frame = frame[~frame["territory"].astype(str).str.endswith(UNKNOWN)]
        cube = frame.pivot_table(index="territory", columns="period", values="numerator", aggfunc="first").fillna(0.0)
        names = dict(zip(frame["territory"], frame["territory_name"], strict=False))
    elif grain == "week":
        from segura.indicators import duckdb_context
        from segura.indicators.catalogue import load_catalogue
        from segura.indicators.weekly import weekly_counts

        weekly = weekly_counts(duckdb_context(con, settings), load_catalogue(root), indicator, level)
        cube, names = weekly.cube, weekly.names
        if weekly.undated:
            notes.append(f"{weekly.undated:,} events without a known day are not in the weekly series")
        if weekly.unplaced:
            notes.append(f"{weekly.unplaced:,} events placed only in a coarser territory than {level} are left out")
    else:
        raise SeguraError(f"grain {grain!r}: expected month or week")
    if cube.shape[1] < 13:
        raise SeguraError(f"{indicator}: {cube.shape[1]} {grain}s of data; aberration detection needs at least 13")
    detection = detect(cube, list(cube.columns), freq="week" if grain == "week" else "month", methods=methods,
                       alpha=alpha)
    window = [str(p) for p in list(cube.columns)[-last:]]
    decided = detection.frame()
    decided = decided[decided["period"].astype(str).isin(window)]
    deciding = {(str(s), str(p)): int(n) for (s, p), n in decided.groupby(["series", "period"]).size().items()}
    found = decided[decided["alarm"]]
    # an alert is an excess: EARS C3 sums the two previous months' excesses and can alarm on a month
    # with no case at all, and a flat zero baseline gives an infinite score; neither is news
    found = found[found["observed"] > found["expected"]]
    found = found.assign(score=found["score"].where(np.isfinite(found["score"])))
    found = found.rename(columns={"series": "territory"}).drop(columns="t")
    found.insert(1, "territory_name", [names.get(t, t) for t in found["territory"]])
    alarms = found.sort_values(["period", "score"], ascending=[False, False]).reset_index(drop=True)
    return Scan(alarms=alarms, window=window, deciding=deciding, notes=notes)


def alerts(con: Any, settings: Any, root: Path, indicator: str, *, level: str, methods: tuple[str, ...],
           last: int = 12, alpha: float = 0.01, grain: str = "month") -> pd.DataFrame:
    """The alarms of `scan`, one row per territory, period and method."""
    return scan(con, settings, root, indicator, level=level, methods=methods, last=last, alpha=alpha,
                grain=grain).alarms


@dataclass
class AlertRun:
    """What `detect_alerts` did, indicator by indicator."""

    scans: dict[str, Scan]
    recorded: dict[str, Any]
    delivered: Any | None


def detect_alerts(ws: Any, indicators: list[str] | None = None, *, level: str | None = None,
                  methods: tuple[str, ...] | None = None, last: int = 12, deliver: bool = True,
                  grain: str = "month") -> AlertRun:
    """Scan the workspace's watched indicators, store their alerts in `alerts.sqlite` and (unless
    `deliver` is false) send the new ones to the subscribers."""
    from segura.warning.aberration import METHODS
    from segura.warning.deliver import deliver as send
    from segura.warning.store import AlertStore

    settings = ws.settings
    level = level or str(settings["alerts.level"])
    methods = methods or METHODS
    store = AlertStore.of(ws.root)
    scans: dict[str, Scan] = {}
    recorded: dict[str, Any] = {}
    with ws.warehouse(read_only=True) as wh:
        for indicator in indicators or list(settings["alerts.indicators"]):
            s = scan(wh.con, settings, ws.root, indicator, level=level, methods=methods, last=last,
                     alpha=float(settings["alerts.alpha"]), grain=grain)
            scans[indicator] = s
            recorded[indicator] = store.record(indicator, level, grain, s.alarms, s.window, s.deciding)
    delivered = send(store, ws.root, sender=str(settings["alerts.email_from"]),
                     portal=str(settings["portal.base_url"])) if deliver else None
    return AlertRun(scans=scans, recorded=recorded, delivered=delivered)
