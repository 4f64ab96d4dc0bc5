"""Population denominators: every finding names its row; a re-import of a year replaces it."""

from __future__ import annotations

from pathlib import Path

import pytest

from segura import Workspace
from segura.errors import TerritoryImportError
from segura.ingest.population import import_population

HEADER = "territory_code,year,sex,age_group,population\n"


def _import(ws: Workspace, path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    with ws.warehouse() as wh:
        return import_population(wh, path, **kwargs)  # type: ignore[arg-type]


def _population(ws: Workspace) -> list[tuple[object, ...]]:
    return (
        ws.warehouse()
        .con.execute(
            "SELECT territory_code, year, sex, age_group, population, source FROM population ORDER BY ALL"
        )
        .fetchall()
    )


def test_valid_population_imports(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "inec.csv"
    path.write_text(
        HEADER + "0101,2021,F,Y0T4,1200\n0101,2021,M,Y0T4,1250.5\n0101,2021,_T,_T,64000\n",
        encoding="utf-8",
    )
    report = _import(ws, path)
    assert (report.rows_read, report.imported, report.issues) == (3, 3, [])
    assert _population(ws)[0] == ("0101", 2021, "F", "Y0T4", 1200.0, "inec")


def test_every_bad_row_is_named_and_nothing_is_imported(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "inec.csv"
    path.write_text(
        HEADER
        + "0101,2021,F,Y0T4,1200\n"  # row 2: fine
        + "9999,2021,F,Y0T4,10\n"  # row 3: unknown territory
        + "0101,20x1,F,Y0T4,10\n"  # row 4: year
        + "0101,2021,H,Y0T4,10\n"  # row 5: sex
        + "0101,2021,F,0-4,10\n"  # row 6: age group
        + "0101,2021,M,Y0T4,-3\n"  # row 7: population
        + "0101,2021,F,Y0T4,1300\n",  # row 8: duplicate of row 2
        encoding="utf-8",
    )
    report = _import(ws, path)
    found = sorted((i.row, i.column, i.value) for i in report.issues)
    assert found == [
        (3, "territory_code", "9999"),
        (4, "year", "20x1"),
        (5, "sex", "H"),
        (6, "age_group", "0-4"),
        (7, "population", "-3"),
        (8, "territory_code", "0101 2021 F Y0T4"),
    ]
    assert "as row 2" in next(i.message for i in report.issues if i.row == 8)
    assert report.imported == 0 and _population(ws) == []


def test_reimporting_a_year_and_source_replaces_it(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "inec.csv"
    path.write_text(HEADER + "0101,2021,F,_T,100\n0102,2021,F,_T,200\n", encoding="utf-8")
    _import(ws, path)
    path.write_text(HEADER + "0101,2021,F,_T,110\n", encoding="utf-8")
    _import(ws, path)
    assert _population(ws) == [("0101", 2021, "F", "_T", 110.0, "inec")]


def test_a_source_column_or_argument_names_the_source(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(
        "territory_code,year,sex,age_group,population,source\n0101,2021,F,_T,1,censo\n0101,2021,M,_T,1,\n",
        encoding="utf-8",
    )
    _import(ws, path, source="proyeccion")
    assert [r[-1] for r in _population(ws)] == ["censo", "proyeccion"]


def test_missing_columns_are_named(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("codigo,anio,poblacion\n0101,2021,5\n", encoding="utf-8")
    with pytest.raises(TerritoryImportError) as err:
        _import(ws, path)
    assert "x.csv: missing column(s) territory_code, year, sex, age_group, population" in str(
        err.value
    )
