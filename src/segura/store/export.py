"""Write tables for people to open in a spreadsheet, with formula payloads neutralised.

A text cell that starts with = + - @ (or a tab or carriage return) is run as a formula by
Excel and LibreOffice ("CSV injection"). Every CSV or XLSX that Segura writes goes through
`neutralise`, which prefixes such text with an apostrophe, as OWASP recommends. Numbers
written as numbers are left alone; text that is only a signed number ("-12.5") is not a
formula and is kept as it is.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    # UTF-8 with a byte order mark: Excel then reads accents correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([neutralise(h) for h in header])
        for row in rows:
            w.writerow(["" if v is None else neutralise(v) for v in row])
            n += 1
    return n


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "data") -> int:
    return write_xlsx_sheets(path, [(sheet, header, rows)])[0]


def write_xlsx_sheets(path: Path, sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> list[int]:
    """One workbook with a sheet per (name, header, rows); returns the rows written per sheet."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    counts = []
    for name, header, rows in sheets:
        ws = wb.create_sheet(name[:31])  # Excel's limit on sheet names
        ws.append([neutralise(h) for h in header])
        n = 0
        for row in rows:
            # Text cells are written as text (openpyxl would otherwise store '=...' as a formula).
            ws.append([neutralise(v) for v in row])
            n += 1
        counts.append(n)
    wb.save(path)
    return counts


def write_table(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(path, header, rows)
    if suffix == ".csv":
        return write_csv(path, header, rows)
    raise ValueError(f"{path.name}: write .csv or .xlsx")
