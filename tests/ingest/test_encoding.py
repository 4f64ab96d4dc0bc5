"""Encodings: a file whose bytes contradict the mapping is rejected with the row, column, the bytes
and how they read in the other encoding; cp1252's special characters arrive intact."""

from __future__ import annotations

import codecs

import pytest

from segura.errors import ExtractRejected
from segura.ingest.encoding import SAMPLE_BYTES, decide_encoding
from tests.conftest import HEADER, Inbox, assert_adds_up, row, rows


def test_latin1_bytes_in_a_file_declared_utf8_are_rejected_naming_row_column_bytes_and_cp1252_reading(
    inbox: Inbox,
) -> None:
    path = inbox.csv(
        "pnc.csv",
        [
            row(folio=1, depto="Alajuela", municipio="Grecia"),
            row(folio=2, depto="Alajuela", municipio="Grecia", nombre="José Pérez"),
        ],
        encoding="cp1252",
    )
    report = inbox.ingest(path)
    assert report.status == "rejected"
    msg = report.message
    assert msg.startswith("pnc.csv: the mapping says UTF-8 but the file is not valid UTF-8")
    assert "row 3, column nombre" in msg
    assert "character 4: byte e9, which is 'é' in cp1252" in msg  # the bytes and how they read in cp1252
    assert "Jos" not in msg and "rez" not in msg, "the value may be a name: only the bad bytes are quoted"
    assert "encoding: cp1252" in msg  # what to do
    assert inbox.load_row(report.load_id)["status"] == "rejected"
    assert inbox.counts()["person"] == 0


def test_utf8_file_declared_cp1252_is_rejected_naming_the_mojibake(inbox: Inbox) -> None:
    inbox.mapping(encoding="cp1252")
    path = inbox.csv(
        "pnc.csv",
        [
            row(folio=1, depto="Alajuela", municipio="Grecia"),
            row(folio=2, depto="Alajuela", municipio="Grecia", nombre="Pérez"),
        ],
        encoding="utf-8",
    )
    report = inbox.ingest(path)
    assert report.status == "rejected"
    msg = report.message
    assert msg.startswith("pnc.csv: the mapping says cp1252 but the file is UTF-8")
    assert "row 3, column nombre: 'Ã©' for 'é'" in msg
    assert "rez" not in msg, "the value may be a name: only the garbled pair is quoted"
    assert "encoding: utf-8" in msg


@pytest.mark.parametrize("declared", ["utf-8", "utf-8-sig", "auto"])
def test_utf8_with_bom_loads_and_the_bom_is_not_part_of_the_first_column(
    inbox: Inbox, declared: str
) -> None:
    inbox.mapping(encoding=declared)
    path = inbox.write(
        "bom.csv", codecs.BOM_UTF8 + inbox.csv_text([row(folio=7, nombre="José")]).encode("utf-8")
    )
    report = inbox.ingest(path)
    assert report.status == "loaded" and report.rows_loaded == 1
    assert inbox.query("SELECT source_record_id FROM person") == [
        ("7",)
    ]  # 'folio' matched despite the BOM
    assert inbox.query("SELECT given_names FROM person_identity") == [("José",)]
    assert inbox.load_row(report.load_id)["encoding"] == "utf-8+bom"


def test_bom_in_a_file_declared_cp1252_is_rejected(inbox: Inbox) -> None:
    inbox.mapping(encoding="cp1252")
    report = inbox.ingest(
        inbox.write("bom.csv", codecs.BOM_UTF8 + inbox.csv_text(rows(1)).encode("utf-8"))
    )
    assert report.status == "rejected"
    assert "byte order mark" in report.message and "encoding: utf-8" in report.message


# Every printable character cp1252 puts in 0x80-0x9F, where Latin-1 has control characters.
CP1252_SPECIALS = bytes(
    b for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
).decode("cp1252")


@pytest.mark.parametrize("declared", ["cp1252", "latin-1", "auto"])
def test_cp1252_special_characters_are_decoded(inbox: Inbox, declared: str) -> None:
    inbox.mapping(encoding=declared)
    names = ["€ 100 “Ana” – ‘la Flaca’ — Œ š ™ …", CP1252_SPECIALS, "Ñandú Pérez ÿ"]
    path = inbox.csv(
        "pnc.csv", [row(folio=i, nombre=n) for i, n in enumerate(names, 1)], encoding="cp1252"
    )
    report = inbox.ingest(path)
    assert report.status == "loaded", report.message
    assert report.rows_loaded == 3
    stored = [
        r[0] for r in inbox.query("SELECT given_names FROM person_identity ORDER BY person_id")
    ]
    assert stored == names
    assert inbox.query("SELECT DISTINCT territory_code FROM event") == [
        ("0101",)
    ]  # 'San José' / 'Escazú' too


def test_cp1252_bytes_left_undefined_are_kept_not_dropped(inbox: Inbox) -> None:
    inbox.mapping(encoding="cp1252")
    data = (
        inbox.csv_text([row(folio=1, nombre="€QQQ")])
        .encode("cp1252")
        .replace(b"QQQ", b"a\x81b\x9dc")
    )
    report = inbox.ingest(inbox.write("pnc.csv", data))
    assert_adds_up(report, inbox)
    stored = inbox.query("SELECT given_names FROM person_identity")
    assert stored == [("€a\x81b\x9dc",)]


def test_cp1252_file_without_special_bytes_loads(inbox: Inbox) -> None:
    inbox.mapping(encoding="cp1252")
    report = inbox.ingest(inbox.csv("pnc.csv", [row(folio=1, nombre="Ñandú")], encoding="cp1252"))
    assert report.rows_loaded == 1
    assert inbox.query("SELECT given_names FROM person_identity") == [("Ñandú",)]


def test_cp1252_transcoding_keeps_row_numbers_and_leaves_no_temporary_file(inbox: Inbox) -> None:
    inbox.mapping(encoding="cp1252")
    text = (
        inbox.csv_text([row(folio=1, nombre="“a\nb”"), row(folio=2, nombre="€")])
        + "3,roto\r\n"
        + inbox.csv_text([row(folio=4)], header=None)
    )
    report = inbox.ingest(inbox.write("pnc.csv", text.encode("cp1252")))
    assert_adds_up(report, inbox)
    assert inbox.loaded_rows(report.load_id) == [2, 3, 5]
    assert inbox.quarantine(report.load_id)[4]["raw"] == "3,roto"
    spill = inbox.ws.root / ".segura-tmp"
    assert not list(spill.glob("cp1252-*")), "the UTF-8 copy of the extract must be deleted"


def test_invalid_utf8_beyond_the_sampled_megabytes_quarantines_that_row(inbox: Inbox) -> None:
    """The declaration is checked on the first 4 MB; a bad row after that is quarantined, not lost."""
    n = SAMPLE_BYTES // 48 + 1000  # each row is about 50 bytes
    good = inbox.csv_text(rows(n))
    assert len(good) > SAMPLE_BYTES
    late = good + inbox.csv_text([row(folio=n + 1, nombre="QQQ"), row(folio=n + 2)], header=None)
    data = late.encode("utf-8").replace(b"QQQ", "José".encode("cp1252"))
    report = inbox.ingest(inbox.write("largo.csv", data))
    assert report.status == "loaded"
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (n + 2, n + 1, 1)
    assert_adds_up(report, inbox)
    ((number, q),) = inbox.quarantine(report.load_id).items()
    assert number == n + 2  # folio n+1 is on row n+2
    (error,) = q["errors"]
    assert (error["rule"], error["column"]) == ("encoding", "nombre")
    assert "utf-8" in error["message"] and "`encoding`" in error["message"]
    assert q["raw"].startswith(f"{n + 1},15/03/2021,San José,Escazú")


# -- decide_encoding on its own ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("a,b\n1,José\n".encode(), "auto", ("utf-8", False)),
        (codecs.BOM_UTF8 + "a,b\n1,José\n".encode(), "auto", ("utf-8", True)),
        ("a,b\n1,José\n".encode("cp1252"), "auto", ("cp1252", False)),
        (b"a,b\n1,Jose\n", "cp1252", ("cp1252", False)),
        ("a,b\n1,José\n".encode("cp1252"), "latin-1", ("latin-1", False)),
        (b"a,b\n1,2\n", "utf-8", ("utf-8", False)),
    ],
)
def test_decide_encoding(tmp_path, data: bytes, declared: str, expected: tuple[str, bool]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.csv"
    path.write_bytes(data)
    decision = decide_encoding(
        path, declared, delimiter=",", quote='"', header_row=1, mapping_name="m.yaml"
    )
    assert (decision.encoding, decision.bom) == expected
    assert decision.note


def test_decide_encoding_names_header_position_when_the_header_itself_is_bad(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.csv"
    path.write_bytes("año,b\n1,2\n".encode("cp1252"))
    with pytest.raises(ExtractRejected) as err:
        decide_encoding(
            path, "utf-8", delimiter=",", quote='"', header_row=1, mapping_name="m.yaml"
        )
    assert "row 1, column #1, character 2: byte f1, which is 'ñ' in cp1252" in str(err.value)


def test_header_used_by_the_tests_is_ascii() -> None:
    # The encoding tests above rely on the header reading the same in every encoding.
    assert all(h.isascii() for h in HEADER)
