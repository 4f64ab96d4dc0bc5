"""Reading extracts: what the analyst relies on when a file is malformed.

Every rejected file is recorded with a message that names the file and says what was expected;
every quarantined row keeps its row number (as a text editor or spreadsheet shows it) and its raw
values; rows read = loaded + quarantined.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segura.ingest.load import load_extract
from tests.conftest import HEADER, Inbox, assert_adds_up, row, rows

# -- whole-file problems -----------------------------------------------------------------------------


def test_empty_file_is_rejected_and_recorded(inbox: Inbox) -> None:
    report = inbox.ingest(inbox.write("marzo.csv", b""))
    assert report.status == "rejected"
    assert (
        "marzo.csv" in report.message and "empty" in report.message and "0 bytes" in report.message
    )
    load = inbox.load_row(report.load_id)
    assert (load["status"], load["file_name"], load["rows_read"]) == ("rejected", "marzo.csv", 0)
    assert load["message"] == report.message


def test_header_only_loads_zero_rows_and_adds_up(inbox: Inbox) -> None:
    report = inbox.ingest(inbox.csv("vacio.csv", []))
    assert report.status == "loaded"
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (0, 0, 0)
    assert_adds_up(report, inbox)


def test_file_of_another_institution_lists_missing_and_unexpected_columns(inbox: Inbox) -> None:
    forensic = ["protocolo", "fecha_autopsia", "causa_muerte"]
    report = inbox.ingest(inbox.csv("inacif.csv", [["P-1", "01/03/2021", "HPAF"]], header=forensic))
    assert report.status == "rejected"
    msg = report.message
    assert msg.startswith("inacif.csv: ")
    assert "source 'police'" in msg
    for col in ("folio", "fecha", "depto", "municipio", "sexo", "edad", "nombre", "delito"):
        assert repr(col) in msg.split("Unexpected:")[0], col
    for col in forensic:
        assert repr(col) in msg.split("Unexpected:")[1], col
    assert inbox.counts()["person"] == 0


def test_wrong_delimiter_says_the_file_looks_semicolon_delimited(inbox: Inbox) -> None:
    report = inbox.ingest(inbox.csv("pnc.csv", rows(3), delimiter=";"))
    assert report.status == "rejected"
    assert "pnc.csv" in report.message
    assert "looks ';'-delimited" in report.message
    assert "delimiter ','" in report.message


def test_header_naming_a_column_twice_is_rejected(inbox: Inbox) -> None:
    header = [*HEADER, "Edad"]
    report = inbox.ingest(inbox.csv("dos.csv", [[*row().values(), "3"]], header=header))
    assert report.status == "rejected"
    assert "'Edad' twice" in report.message and "columns 6 and 10" in report.message


def test_missing_header_row_is_rejected_naming_header_row(inbox: Inbox) -> None:
    inbox.mapping(header_row=3)
    report = inbox.ingest(inbox.write("corto.csv", "solo una línea\r\n"))
    assert report.status == "rejected"
    assert "no header on row 3" in report.message and "header_row" in report.message


# -- ragged rows and row numbers ---------------------------------------------------------------------


def test_ragged_rows_are_quarantined_with_row_number_and_raw_line(inbox: Inbox) -> None:
    text = (
        inbox.csv_text(rows(2))  # rows 2, 3
        + "3,15/03/2021,San José\r\n"  # row 4: too few fields
        + "4,15/03/2021,San José,Escazú,F,34,Ana,HOM,,extra\r\n"  # row 5: too many
        + inbox.csv_text(rows(2, start=5), header=None)  # rows 6, 7
        + "7,15/03/2021\r\n"  # row 8
        + inbox.csv_text(rows(1, start=8), header=None)  # row 9
    )
    report = inbox.ingest(inbox.write("ragged.csv", text))
    assert report.status == "loaded"
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (8, 5, 3)
    assert_adds_up(report, inbox)
    quarantined = inbox.quarantine(report.load_id)
    assert quarantined[4]["raw"] == "3,15/03/2021,San José"
    assert quarantined[5]["raw"] == "4,15/03/2021,San José,Escazú,F,34,Ana,HOM,,extra"
    assert quarantined[8]["raw"] == "7,15/03/2021"
    assert "too few fields" in quarantined[4]["errors"][0]["message"]
    assert "too many fields" in quarantined[5]["errors"][0]["message"]
    assert {e["rule"] for q in quarantined.values() for e in q["errors"]} == {"csv_structure"}
    # the rows after them keep the numbers a text editor shows (folio n+1 is on line n+1 here)
    loaded = inbox.query(
        "SELECT source_record_id, row_number FROM person WHERE load_id = ? ORDER BY 2",
        [report.load_id],
    )
    assert loaded == [("1", 2), ("2", 3), ("5", 6), ("6", 7), ("8", 9)]
    issues = inbox.issues(report.load_id)
    assert [(i["row"], i["rule"]) for i in issues] == [
        (4, "csv_structure"),
        (5, "csv_structure"),
        (8, "csv_structure"),
    ]


def test_embedded_newlines_load_and_later_rows_are_numbered_as_a_spreadsheet_shows(
    inbox: Inbox,
) -> None:
    records = [
        row(folio=1, nombre="Ana\nMaría"),  # spreadsheet row 2 (text-editor lines 2-3)
        row(folio=2),  # row 3
        row(folio=3, nombre="línea 1\r\nlínea 2\r\nlínea 3"),  # row 4
        row(folio=4, edad=200),  # row 5: quarantined, its number must still be 5
        row(folio=5),  # row 6
    ]
    report = inbox.ingest(inbox.csv("multilinea.csv", records))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (5, 4, 1)
    assert_adds_up(report, inbox)
    loaded = inbox.query(
        "SELECT source_record_id, row_number FROM person WHERE load_id = ? ORDER BY 2",
        [report.load_id],
    )
    assert loaded == [("1", 2), ("2", 3), ("3", 4), ("5", 6)]
    assert list(inbox.quarantine(report.load_id)) == [5]
    names = dict(
        inbox.query(
            "SELECT person_id, given_names FROM person_identity WHERE load_id = ?", [report.load_id]
        )
    )
    assert names["police:1"] == "Ana\nMaría"
    assert names["police:3"] == "línea 1\r\nlínea 2\r\nlínea 3"


def test_ragged_row_after_embedded_newlines_keeps_spreadsheet_numbering(inbox: Inbox) -> None:
    text = (
        inbox.csv_text([row(folio=1, nombre="a\nb"), row(folio=2)])  # rows 2, 3
        + "3,roto\r\n"  # row 4
        + inbox.csv_text([row(folio=4, nombre="c\nd"), row(folio=5)], header=None)  # rows 5, 6
    )
    report = inbox.ingest(inbox.write("mixto.csv", text))
    assert_adds_up(report, inbox)
    assert list(inbox.quarantine(report.load_id)) == [4]
    assert inbox.loaded_rows(report.load_id) == [2, 3, 5, 6]


def test_header_on_a_later_row_counts_the_lines_above_it(inbox: Inbox) -> None:
    inbox.mapping(header_row=3)
    text = (
        "Policía de prueba,,\r\nExtracto de marzo,,\r\n"
        + inbox.csv_text(rows(2))
        + "3,roto\r\n"
        + inbox.csv_text(rows(1, start=4), header=None)
    )
    report = inbox.ingest(inbox.write("titulo.csv", text))
    assert_adds_up(report, inbox)
    assert list(inbox.quarantine(report.load_id)) == [6]
    assert inbox.loaded_rows(report.load_id) == [4, 5, 7]


def test_mixed_line_endings_are_rejected_naming_the_line(inbox: Inbox) -> None:
    # Rows appended on another system: lines 1-2 end in \r\n, line 3 in \n. (DuckDB's strict
    # reader stops on such a file when a value precedes the \n; it must not escape as a crash.)
    text = (
        inbox.csv_text([row(folio=1, observaciones="nota")])
        + "2,15/03/2021,San José,Escazú,F,34,Ana,HOM,nota\n"
    )
    report = inbox.ingest(inbox.write("finales.csv", text))
    assert report.status == "rejected"
    assert "finales.csv" in report.message
    assert "line 3 ends with \\n (Unix) but line 1 ends with \\r\\n (Windows)" in report.message
    assert inbox.load_row(report.load_id)["status"] == "rejected"


def test_two_loads_on_one_connection_do_not_share_rejected_lines(inbox: Inbox) -> None:
    """DuckDB appends to its rejects table; the second file must not inherit the first one's."""
    first = inbox.write("a.csv", inbox.csv_text(rows(2)) + "3,roto\r\n")
    second = inbox.csv("b.csv", rows(2, start=10))
    inbox.mapping()
    with inbox.ws.warehouse() as wh:
        mapping = inbox.ws.mapping("police")
        r1 = load_extract(wh, mapping, first)
        r2 = load_extract(wh, mapping, second)
    assert (r1.rows_read, r1.rows_quarantined) == (3, 1)
    assert (r2.rows_read, r2.rows_loaded, r2.rows_quarantined) == (2, 2, 0)
    assert inbox.quarantine(r2.load_id) == {}


# -- a 20 MB field -----------------------------------------------------------------------------------

BIG = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def big_value() -> str:
    return "x" * BIG


def test_20mb_field_in_a_mapped_text_column_is_quarantined_by_text_length(
    inbox: Inbox, big_value: str
) -> None:
    from tests.conftest import BASE_MAPPING

    inbox.mapping(
        columns={**BASE_MAPPING["columns"], "observaciones": "setting"}, ignore_columns=None
    )
    report = inbox.ingest(
        inbox.csv("grande.csv", [row(folio=1), row(folio=2, observaciones=big_value), row(folio=3)])
    )
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    assert_adds_up(report, inbox)
    q = inbox.quarantine(report.load_id)[3]
    assert (
        q["raw"][HEADER.index("observaciones")] == big_value
    )  # nothing lost: the whole value is kept
    (error,) = q["errors"]
    assert (error["rule"], error["column"]) == ("text_length", "observaciones")
    assert (
        error["value"].startswith("xxxx")
        and f"({BIG} characters)" in error["value"]
        and len(error["value"]) < 300
    )
    assert "at most 200 characters expected" in error["message"] and len(error["message"]) < 500


def _ingest_in_subprocess(inbox: Inbox, path: object) -> tuple[dict[str, object], int]:
    """Load in a fresh process; its report and its peak resident memory in MB."""
    code = (
        "import json, resource; from pathlib import Path; from segura import Workspace; "
        f"r = Workspace.open(Path({str(inbox.ws.root)!r})).ingest('police', Path({str(path)!r})); "
        "print(json.dumps({'status': r.status, 'read': r.rows_read, 'loaded': r.rows_loaded, "
        "'quarantined': r.rows_quarantined, 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result, int(result.pop("rss_mb"))


def test_20mb_fields_in_an_unmapped_column_load_without_crash_and_memory_stays_bounded(
    inbox: Inbox, big_value: str
) -> None:
    inbox.mapping()
    inbox.release()  # the subprocess needs the warehouse file
    small, small_mb = _ingest_in_subprocess(inbox, inbox.csv("chico.csv", rows(3)))
    records = [
        row(folio=1),
        *(row(folio=i, observaciones=big_value) for i in (2, 3, 4)),
        row(folio=5),
    ]
    big, big_mb = _ingest_in_subprocess(inbox, inbox.csv("grandes.csv", records))
    assert small == {"status": "loaded", "read": 3, "loaded": 3, "quarantined": 0}
    assert big == {"status": "loaded", "read": 5, "loaded": 5, "quarantined": 0}
    assert big_mb - small_mb < 400, (
        f"peak RSS {big_mb} MB with three 20 MB fields vs {small_mb} MB for a small file"
    )


# -- XLSX --------------------------------------------------------------------------------------------


def _workbook(
    records: list[list[object]], *, title: str = "Datos", text_cells: bool = False
) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = title
    sheet.append(HEADER)
    for r in records:
        sheet.append(r)
    if text_cells:  # openpyxl writes a string starting with '=' as a formula unless told otherwise
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    return wb


def test_valid_xlsx_loads_with_sheet_row_numbers(inbox: Inbox) -> None:
    inbox.mapping(format="xlsx")
    wb = _workbook(
        [
            [
                "1",
                dt.date(2021, 3, 15),
                "San José",
                "Escazú",
                "F",
                34,
                "Ana",
                "HOM",
            ],  # row 2: a real date cell
            [
                2,
                "16/03/2021",
                "San José",
                "Escazú",
                "M",
                40.0,
                "Luis",
                "HOM",
            ],  # row 3: numbers as floats, date as text
            [],  # row 4: empty, ignored
            [
                3,
                dt.datetime(2021, 3, 17, 10, 30),
                "Alajuela",
                "Grecia",
                "F",
                "x",
                "Eva",
                "HOM",
            ],  # row 5: bad age
            [
                4,
                dt.date(2021, 3, 18),
                "Alajuela",
                "Grecia",
                "F",
                5,
                "Eva",
                "HOM",
                None,
                "sin encabezado",
            ],  # row 6
            [5, dt.date(2021, 3, 19), "Alajuela", "San Ramón", "M", 50, "Juan", "LES"],  # row 7
        ]
    )
    path = inbox.ws.root / "inbox" / "pnc.xlsx"
    wb.save(path)
    report = inbox.ingest(path)
    assert report.status == "loaded"
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (5, 3, 2)
    assert_adds_up(report, inbox)
    events = inbox.query(
        "SELECT source_record_id, row_number, occurred_date, territory_code FROM event WHERE load_id = ? ORDER BY 2",
        [report.load_id],
    )
    assert events == [
        ("1", 2, dt.date(2021, 3, 15), "0101"),
        ("2", 3, dt.date(2021, 3, 16), "0101"),
        ("5", 7, dt.date(2021, 3, 19), "0201"),
    ]
    assert inbox.query(
        "SELECT age FROM person WHERE load_id = ? AND source_record_id = '2'", [report.load_id]
    ) == [(40,)]
    q = inbox.quarantine(report.load_id)
    assert list(q) == [5, 6]
    assert q[5]["errors"][0] | {"message": ""} == {
        "rule": "type",
        "column": "edad",
        "value": "x",
        "message": "",
    }
    assert (
        q[6]["errors"][0]["rule"] == "xlsx_structure"
        and q[6]["errors"][0]["value"] == "sin encabezado"
    )
    assert q[6]["raw"][-1] == "sin encabezado"


def test_xlsx_with_an_unknown_sheet_is_rejected_listing_the_sheets(inbox: Inbox) -> None:
    inbox.mapping(format="xlsx", sheet="Marzo")
    path = inbox.ws.root / "inbox" / "pnc.xlsx"
    _workbook([]).save(path)
    report = inbox.ingest(path)
    assert report.status == "rejected"
    assert "no sheet named 'Marzo'" in report.message and "Datos" in report.message


FORMULAS = [
    '=HYPERLINK("http://x.example","clic")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "=1+1;cmd|' /C calc'!A0",
]


def test_formula_payloads_in_xlsx_text_cells_are_stored_as_text(inbox: Inbox) -> None:
    inbox.mapping(format="xlsx")
    wb = _workbook(
        [
            [str(i), "15/03/2021", "San José", "Escazú", "F", "30", f, "HOM"]
            for i, f in enumerate(FORMULAS, 1)
        ],
        text_cells=True,
    )
    path = inbox.ws.root / "inbox" / "formulas.xlsx"
    wb.save(path)
    report = inbox.ingest(path)
    assert report.rows_loaded == len(FORMULAS)
    stored = [
        r[0]
        for r in inbox.query(
            "SELECT given_names FROM person_identity WHERE load_id = ? ORDER BY person_id",
            [report.load_id],
        )
    ]
    assert stored == FORMULAS


# -- Parquet -----------------------------------------------------------------------------------------


def test_parquet_extract_loads_with_typed_columns(inbox: Inbox) -> None:
    inbox.mapping(format="parquet", dates=None)
    table = pa.table(
        {
            "folio": pa.array([1, 2, 3], pa.int64()),
            "fecha": pa.array([dt.date(2021, 3, 1), None, dt.date(2021, 3, 3)], pa.date32()),
            "depto": ["San José", "San José", "Alajuela"],
            "municipio": ["Escazú", "Desamparados", "Grecia"],
            "sexo": ["F", "M", "F"],
            "edad": pa.array([30, 31, None], pa.int32()),
            "nombre": ["Ana", "Luis", "=1+1"],
            "delito": ["HOM", "HOM", "LES"],
        }
    )
    path = inbox.ws.root / "inbox" / "pnc.parquet"
    pq.write_table(table, path)
    report = inbox.ingest(path)
    assert report.status == "loaded"
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    assert_adds_up(report, inbox)
    q = inbox.quarantine(report.load_id)
    assert q[2]["raw"] == ["2", None, "San José", "Desamparados", "M", "31", "Luis", "HOM"]
    assert q[2]["errors"][0]["rule"] == "required" and q[2]["errors"][0]["column"] == "fecha"
    assert inbox.query(
        "SELECT occurred_date, territory_code, iccs_code FROM event WHERE load_id = ? ORDER BY row_number",
        [report.load_id],
    ) == [
        (dt.date(2021, 3, 1), "0101", "0101"),
        (dt.date(2021, 3, 3), "0202", "0201"),
    ]


def test_a_file_that_is_not_parquet_is_rejected(inbox: Inbox) -> None:
    inbox.mapping(format="parquet")
    report = inbox.ingest(inbox.write("pnc.parquet", inbox.csv_text(rows(2))))
    assert report.status == "rejected"
    assert "pnc.parquet: not a readable Parquet file" in report.message


def test_quarantined_raw_record_is_a_json_list_in_header_order(inbox: Inbox) -> None:
    report = inbox.ingest(inbox.csv("q.csv", [row(folio=1, edad="treinta", observaciones="nota")]))
    raw = inbox.query("SELECT raw_record FROM quarantine WHERE load_id = ?", [report.load_id])[0][0]
    assert json.loads(raw) == [
        "1",
        "15/03/2021",
        "San José",
        "Escazú",
        "F",
        "treinta",
        "Ana",
        "HOM",
        "nota",
    ]
