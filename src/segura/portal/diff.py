"""What changed between two releases: cells whose value or flag moved, cells added and removed.

Views are compared when both releases have them, on their key columns (territory, period and
the breakdown's dimensions); a cell "changed" when its value differs by more than rounding
(1e-9 relative) or its confidentiality flag changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segura.portal.release import Release

KEY_EXCLUDE = {"indicator", "numerator", "denominator", "value", "ci_low", "ci_high", "eb_global", "eb_local",
               "previous_value", "change_previous_pct", "p_previous", "year_ago_value", "change_year_ago_pct",
               "p_year_ago", "obs_status", "conf_status", "unstable"}


@dataclass
class IndicatorDiff:
    indicator: str
    changed: int = 0
    added: int = 0
    removed: int = 0
    views_added: list[str] = field(default_factory=list)
    views_removed: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)


def compare(a: Release, b: Release, *, examples: int = 20) -> list[IndicatorDiff]:
    out = []
    for ind in sorted(set(a.indicators) | set(b.indicators)):
        d = IndicatorDiff(ind)
        va = {v for i, v in a.views if i == ind}
        vb = {v for i, v in b.views if i == ind}
        d.views_added = sorted(vb - va)
        d.views_removed = sorted(va - vb)
        for view in sorted(va & vb):
            fa, fb = a.frame(ind, view), b.frame(ind, view)
            keys = [c for c in fa.columns if c not in KEY_EXCLUDE]
            m = fa[[*keys, "value", "conf_status"]].merge(fb[[*keys, "value", "conf_status"]], on=keys, how="outer",
                                                         suffixes=("_a", "_b"), indicator=True)
            d.added += int((m["_merge"] == "right_only").sum())
            d.removed += int((m["_merge"] == "left_only").sum())
            both = m[m["_merge"] == "both"]
            va_, vb_ = both["value_a"].to_numpy(dtype=float), both["value_b"].to_numpy(dtype=float)
            nan_diff = np.isnan(va_) != np.isnan(vb_)
            with np.errstate(invalid="ignore"):
                val_diff = ~np.isnan(va_) & ~np.isnan(vb_) & (np.abs(va_ - vb_) > 1e-9 * np.maximum(1, np.abs(va_)))
            flag_diff = (both["conf_status_a"] != both["conf_status_b"]).to_numpy()
            moved = both[nan_diff | val_diff | flag_diff]
            d.changed += len(moved)
            for row in moved.head(max(0, examples - len(d.examples))).to_dict(orient="records"):
                d.examples.append({"view": view, **{k: row[k] for k in keys},
                                   "before": _num(row["value_a"]), "after": _num(row["value_b"]),
                                   "flag_before": row["conf_status_a"], "flag_after": row["conf_status_b"]})
        out.append(d)
    return out


def _num(v: Any) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) else float(v)
