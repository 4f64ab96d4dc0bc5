"""Import population denominators: territory, year, sex, age group, population, source.

The file is a long CSV: `territory_code,year,sex,age_group,population[,source]`, with sex
F, M or _T (total) and age_group a five-year code (Y0T4 ... Y_GE85) or _T (all ages).
Validation is done by DuckDB over the whole file; any finding stops the import and is
listed with its row. Re-importing a year and source replaces those rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from segura.errors import TerritoryImportError
from segura.ingest.report import Issue
from segura.model.codes import codelist
from segura.store import Warehouse

COLUMNS = ("territory_code", "year", "sex", "age_group", "population")


@dataclass
class PopulationImportReport:
    file: str
    rows_read: int = 0
    imported: int = 0
    years: list[int] = field(default_factory=list)
    territories: int = 0
    issues: list[Issue] = field(default_factory=list)


def import_population(wh: Warehouse, path: Path, *, source: str | None = None) -> PopulationImportReport:
    con = wh.con
    report = PopulationImportReport(file=path.name)
    try:
        header = [d[0] for d in con.execute("DESCRIBE SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(path)]).fetchall()]
    except Exception as e:
        raise TerritoryImportError(f"{path.name}: cannot read as CSV: {e}") from e
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise TerritoryImportError(f"{path.name}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}[, source]")
    has_source = "source" in header
    sexes = ["F", "M", "_T"]
    ages = [c for c in codelist("age_group") if c != "_U"] + ["_T"]
    # Built outside the f-string: before Python 3.12 an f-string expression cannot hold a backslash.
    source_sql = "coalesce(nullif(trim(source), ''), ?)" if has_source else "?"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _pop AS
        SELECT row_number() OVER () + 1 AS _row, trim(territory_code) AS territory_code, trim(year) AS year_raw,
               TRY_CAST(trim(year) AS INTEGER) AS year, trim(sex) AS sex, trim(age_group) AS age_group,
               trim(population) AS pop_raw, TRY_CAST(trim(population) AS DOUBLE) AS population,
               {source_sql} AS source
        FROM read_csv(?, header = true, all_varchar = true)
        """,  # noqa: S608 (fixed text)
        [source or path.stem, str(path)],
    )
    report.rows_read = con.execute("SELECT count(*) FROM _pop").fetchone()[0]  # type: ignore[index]
    checks = [
        ("territory_code", "unknown territory code; import territories first", "territory_code NOT IN (SELECT code FROM territory)", "territory_code"),
        ("year", "expected a year between 1900 and 2100", "year IS NULL OR year NOT BETWEEN 1900 AND 2100", "year_raw"),
        ("sex", "expected F, M or _T", "sex NOT IN (SELECT unnest(?::VARCHAR[]))", "sex"),
        ("age_group", "expected a five-year group (Y0T4 ... Y_GE85) or _T", "age_group NOT IN (SELECT unnest(?::VARCHAR[]))", "age_group"),
        ("population", "expected a number >= 0", "population IS NULL OR population < 0", "pop_raw"),
    ]
    for column, expected, cond, value in checks:
        params = [sexes] if column == "sex" else [ages] if column == "age_group" else []
        for row, val in con.execute(f"SELECT _row, {value} FROM _pop WHERE {cond} ORDER BY _row LIMIT 50", params).fetchall():  # noqa: S608 (fixed text)
            report.issues.append(Issue("population_row", "error", row, column, val, expected))
    for row, terr, year, sex, age, first in con.execute(
        """SELECT _row, territory_code, year, sex, age_group, first_row FROM (
             SELECT *, min(_row) OVER (PARTITION BY territory_code, year, sex, age_group, source) AS first_row FROM _pop)
           WHERE _row > first_row ORDER BY _row LIMIT 50"""
    ).fetchall():
        report.issues.append(Issue("duplicate", "error", row, "territory_code", f"{terr} {year} {sex} {age}", f"the same territory, year, sex and age group as row {first}"))
    if report.issues:
        return report
    with wh.transaction():
        con.execute(
            "DELETE FROM population WHERE (year, source) IN (SELECT DISTINCT year, source FROM _pop)"
        )
        con.execute("INSERT INTO population SELECT territory_code, year, sex, age_group, population, source FROM _pop")
    report.imported = report.rows_read
    report.years = [r[0] for r in con.execute("SELECT DISTINCT year FROM _pop ORDER BY 1").fetchall()]
    report.territories = con.execute("SELECT count(DISTINCT territory_code) FROM _pop").fetchone()[0]  # type: ignore[index]
    con.execute("DROP TABLE IF EXISTS temp._pop")
    return report
