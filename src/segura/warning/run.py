"""Aberration detection on a workspace's indicator series: one monthly count series per territory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segura.errors import SeguraError
from segura.indicators import Query, run_query
from segura.indicators.dimensions import UNKNOWN


def alerts(con: Any, settings: Any, root: Path, indicator: str, *, level: str, methods: tuple[str, ...],
           last: int = 12, alpha: float = 0.01) -> pd.DataFrame:
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
    found = detect(cube, list(cube.columns), freq="month", methods=methods, alpha=alpha).alerts()
    recent = set(list(cube.columns)[-last:])
    # an alert is an excess: EARS C3 sums the two previous months' excesses and can alarm on a month
    # with no case at all, and a flat zero baseline gives an infinite score; neither is news
    found = found[found["period"].isin(recent) & (found["observed"] > found["expected"])]
    found = found.assign(score=found["score"].where(np.isfinite(found["score"])))
    found = found.rename(columns={"series": "territory"})
    names = dict(zip(frame["territory"], frame["territory_name"], strict=False))
    found.insert(1, "territory_name", [names.get(t, t) for t in found["territory"]])
    return found.sort_values(["period", "score"], ascending=[False, False]).reset_index(drop=True)
