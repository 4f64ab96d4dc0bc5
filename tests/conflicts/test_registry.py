"""The conflict registry and its importers, on the IIS-UCR and Ultimate Consequences files."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from segura.conflicts import (
    ConflictError,
    change_phase,
    create_conflict,
    ensure_schema,
    import_events,
    list_conflicts,
    load_mapping,
    show_conflict,
)
from segura.conflicts import registry as reg
from segura.errors import MappingError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FILES = {
    "iisucr_cr": ("protests/iisucr_protestas_costa_rica.csv", 2645),
    "iisucr_ni": ("protests/iisucr_protestas_nicaragua.csv", 449),
    "ucbo_deaths": ("bo/deaths_entries_no_names.csv", 669),
}


def data_file(mapping: str) -> Path:
    path = DATA / FILES[mapping][0]
    if not path.is_file():
        pytest.fail(f"test data missing: {path} (the shared data folder ../shared/data)")
    return path


@pytest.fixture(scope="module")
def loaded() -> tuple[duckdb.DuckDBPyConnection, dict[str, object]]:
    con = duckdb.connect()
    reports = {m: import_events(con, data_file(m), load_mapping(m)) for m in FILES}
    return con, reports


@pytest.mark.parametrize("mapping", list(FILES))
def test_every_row_is_imported_or_rejected_with_its_reasons(loaded, mapping: str) -> None:
    con, reports = loaded
    report = reports[mapping]
    assert report.rows_read == FILES[mapping][1]
    assert report.rows_imported + report.rows_rejected == report.rows_read
    for r in report.rejections:
        assert r.file == data_file(mapping).name and r.row >= 1 and r.column and r.expected
    stored = con.execute(
        "SELECT count(DISTINCT r.row_number), any_value(s.rows_rejected) FROM conflict_source s "
        "LEFT JOIN conflict_rejection r USING (source_id) WHERE s.name = ?", [mapping]).fetchone()
    assert stored == (report.rows_rejected, report.rows_rejected)
    events_rows = con.execute(
        "SELECT string_agg(e.source_rows, ',') FROM conflict_event e "
        "JOIN conflict_source s USING (source_id) WHERE s.name = ?", [mapping]).fetchone()[0]
    imported = sorted(int(x) for x in events_rows.split(","))
    assert imported == sorted(set(range(1, report.rows_read + 1)) - set(report.rejected_rows))


def test_import_figures(loaded) -> None:
    _, reports = loaded
    assert (reports["iisucr_cr"].rows_rejected, reports["iisucr_cr"].conflicts) == (0, 983)
    assert reports["iisucr_ni"].rows_rejected == 3  # the three protests held abroad
    assert {r.value for r in reports["iisucr_ni"].rejections} == {"Internacional"}
    assert (reports["ucbo_deaths"].rows_rejected, reports["ucbo_deaths"].events) == (4, 209)


@pytest.mark.parametrize("mapping", ["iisucr_cr", "iisucr_ni"])
def test_counts_by_protest_type_match_the_source(loaded, mapping: str) -> None:
    con, reports = loaded
    source = pd.read_csv(data_file(mapping), dtype=str, keep_default_na=False)
    source.index = range(1, len(source) + 1)
    kept = source.drop(index=reports[mapping].rejected_rows)["Tipo de Protesta"]
    registry = dict(con.execute(
        "SELECT e.type_detail, count(*) FROM conflict_event e JOIN conflict_source s "
        "USING (source_id) WHERE s.name = ? GROUP BY 1", [mapping]).fetchall())
    assert registry == kept.value_counts().to_dict()
    codes = load_mapping(mapping)["codes"]["event_type"]
    coded = dict(con.execute(
        "SELECT e.event_type, count(*) FROM conflict_event e JOIN conflict_source s "
        "USING (source_id) WHERE s.name = ? GROUP BY 1", [mapping]).fetchall())
    assert coded == kept.map(codes).value_counts().to_dict()


def test_bolivian_deaths_become_events_without_names(loaded, tmp_path: Path) -> None:
    con, reports = loaded
    assert con.execute(
        "SELECT sum(deaths) FROM conflict_event JOIN conflict_source USING (source_id) "
        "WHERE name = 'ucbo_deaths'").fetchone()[0] == reports["ucbo_deaths"].rows_imported
    # Plant names in a copy of the file: the import must carry none of them anywhere.
    with data_file("ucbo_deaths").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = ["dec_firstname", "dec_surnames", *rows[0]]
    planted = [[f"Zqfirst{i}", f"Zqsurname{i}", *row] for i, row in enumerate(rows[1:])]
    copy = tmp_path / "deaths_with_names.csv"
    with copy.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *planted])
    fresh = duckdb.connect()
    report = import_events(fresh, copy, load_mapping("ucbo_deaths"))
    assert report.rows_read == 669
    for table in reg.TABLES:
        columns = fresh.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
            [table]).fetchall()
        for column, kind in columns:
            assert not any(w in column.lower() for w in ("firstname", "surname", "name_")), column
            if kind == "VARCHAR":
                hits = fresh.execute(
                    f'SELECT count(*) FROM {table} WHERE "{column}" ILIKE ?',  # noqa: S608
                    ["%zq%"]).fetchone()[0]
                assert hits == 0, f"{table}.{column} holds a planted name"
    mapping = load_mapping("ucbo_deaths")
    mapping["columns"] = {**mapping["columns"], "description": "dec_firstname"}
    with pytest.raises(MappingError, match="personal names"):
        import_events(duckdb.connect(), copy, mapping)


def test_bad_values_are_rejected_with_every_reason(tmp_path: Path) -> None:
    source = pd.read_csv(data_file("iisucr_cr"), dtype=str, keep_default_na=False).head(5)
    source.loc[1, "Fecha"] = "18/12/2014"
    source.loc[1, "Tipo de Protesta"] = "Cacerolazo"
    source.loc[3, "Tipo de Demanda"] = "NA"
    path = tmp_path / "cr.csv"
    source.to_csv(path, index=False)
    report = import_events(duckdb.connect(), path, load_mapping("iisucr_cr"))
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (5, 3, 2)
    reasons = {(r.row, r.column, r.value) for r in report.rejections}
    assert reasons == {(2, "Fecha", "18/12/2014"), (2, "Tipo de Protesta", "Cacerolazo"),
                       (4, "Tipo de Demanda", "NA")}
    assert "one of the mapping's codes" in next(
        r.message for r in report.rejections if r.value == "Cacerolazo")


def test_the_same_file_twice_changes_nothing(loaded) -> None:
    con, _ = loaded
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone() for t in reg.TABLES}  # noqa: S608
    again = import_events(con, data_file("iisucr_ni"), load_mapping("iisucr_ni"))
    assert again.already_imported and again.rows_rejected == 3 and again.conflicts == 239
    assert before == {t: con.execute(f"SELECT count(*) FROM {t}").fetchone() for t in reg.TABLES}  # noqa: S608


def test_a_missing_column_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    pd.read_csv(data_file("iisucr_cr"), dtype=str, nrows=3).rename(
        columns={"Fecha": "Fechas"}).to_csv(path, index=False)
    with pytest.raises(MappingError, match="'Fecha'.*did you mean 'Fechas'"):
        import_events(duckdb.connect(), path, load_mapping("iisucr_cr"))


def test_phase_transitions_refuse_an_invalid_jump() -> None:
    con = duckdb.connect()
    ensure_schema(con)
    cid = create_conflict(con, "Water tariffs", demand_type="public_services", phase="latent",
                          started_on=dt.date(2024, 1, 1), claimants=[("Neighbours", "neighbours")],
                          counterparts=[("Water utility", "utility")])
    with pytest.raises(ConflictError, match="cannot go from 'latent' to 'crisis'.*emergence"):
        change_phase(con, cid, "crisis", dt.date(2024, 2, 1))
    with pytest.raises(ConflictError, match="phase 'boiling' is not one of"):
        change_phase(con, cid, "boiling", dt.date(2024, 2, 1))
    for i, phase in enumerate(("emergence", "escalation", "crisis", "de-escalation", "resolved")):
        change_phase(con, cid, phase, dt.date(2024, 2, 1 + i), reason="test")
    with pytest.raises(ConflictError, match="cannot go from 'crisis' to 'resolved'"):
        cid2 = create_conflict(con, "Port", phase="crisis")
        change_phase(con, cid2, "resolved", dt.date(2024, 3, 1))
    view = show_conflict(con, cid)
    assert [p["phase_to"] for p in view.phases] == [
        "latent", "emergence", "escalation", "crisis", "de-escalation", "resolved"]
    assert {a["role"] for a in view.actors} == {"claimant", "counterpart"}
    assert [c["conflict_id"] for c in list_conflicts(con, phase="resolved")] == [cid]
    with pytest.raises(ConflictError, match="no conflict with id 99"):
        show_conflict(con, 99)
    assert Counter(c["phase"] for c in list_conflicts(con)) == {"resolved": 1, "crisis": 1}
