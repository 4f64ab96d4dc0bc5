"""Loads are atomic and idempotent; a resent month replaces the earlier one in the *_current views
while the history stays; a rejected file is recorded and can be loaded once the mapping is fixed."""

from __future__ import annotations

import datetime as dt

import pytest

import segura.ingest.load as load_module
from tests.conftest import Inbox, assert_adds_up, row, rows


def test_the_same_file_twice_changes_nothing(inbox: Inbox) -> None:
    path = inbox.csv("marzo.csv", [*rows(3), row(folio=9, edad=200)])
    first = inbox.ingest(path)
    assert first.status == "loaded"
    before = inbox.counts()
    inbox.release()  # the second attempt starts from the file, in a new connection

    second = inbox.ingest(path)
    assert second.status == "already_loaded"
    assert (
        second.message
        == f"marzo.csv was already loaded as load {first.load_id} (same sha256); nothing changed."
    )
    assert inbox.counts() == before  # every table, row for row
    # the report still tells what that load did
    assert (second.load_id, second.rows_read, second.rows_loaded, second.rows_quarantined) == (
        first.load_id,
        4,
        3,
        1,
    )


def test_the_same_bytes_under_another_name_are_the_same_file(inbox: Inbox) -> None:
    path = inbox.csv("marzo.csv", rows(3))
    first = inbox.ingest(path)
    before = inbox.counts()
    copy = inbox.write("marzo (copia).csv", path.read_bytes())
    second = inbox.ingest(copy)
    assert second.status == "already_loaded" and f"load {first.load_id}" in second.message
    assert inbox.counts() == before


def test_already_loaded_with_a_changed_mapping_points_to_reload(inbox: Inbox) -> None:
    path = inbox.csv("marzo.csv", rows(2))
    inbox.ingest(path)
    inbox.mapping(rules={"age_range": "warning"})
    second = inbox.ingest(path)
    assert second.status == "already_loaded"
    assert "The mapping has changed since" in second.message and "--reload" in second.message
    third = inbox.ingest(path, reload=True)
    assert third.status == "loaded" and third.load_id != second.load_id
    assert third.replaces == [{"month": "2021-03", "load_id": second.load_id}]


def test_a_corrected_extract_for_the_same_month_replaces_the_earlier_one_in_current_views(
    inbox: Inbox,
) -> None:
    first = inbox.ingest(
        inbox.csv("marzo.csv", [row(folio=1), row(folio=2, edad=200), row(folio=3, sexo="M")])
    )
    assert (first.rows_loaded, first.months) == (2, ["2021-03"])
    corrected = [
        row(folio=1),
        row(folio=2, edad=20),
        row(folio=3, sexo="F"),
        row(folio=4, fecha="30/03/2021"),
    ]
    second = inbox.ingest(inbox.csv("marzo-corregido.csv", corrected))
    assert second.status == "loaded" and second.rows_loaded == 4
    assert second.replaces == [{"month": "2021-03", "load_id": first.load_id}]

    # current views: only the corrected extract
    assert inbox.query("SELECT DISTINCT load_id FROM person_current") == [(second.load_id,)]
    assert inbox.query("SELECT DISTINCT load_id FROM event_current") == [(second.load_id,)]
    assert inbox.query("SELECT source_record_id, sex, age FROM person_current ORDER BY 1") == [
        ("1", "F", 34),
        ("2", "F", 20),
        ("3", "F", 34),
        ("4", "F", 34),
    ]
    # history: both loads stay in the tables
    assert inbox.query("SELECT load_id, count(*) FROM person GROUP BY 1 ORDER BY 1") == [
        (first.load_id, 2),
        (second.load_id, 4),
    ]
    assert inbox.query("SELECT load_id, count(*) FROM event GROUP BY 1 ORDER BY 1") == [
        (first.load_id, 2),
        (second.load_id, 4),
    ]


def test_a_later_month_does_not_replace_an_earlier_one(inbox: Inbox) -> None:
    march = inbox.ingest(inbox.csv("marzo.csv", rows(2)))
    april = inbox.ingest(inbox.csv("abril.csv", rows(3, start=10, fecha="02/04/2021")))
    assert april.replaces == []
    assert inbox.query("SELECT load_id, count(*) FROM person_current GROUP BY 1 ORDER BY 1") == [
        (march.load_id, 2),
        (april.load_id, 3),
    ]


def test_a_rejected_file_is_recorded_and_loads_after_the_mapping_is_fixed(inbox: Inbox) -> None:
    header = [
        "FOLIO",
        "FECHA",
        "DEPTO",
        "MUNICIPIO",
        "SEXO",
        "EDAD",
        "NOMBRE",
        "DELITO",
        "OBSERVACIONES",
    ]
    path = inbox.csv("pnc.csv", [list(r.values()) for r in rows(2)], header=header, delimiter=";")
    inbox.mapping(delimiter=",")
    rejected = inbox.ingest(path)
    assert rejected.status == "rejected"
    load = inbox.load_row(rejected.load_id)
    assert (load["status"], load["file_name"], load["rows_read"], load["rows_loaded"]) == (
        "rejected",
        "pnc.csv",
        0,
        0,
    )
    assert "';'-delimited" in load["message"]
    assert load["sha256"] == rejected.sha256

    inbox.mapping(delimiter=";")  # header names match regardless of case
    fixed = inbox.ingest(path)
    assert fixed.status == "loaded", fixed.message
    assert (fixed.rows_read, fixed.rows_loaded) == (2, 2)
    assert fixed.load_id != rejected.load_id
    assert_adds_up(fixed, inbox)
    statuses = inbox.query(
        "SELECT status FROM load WHERE sha256 = ? ORDER BY load_id", [fixed.sha256]
    )
    assert statuses == [("rejected",), ("loaded",)]


def test_a_failure_in_the_middle_of_a_load_leaves_the_warehouse_as_before(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox.ingest(inbox.csv("febrero.csv", rows(2, fecha="01/02/2021")))
    before = inbox.counts()
    real_record = load_module._record_load

    def crash_after_writing(*args: object, **kwargs: object) -> None:
        real_record(*args, **kwargs)  # events, persons, quarantine and the load row are written...
        raise RuntimeError("disk full")  # ...and then the process fails before COMMIT

    monkeypatch.setattr(load_module, "_record_load", crash_after_writing)
    with pytest.raises(RuntimeError, match="disk full"):
        inbox.ingest(inbox.csv("marzo.csv", [*rows(3), row(folio=9, edad=200)]))
    assert inbox.counts() == before
    monkeypatch.undo()
    report = inbox.ingest(inbox.ws.root / "inbox" / "marzo.csv")
    assert report.status == "loaded" and (report.rows_loaded, report.rows_quarantined) == (3, 1)


def test_declared_period_quarantines_rows_outside_it_and_covers_every_month(inbox: Inbox) -> None:
    records = [row(folio=1, fecha="15/03/2021"), row(folio=2, fecha="01/05/2021")]
    report = inbox.ingest(inbox.csv("t1.csv", records), period="2021-03:2021-04")
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    (error,) = inbox.quarantine(report.load_id)[3]["errors"]
    assert (error["rule"], error["value"]) == ("period_declared", "01/05/2021")
    assert "2021-03-01 to 2021-04-30" in error["message"]
    assert report.months == [
        "2021-03",
        "2021-04",
    ]  # April is covered (and replaced) even with no rows


def test_load_row_records_what_happened(inbox: Inbox) -> None:
    report = inbox.ingest(
        inbox.csv("marzo.csv", [*rows(2), row(folio=3, edad=-4), row(folio=4, edad=130)])
    )
    load = inbox.load_row(report.load_id)
    assert load["source_id"] == "police" and load["file_name"] == "marzo.csv"
    assert load["sha256"] == report.sha256 and len(report.sha256) == 64
    assert (load["rows_read"], load["rows_loaded"], load["rows_quarantined"]) == (4, 2, 2)
    assert (load["period_start"], load["period_end"]) == (dt.date(2021, 3, 1), dt.date(2021, 3, 1))
    assert load["encoding"] == "utf-8" and load["format"] == "csv"
    assert load["mapping_sha256"] == inbox.ws.mapping("police").sha256
