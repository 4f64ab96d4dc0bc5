"""Aberration detection on a workspace's indicator series, one monthly count series per territory,
and the stored alerts it raises."""

from __future__ import annotations

from dataclasses import dataclass
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


def scan(con: Any, settings: Any, root: Path, indicator: str, *, level: str, methods: tuple[str, ...],
         last: int = 12, alpha: float = 0.01) -> Scan:
    """The alarms of the last `last` months of `indicator`'s monthly counts by territory of `level`
    (each alarm: territory, period, method, observed, expected, threshold, score). Reads the
    warehouse without disclosure control: alerts are for the observatory's analysts."""
    from segura.warning.aberration import detect

    result = run_query(con, settings, Query(indicator, ("territory", "period"), {}, level=level, grain="month"),
                       root=root, protect=False, changes=False)
    frame = result.frame
    frame = frame[~frame["territory"].astype(str).str.endswith(UNKNOWN)]
    cube = frame.pivot_table(index="territory", columns="period", values="numerator", aggfunc="first").fillna(0.0)
    if cube.shape[1] < 13:
        raise SeguraError(f"{indicator}: {cube.shape[1]} months of data; aberration detection needs more than a year")
    detection = detect(cube, list(cube.columns), freq="month", methods=methods, alpha=alpha)
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
    names = dict(zip(frame["territory"], frame["territory_name"], strict=False))
    found.insert(1, "territory_name", [names.get(t, t) for t in found["territory"]])
    alarms = found.sort_values(["period", "score"], ascending=[False, False]).reset_index(drop=True)
    return Scan(alarms=alarms, window=window, deciding=deciding)


def alerts(con: Any, settings: Any, root: Path, indicator: str, *, level: str, methods: tuple[str, ...],
           last: int = 12, alpha: float = 0.01) -> pd.DataFrame:
    """The alarms of `scan`, one row per territory, month and method."""
    return scan(con, settings, root, indicator, level=level, methods=methods, last=last, alpha=alpha).alarms


@dataclass
class AlertRun:
    """What `detect_alerts` did, indicator by indicator."""

    scans: dict[str, Scan]
    recorded: dict[str, Any]
    delivered: Any | None


def detect_alerts(ws: Any, indicators: list[str] | None = None, *, level: str | None = None,
                  methods: tuple[str, ...] | None = None, last: int = 12, deliver: bool = True) -> AlertRun:
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
                     alpha=float(settings["alerts.alpha"]))
            scans[indicator] = s
            recorded[indicator] = store.record(indicator, level, "month", s.alarms, s.window, s.deciding)
    delivered = send(store, ws.root, sender=str(settings["alerts.email_from"]),
                     portal=str(settings["portal.base_url"])) if deliver else None
    return AlertRun(scans=scans, recorded=recorded, delivered=delivered)
