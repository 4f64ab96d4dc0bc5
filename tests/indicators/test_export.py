"""Downloads: every format reads back to the same figures; formula payloads are neutralised."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from segura.indicators import Query, QueryContext, compute
from segura.indicators.catalogue import Catalogue
from segura.indicators.export import FORMATS, write_result


@pytest.fixture()
def result(ctx: QueryContext, catalogue: Catalogue):  # type: ignore[no-untyped-def]
    r = compute(Query("sdg_16_1_1", ("territory", "sex"), {"year": ("2015",)}, level="admin1"), ctx, catalogue,
                protect=False, lang="es")
    r.frame.loc[0, "territory_name"] = "=HYPERLINK(\"http://evil\",\"x\")"
    return r


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_with_formulas_neutralised(result, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"out.{fmt}"
    n = write_result(result, path, fmt)
    assert n == len(result.frame)
    if fmt in ("csv", "sdmx-csv"):
        with path.open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    if fmt == "csv":
        names, values = [r["territory_name"] for r in rows], [float(r["value"]) for r in rows if r["value"]]
    elif fmt == "sdmx-csv":
        assert list(rows[0])[:5] == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "INDICATOR", "FREQ"]
        assert rows[0]["STRUCTURE_ID"] == "SEGURA:SDG_16_1_1(1.0)" and rows[0]["FREQ"] == "A"
        assert {"REF_AREA", "SEX", "OBS_VALUE", "OBS_STATUS", "CONF_STATUS"} <= set(rows[0])
        names, values = [], [float(r["OBS_VALUE"]) for r in rows if r["OBS_VALUE"]]
    elif fmt == "xlsx":
        ws = load_workbook(path)["data"]
        header = [c.value for c in ws[1]]
        data = [dict(zip(header, [c.value for c in row], strict=True)) for row in ws.iter_rows(min_row=2)]
        names, values = [r["territory_name"] for r in data], [r["value"] for r in data if r["value"] is not None]
        assert load_workbook(path)["about"]["A2"].value == "id"
    elif fmt == "parquet":
        table = pq.read_table(path)
        names = table.column("territory_name").to_pylist()
        values = [v for v in table.column("value").to_pylist() if v is not None]
        assert json.loads(table.schema.metadata[b"segura"])["indicator"]["id"] == "sdg_16_1_1"
    else:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["indicator"]["name"].startswith("Tasa de homicidio")
        names = [r["territory_name"] for r in doc["data"]]
        values = [r["value"] for r in doc["data"] if r["value"] is not None]
    expected = [v for v in result.frame["value"] if v == v]
    assert values == pytest.approx(expected, rel=1e-6)
    if names:
        assert names[0].startswith("'=HYPERLINK")
