"""Every CSV or XLSX that Segura writes neutralises formula payloads (CSV injection)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from segura.store.export import neutralise, write_csv, write_xlsx

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=CONCATENAR(A1;B1)"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_get_an_apostrophe(payload: str) -> None:
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("value", ["-12.5", "+3", "-7", "Pérez", "", None, 42, -3.5])
def test_plain_values_are_left_alone(value: object) -> None:
    assert neutralise(value) == value


def test_csv_written_by_segura_has_no_live_formula(tmp_path: Path) -> None:
    out = tmp_path / "q.csv"
    write_csv(out, ["row", "name"], [[i, p] for i, p in enumerate(PAYLOADS)])
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark, for Excel"
    with out.open(encoding="utf-8-sig", newline="") as fh:
        cells = [r[1] for r in list(csv.reader(fh))[1:]]
    assert cells == ["'" + p for p in PAYLOADS]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


def test_xlsx_written_by_segura_stores_payloads_as_text(tmp_path: Path) -> None:
    out = tmp_path / "q.xlsx"
    write_xlsx(out, ["row", "name"], [[i, p] for i, p in enumerate(PAYLOADS)])
    sheet = load_workbook(out).active
    cells = [sheet.cell(row=r, column=2) for r in range(2, len(PAYLOADS) + 2)]
    # (XLSX stores a carriage return as a line feed)
    assert [c.value for c in cells] == ["'" + p.replace("\r", "\n") for p in PAYLOADS]
    assert all(c.data_type == "s" for c in cells), "text cells, never formulas"
