"""Territory matching: names match regardless of case, accents and spacing, within their parent;
codes may be padded; aliases come first; an unknown or ambiguous name says why."""

from __future__ import annotations

import pytest

from tests.conftest import Inbox, row


@pytest.mark.parametrize(
    ("depto", "municipio", "code"),
    [
        ("San José", "Escazú", "0101"),
        ("SAN JOSE", "ESCAZU", "0101"),
        ("  san  josé ", "escazú.", "0101"),
        ("San José", "San Rafael", "0103"),  # the same name exists in both departments
        ("Alajuela", "San Rafael", "0203"),
        ("01", "Desamparados", "0102"),  # the parent given by its code
    ],
)
def test_names_resolve_within_their_parent(
    inbox: Inbox, depto: str, municipio: str, code: str
) -> None:
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, depto=depto, municipio=municipio)]))
    assert report.rows_loaded == 1, inbox.quarantine(report.load_id)
    assert inbox.query("SELECT territory_code FROM event") == [(code,)]


def test_a_name_shared_by_two_parents_is_ambiguous_without_the_parent_column(inbox: Inbox) -> None:
    inbox.mapping(territory={"by": "name", "columns": ["municipio"], "level": "admin2"})
    report = inbox.ingest(
        inbox.csv(
            "pnc.csv", [row(folio=1, municipio="San Rafael"), row(folio=2, municipio="Grecia")]
        )
    )
    assert report.rows_loaded == 1
    (error,) = inbox.quarantine(report.load_id)[2]["errors"]
    assert error["rule"] == "territory_known" and error["value"] == "San Rafael"
    assert (
        "ambiguous" in error["message"]
        and "0103" in error["message"]
        and "0203" in error["message"]
    )
    assert "map the parent column too" in error["message"]


def test_aliases_come_first(inbox: Inbox) -> None:
    inbox.mapping(
        territory={
            "by": "name",
            "columns": ["depto", "municipio"],
            "level": "admin2",
            "aliases": {"Escasú": "0101", "Alajuela/SR": "San Rafael"},
        }
    )
    records = [
        row(folio=1, municipio="Escasú"),
        row(folio=2, depto="Alajuela", municipio="SR"),
        row(folio=3, depto="San José", municipio="SR"),
    ]
    report = inbox.ingest(inbox.csv("pnc.csv", records))
    assert inbox.query("SELECT source_record_id, territory_code FROM event ORDER BY 1") == [
        ("1", "0101"),
        ("2", "0203"),
    ]
    assert list(inbox.quarantine(report.load_id)) == [4]  # 'SR' is an alias only within Alajuela


def test_alias_to_a_missing_target_says_so(inbox: Inbox) -> None:
    inbox.mapping(
        territory={
            "by": "name",
            "columns": ["depto", "municipio"],
            "level": "admin2",
            "aliases": {"Xela": "0901"},
        }
    )
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, municipio="Xela")]))
    (error,) = inbox.quarantine(report.load_id)[2]["errors"]
    assert "the alias target '0901' is not a territory code or name" in error["message"]


@pytest.mark.parametrize(
    ("raw", "code"), [("101", "0101"), ("0101", "0101"), ("203", "0203"), ("101.0", "0101")]
)
def test_codes_are_padded(inbox: Inbox, raw: str, code: str) -> None:
    inbox.mapping(territory={"by": "code", "columns": ["municipio"], "level": "admin2", "pad": [4]})
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, municipio=raw)]))
    assert report.rows_loaded == 1, inbox.quarantine(report.load_id)
    assert inbox.query("SELECT territory_code FROM event") == [(code,)]


def test_an_unknown_code_names_codes_with_the_same_prefix(inbox: Inbox) -> None:
    inbox.mapping(territory={"by": "code", "columns": ["municipio"], "level": "admin2", "pad": [4]})
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, municipio="109")]))
    (error,) = inbox.quarantine(report.load_id)[2]["errors"]
    assert error["rule"] == "territory_known" and error["value"] == "109"
    assert (
        "no admin2 with code '0109'" in error["message"] and "0101, 0102, 0103" in error["message"]
    )


def test_a_blank_territory_is_not_a_territory_error(inbox: Inbox) -> None:
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, depto="", municipio="")]))
    assert report.rows_loaded == 1
    assert inbox.query("SELECT territory_code FROM event") == [(None,)]


@pytest.mark.parametrize("by", ["name", "code"])
def test_an_alias_may_place_a_record_in_its_state_but_not_below_its_level(inbox: Inbox, by: str) -> None:
    """'Municipality not specified' rows go to their state, on purpose and only by an alias; the
    indicators then show them as the state's unspecified row."""
    unknown_key = "San José/No especificado" if by == "name" else "01999"
    inbox.mapping(territory={
        "by": by, "columns": ["depto", "municipio"], "level": "admin2",
        **({"pad": [2, 2]} if by == "code" else {}),
        "aliases": {unknown_key: "01"},
    })
    records = ([row(folio=1, depto="San José", municipio="No especificado"), row(folio=2, depto="San José", municipio="Escazú")]
               if by == "name" else [row(folio=1, depto="01", municipio="999"), row(folio=2, depto="01", municipio="01")])
    report = inbox.ingest(inbox.csv("pnc.csv", records))
    assert report.rows_loaded == 2, inbox.quarantine(report.load_id)
    assert sorted(inbox.query("SELECT territory_code FROM event")) == [("01",), ("0101",)]


def test_a_code_of_the_coarser_level_without_an_alias_is_still_refused(inbox: Inbox) -> None:
    inbox.mapping(territory={"by": "code", "columns": ["municipio"], "level": "admin2"})
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, municipio="01")]))
    assert report.rows_loaded == 0
