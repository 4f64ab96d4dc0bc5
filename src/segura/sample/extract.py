"""An institution's extract before it is written, and the rows broken on purpose in it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

QUARANTINE = "quarantine"
LOAD = "load"


@dataclass
class Extract:
    """Rows of one extract (cells as they will be written) and the true person of each row."""

    source: str
    header: list[str]
    rows: list[list[Any]]
    person_ids: list[str]
    first_row: int = 2  # the row number a person sees for rows[0] (header on the row before)
    record_id_column: str = ""
    broken: list[BrokenRow] = field(default_factory=list)

    def col(self, name: str) -> int:
        return self.header.index(name)

    def row_number(self, i: int) -> int:
        return self.first_row + i

    def record_id(self, i: int) -> str:
        value = self.rows[i][self.col(self.record_id_column)]
        return "" if value is None else str(value)


@dataclass(frozen=True)
class BrokenRow:
    """A row damaged on purpose, and what the ingest engine should do with it."""

    source: str
    row_number: int  # as a person sees it: the line in a text editor, the row in a spreadsheet
    record_id: str  # as written in the file ("" when the damage is a blank id)
    kind: str
    column: str
    value: str
    expect: str  # "quarantine" or "load"
    note: str = ""


@dataclass(frozen=True)
class Breakage:
    kind: str
    column: str
    change: Callable[[list[Any]], Any]  # row -> the new value of `column`
    expect: str
    note: str = ""
    eligible: Callable[[list[Any]], bool] = lambda row: True


def break_rows(extract: Extract, plan: Sequence[Breakage], rng: np.random.Generator) -> None:
    """Damage one distinct, randomly chosen eligible row per breakage; record each in `extract.broken`."""
    taken: set[int] = set()
    for b in plan:
        candidates = [i for i, row in enumerate(extract.rows) if i not in taken and b.eligible(row)]
        if not candidates:
            continue
        i = candidates[int(rng.integers(len(candidates)))]
        taken.add(i)
        row = extract.rows[i]
        row[extract.col(b.column)] = b.change(row)
        value = row[extract.col(b.column)]
        extract.broken.append(
            BrokenRow(
                source=extract.source,
                row_number=extract.row_number(i),
                record_id=extract.record_id(i),
                kind=b.kind,
                column=b.column,
                value="" if value is None else str(value),
                expect=b.expect,
                note=b.note,
            )
        )
    extract.broken.sort(key=lambda r: r.row_number)


FORMULA = '=HYPERLINK("http://x","y")'
