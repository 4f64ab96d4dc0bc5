"""Write an indicator result as CSV, XLSX, Parquet, JSON or SDMX-CSV 2.0.

Text cells go through `store.export.neutralise` in every format, so a territory name that
starts with "=" cannot run as a formula when a journalist opens the file. CSV and SDMX-CSV
are UTF-8 with a byte order mark (Excel reads the accents), numbers use a dot as decimal mark.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segura.indicators.compute import Result
from segura.store.export import neutralise, write_csv, write_xlsx_sheets

FORMATS = ("csv", "xlsx", "parquet", "json", "sdmx-csv")
AGENCY = "SEGURA"
FREQ = {"month": "M", "quarter": "Q", "year": "A", "rolling12": "A"}


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return neutralise(value)


def rows(result: Result) -> tuple[list[str], list[list[Any]]]:
    header = list(result.frame.columns)
    return header, [[_clean(v) for v in row] for row in result.frame.itertuples(index=False, name=None)]


def metadata(result: Result) -> dict[str, Any]:
    ind = result.indicator.to_dict(result.lang)
    return {
        "indicator": ind,
        "query": {
            "by": list(result.query.by),
            "where": {k: list(v) for k, v in result.query.where.items()},
            "territory_level": result.query.level,
            "period": result.query.grain,
        },
        "disclosure_control": result.protected,
        "notes": result.notes,
    }


def write_result(result: Result, path: Path, fmt: str) -> int:
    """Write `result` to `path` in `fmt`; returns the rows written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    header, data = rows(result)
    if fmt == "csv":
        return write_csv(path, header, data)
    if fmt == "xlsx":
        meta = metadata(result)
        about = [[k, json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v]
                 for k, v in {**meta["indicator"], "query": meta["query"], "notes": meta["notes"],
                              "disclosure_control": meta["disclosure_control"]}.items()]
        return write_xlsx_sheets(path, [("data", header, data), ("about", ["field", "value"], about)])[0]
    if fmt == "parquet":
        table = pa.Table.from_pylist([dict(zip(header, r, strict=True)) for r in data]) if data else \
            pa.table({h: pa.array([], pa.string()) for h in header})
        table = table.replace_schema_metadata({"segura": json.dumps(metadata(result), ensure_ascii=False)})
        pq.write_table(table, path)
        return len(data)
    if fmt == "json":
        doc = {**metadata(result), "data": [dict(zip(header, r, strict=True)) for r in data]}
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        return len(data)
    return _write_sdmx_csv(result, path)


def _write_sdmx_csv(result: Result, path: Path) -> int:
    """SDMX-CSV 2.0: STRUCTURE, STRUCTURE_ID, ACTION, dimensions, OBS_VALUE, attributes."""
    frame = result.frame
    dims = [("REF_AREA", "territory"), ("TIME_PERIOD", "period")] + [
        (k.upper(), k) for k in result.keys if k not in ("territory", "period")
    ]
    dims = [(name, col) for name, col in dims if col in frame.columns]
    header = ["STRUCTURE", "STRUCTURE_ID", "ACTION", "INDICATOR", "FREQ", *[d for d, _ in dims],
              "OBS_VALUE", "UNIT_MEASURE", "UNIT_MULT", "OBS_STATUS", "CONF_STATUS"]
    structure_id = f"{AGENCY}:{result.indicator.id.upper()}(1.0)"
    unit = result.indicator.unit("en")
    freq = FREQ[result.query.grain]
    out = []
    for rec in frame.to_dict(orient="records"):
        value = rec.get("value")
        out.append([
            "dataflow", structure_id, "I", result.indicator.id.upper(), freq,
            *[_clean(rec[col]) for _, col in dims],
            None if value is None or (isinstance(value, float) and math.isnan(value)) else round(float(value), 6),
            unit, 0, rec.get("obs_status"), rec.get("conf_status"),
        ])
    return write_csv(path, header, out)
