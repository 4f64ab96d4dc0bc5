"""Validation rules: each quarantined row says which rule, which column, which value and what was
expected; warnings load the row and are reported; nothing is lost."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import HEADER, Inbox, assert_adds_up, row, rows


def only_error(inbox: Inbox, load_id: int, row_number: int) -> dict[str, str]:
    errors = inbox.quarantine(load_id)[row_number]["errors"]
    assert len(errors) == 1, errors
    return errors[0]


def test_unknown_municipality_is_quarantined_with_a_did_you_mean(inbox: Inbox) -> None:
    report = inbox.ingest(
        inbox.csv("pnc.csv", [row(folio=1, municipio="Escasu"), row(folio=2, municipio="ESCAZU")])
    )
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    assert_adds_up(report, inbox)
    error = only_error(inbox, report.load_id, 2)
    assert error["rule"] == "territory_known"
    assert error["column"] == "depto + municipio"
    assert error["value"] == "San José / Escasu"
    assert "did you mean 'Escazú' (0101)?" in error["message"]
    assert "territory.aliases" in error["message"]


def test_unknown_parent_is_named_with_a_suggestion(inbox: Inbox) -> None:
    report = inbox.ingest(
        inbox.csv("pnc.csv", [row(folio=1, depto="Alajuella", municipio="Grecia")])
    )
    error = only_error(inbox, report.load_id, 2)
    assert error["rule"] == "territory_known"
    assert (
        "unknown parent 'Alajuella'" in error["message"]
        and "did you mean 'Alajuela'" in error["message"]
    )


def test_dates_in_three_listed_formats_load_and_a_fourth_is_quarantined_naming_the_formats(
    inbox: Inbox,
) -> None:
    formats = ["%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"]
    inbox.mapping(dates={"occurred_date": formats})
    records = [
        row(folio=1, fecha="15/03/2021"),
        row(folio=2, fecha="2021-03-16"),
        row(folio=3, fecha="17.03.2021"),
        row(folio=4, fecha="March 18, 2021"),
    ]
    report = inbox.ingest(inbox.csv("pnc.csv", records))
    assert (report.rows_loaded, report.rows_quarantined) == (3, 1)
    assert_adds_up(report, inbox)
    assert inbox.query("SELECT source_record_id, occurred_date FROM event ORDER BY 1") == [
        ("1", dt.date(2021, 3, 15)),
        ("2", dt.date(2021, 3, 16)),
        ("3", dt.date(2021, 3, 17)),
    ]
    error = only_error(inbox, report.load_id, 5)
    assert (error["rule"], error["column"], error["value"]) == ("type", "fecha", "March 18, 2021")
    assert (
        "dd/mm/yyyy, yyyy-mm-dd, dd.mm.yyyy" in error["message"]
    )  # the formats, as a person writes them
    assert "dates.occurred_date" in error["message"]


def test_two_digit_year_format_listed_after_a_four_digit_one_still_parses(inbox: Inbox) -> None:
    inbox.mapping(dates={"occurred_date": ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%y"]})
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, fecha="17-03-21")]))
    assert report.rows_loaded == 1
    assert inbox.query("SELECT occurred_date FROM event") == [(dt.date(2021, 3, 17),)]


def test_an_impossible_date_is_a_type_error(inbox: Inbox) -> None:
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, fecha="31/02/2021")]))
    error = only_error(inbox, report.load_id, 2)
    assert (error["rule"], error["value"]) == ("type", "31/02/2021")


def test_future_dates_are_quarantined_naming_the_day_of_the_load(inbox: Inbox) -> None:
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=1)
    records = [
        row(folio=1, fecha=today.strftime("%d/%m/%Y")),
        row(folio=2, fecha=tomorrow.strftime("%d/%m/%Y")),
    ]
    report = inbox.ingest(inbox.csv("pnc.csv", records))
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    error = only_error(inbox, report.load_id, 3)
    assert (error["rule"], error["column"], error["value"]) == (
        "date_not_future",
        "fecha",
        tomorrow.strftime("%d/%m/%Y"),
    )
    assert today.isoformat() in error["message"]


def test_dates_before_1900_are_quarantined(inbox: Inbox) -> None:
    report = inbox.ingest(
        inbox.csv("pnc.csv", [row(folio=1, fecha="01/01/1900"), row(folio=2, fecha="31/12/1899")])
    )
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    error = only_error(inbox, report.load_id, 3)
    assert (error["rule"], error["column"], error["value"]) == (
        "date_after_1900",
        "fecha",
        "31/12/1899",
    )
    assert "1900-01-01" in error["message"]


@pytest.mark.parametrize(
    ("age", "loads"), [("0", True), ("120", True), ("121", False), ("130", False), ("-1", False)]
)
def test_age_outside_0_to_120_is_quarantined(inbox: Inbox, age: str, loads: bool) -> None:
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, edad=age)]))
    assert report.rows_loaded == int(loads)
    assert_adds_up(report, inbox)
    if not loads:
        error = only_error(inbox, report.load_id, 2)
        assert (error["rule"], error["column"], error["value"]) == ("age_range", "edad", age)
        assert "between 0 and 120" in error["message"]


def test_age_that_is_not_a_number_is_a_type_error(inbox: Inbox) -> None:
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, edad="treinta")]))
    error = only_error(inbox, report.load_id, 2)
    assert (error["rule"], error["column"], error["value"]) == ("type", "edad", "treinta")
    assert "whole number" in error["message"]


FORMULAS = [
    '=HYPERLINK("http://x.example","clic")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "=1+1;cmd|' /C calc'!A0",
    "=cmd|'/C notepad'!A1",
]


def test_formula_payloads_in_text_fields_are_stored_as_text_exactly(inbox: Inbox) -> None:
    report = inbox.ingest(
        inbox.csv("pnc.csv", [row(folio=i, nombre=f) for i, f in enumerate(FORMULAS, 1)])
    )
    assert report.rows_loaded == len(FORMULAS)
    stored = inbox.query(
        "SELECT given_names FROM person_identity ORDER BY CAST(split_part(person_id, ':', 2) AS INT)"
    )
    assert [s[0] for s in stored] == FORMULAS


def test_total_and_footer_rows_are_quarantined_with_their_reason(inbox: Inbox) -> None:
    inbox.mapping(skip_rows=[{"column": "folio", "pattern": "^(TOTAL|Total)"}])
    blank = ["", "", "", "", "", "", "", "", ""]
    records = [*rows(2), ["TOTAL", *blank[1:]], ["Total general", *blank[1:]]]
    report = inbox.ingest(inbox.csv("pnc.csv", records))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (4, 2, 2)
    assert_adds_up(report, inbox)
    q = inbox.quarantine(report.load_id)
    for number, value in ((4, "TOTAL"), (5, "Total general")):
        skip = [e for e in q[number]["errors"] if e["rule"] == "skip_row"]
        assert skip and skip[0]["column"] == "folio" and skip[0]["value"] == value
        assert "total or footer row" in skip[0]["message"] and "skip_rows[0]" in skip[0]["message"]
        assert q[number]["raw"][0] == value


def test_duplicate_record_ids_keep_the_first_and_quarantine_the_rest_naming_the_first_row(
    inbox: Inbox,
) -> None:
    report = inbox.ingest(
        inbox.csv(
            "pnc.csv",
            [
                row(folio=1),
                row(folio=2),
                row(folio=1, nombre="Otra"),
                row(folio=1, nombre="Tercera"),
            ],
        )
    )
    assert (report.rows_loaded, report.rows_quarantined) == (2, 2)
    assert_adds_up(report, inbox)
    for number in (4, 5):
        error = only_error(inbox, report.load_id, number)
        assert (error["rule"], error["column"], error["value"]) == (
            "duplicate_record_id",
            "folio",
            "1",
        )
        assert "first seen on row 2" in error["message"]
    assert inbox.query("SELECT count(*) FROM person WHERE source_record_id = '1'") == [(1,)]


def test_record_ids_that_differ_only_by_spaces_are_duplicates(inbox: Inbox) -> None:
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio="1"), row(folio=" 1 ")]))
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    assert inbox.query("SELECT count(*) FROM person WHERE person_id = 'police:1'") == [(1,)]


@pytest.mark.parametrize("rules", [{"type": "warning"}, {"required": "warning"}])
def test_downgraded_rules_never_let_a_row_without_a_period_date_crash_the_load(
    inbox: Inbox, rules: dict[str, str]
) -> None:
    inbox.mapping(rules=rules)
    report = inbox.ingest(
        inbox.csv("pnc.csv", [row(folio=1), row(folio=2, fecha="ayer"), row(folio=3, fecha="")])
    )
    assert report.status == "loaded"
    assert (report.rows_loaded, report.rows_quarantined) == (1, 2)


def test_a_warning_loads_the_row_and_is_reported(inbox: Inbox) -> None:
    inbox.mapping(rules={"age_range": "warning"})
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, edad=130), row(folio=2)]))
    assert (report.rows_loaded, report.rows_quarantined, report.rows_with_warnings) == (2, 0, 1)
    (issue,) = inbox.issues(report.load_id)
    assert (issue["row"], issue["rule"], issue["severity"], issue["column"], issue["value"]) == (
        2,
        "age_range",
        "warning",
        "edad",
        "130",
    )
    (finding,) = report.findings
    assert (finding.rule, finding.severity, finding.rows, finding.example.row) == (
        "age_range",
        "warning",
        1,
        2,
    )


def test_a_rule_turned_off_is_not_checked(inbox: Inbox) -> None:
    inbox.mapping(rules={"age_range": "off"})
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, edad=130)]))
    assert report.rows_loaded == 1 and inbox.issues(report.load_id) == []


def test_names_never_reach_the_findings_but_the_quarantine_keeps_them(inbox: Inbox) -> None:
    long_name = "María José " * 40  # beyond given_names' 300 characters
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, nombre=long_name)]))
    q = inbox.quarantine(report.load_id)[2]
    (error,) = q["errors"]
    assert (error["rule"], error["column"], error["value"]) == ("text_length", "nombre", None)
    assert "María" not in error["message"]
    assert all("María" not in str(f.example) for f in report.findings)
    assert q["raw"][6] == long_name  # nothing lost


def test_every_error_of_a_row_is_listed(inbox: Inbox) -> None:
    report = inbox.ingest(
        inbox.csv("pnc.csv", [row(folio=1, edad="x", sexo="X", delito="ROB", fecha="")])
    )
    errors = inbox.quarantine(report.load_id)[2]["errors"]
    assert sorted((e["rule"], e["column"]) for e in errors) == [
        ("code_in_list", "sexo"),
        ("offence_code_known", "delito"),
        ("required", "fecha"),
        ("type", "edad"),
    ]
    # the load issue table holds the same findings, one per rule
    assert sorted(i["rule"] for i in inbox.issues(report.load_id)) == [
        "code_in_list",
        "offence_code_known",
        "required",
        "type",
    ]


def test_value_maps_translate_institution_codes(inbox: Inbox) -> None:
    inbox.mapping(values={"sex": {"H": "M", "Mujer": "F"}})
    report = inbox.ingest(
        inbox.csv(
            "pnc.csv",
            [row(folio=1, sexo="H"), row(folio=2, sexo=" mujer "), row(folio=3, sexo="Q")],
        )
    )
    assert inbox.query("SELECT source_record_id, sex FROM person ORDER BY 1") == [
        ("1", "M"),
        ("2", "F"),
    ]
    error = only_error(inbox, report.load_id, 4)
    assert (error["rule"], error["column"], error["value"]) == ("code_in_list", "sexo", "Q")
    assert "values.sex" in error["message"]


def test_offence_codes_map_to_iccs(inbox: Inbox) -> None:
    report = inbox.ingest(
        inbox.csv(
            "pnc.csv",
            [row(folio=1, delito="HOM"), row(folio=2, delito="LES"), row(folio=3, delito="ROB")],
        )
    )
    assert inbox.query("SELECT offence_code, iccs_code FROM event ORDER BY 1") == [
        ("HOM", "0101"),
        ("LES", "0201"),
    ]
    error = only_error(inbox, report.load_id, 4)
    assert (error["rule"], error["column"], error["value"]) == (
        "offence_code_known",
        "delito",
        "ROB",
    )


def test_coordinates_outside_the_territory_are_a_warning(inbox: Inbox) -> None:
    inbox.mapping(columns={**_base_columns(), "lat": "latitude", "lon": "longitude"})
    header = [*(h for h in HEADER if h != "observaciones"), "lat", "lon"]
    records = [
        [*list(row(folio=1).values())[:8], "9.95", "-84.15"],  # inside Escazú's square
        [*list(row(folio=2).values())[:8], "10.5", "-83.0"],  # far away
        [*list(row(folio=3).values())[:8], "95", "-84.15"],  # not a latitude
        [*list(row(folio=4).values())[:8], "9.95", ""],  # half a pair
    ]
    report = inbox.ingest(inbox.csv("pnc.csv", records, header=header))
    assert (report.rows_loaded, report.rows_quarantined, report.rows_with_warnings) == (2, 2, 1)
    issues = {(i["row"], i["rule"]): i for i in inbox.issues(report.load_id)}
    assert issues[(3, "coordinates_in_territory")]["severity"] == "warning"
    assert issues[(3, "coordinates_in_territory")]["value"] == "10.5 / -83.0"
    assert issues[(4, "coordinates_valid")]["severity"] == "error"
    assert issues[(5, "coordinates_valid")]["value"] == "9.95"


def _base_columns() -> dict[str, str]:
    from tests.conftest import BASE_MAPPING

    return dict(BASE_MAPPING["columns"])
