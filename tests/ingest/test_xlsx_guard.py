"""Unsafe XLSX files are refused before any parser sees them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from segura.errors import ExtractRejected
from segura.ingest.xlsx_guard import MAX_RATIO, check_xlsx
from tests.conftest import HEADER, Inbox

CONTENT_TYPES = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def write_zip_bomb(path: Path, megabytes: int = 300) -> None:
    """A zip with [Content_Types].xml and a sheet part of `megabytes` MB of zeros, written
    streaming (never held in memory); about 0.3 MB on disk."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        with zf.open("xl/worksheets/sheet1.xml", "w") as part:
            chunk = b"\0" * (1 << 20)
            for _ in range(megabytes):
                part.write(chunk)


def billion_laughs(levels: int = 10) -> str:
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE lolz [", ' <!ENTITY lol "lol">']
    for i in range(1, levels):
        prev = "lol" if i == 1 else f"lol{i - 1}"
        lines.append(f' <!ENTITY lol{i} "' + f"&{prev};" * 10 + '">')
    lines += [
        "]>",
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol{levels - 1};</t></is></c></row></sheetData></worksheet>',
    ]
    return "\n".join(lines)


def write_xml_bomb(path: Path, template: Path) -> None:
    """A real workbook (from openpyxl) whose sheet1.xml is replaced by a billion-laughs document."""
    with zipfile.ZipFile(template) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = billion_laughs().encode()
            zout.writestr(item, data)


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bombs") / "pnc.xlsx"
    write_zip_bomb(path)
    return path


@pytest.fixture
def no_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if python-calamine is asked to open anything: refusal must come first."""
    import python_calamine

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the spreadsheet parser was reached")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", refuse)


def test_zip_bomb_is_small_on_disk(zip_bomb: Path) -> None:
    assert zip_bomb.stat().st_size < 1024 * 1024
    with zipfile.ZipFile(zip_bomb) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == 300 * 1024 * 1024


def test_zip_bomb_is_rejected_before_parsing(inbox: Inbox, zip_bomb: Path, no_parser: None) -> None:
    inbox.mapping(format="xlsx")
    report = inbox.ingest(zip_bomb)
    assert report.status == "rejected"
    assert report.message.startswith("pnc.xlsx: part xl/worksheets/sheet1.xml inflates")
    assert f"at most {MAX_RATIO} expected" in report.message and "zip bomb" in report.message
    assert inbox.load_row(report.load_id)["status"] == "rejected"
    assert inbox.counts()["person"] == 0


def test_zip_bomb_that_hides_its_size_is_refused(tmp_path: Path) -> None:
    """A bomb whose headers claim 1,000 bytes: the zip reader stops at the declared size and the
    CRC check fails, so it is refused as damaged (and never inflated in full)."""
    path = tmp_path / "liar.xlsx"
    write_zip_bomb(path, megabytes=40)
    data = bytearray(path.read_bytes())
    size = (40 * 1024 * 1024).to_bytes(4, "little")
    fake = (1000).to_bytes(4, "little")
    assert data.count(size) == 2  # the local header and the central directory
    path.write_bytes(bytes(data).replace(size, fake))
    with pytest.raises(ExtractRejected) as err:
        check_xlsx(path)
    assert str(err.value).startswith("liar.xlsx: damaged XLSX archive")


def test_xml_bomb_is_rejected_before_parsing(inbox: Inbox, tmp_path: Path, no_parser: None) -> None:
    inbox.mapping(format="xlsx")
    template = tmp_path / "template.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.save(template)
    path = inbox.ws.root / "inbox" / "risas.xlsx"
    write_xml_bomb(path, template)
    report = inbox.ingest(path)
    assert report.status == "rejected"
    assert report.message.startswith(
        "risas.xlsx: part xl/worksheets/sheet1.xml declares a DTD or XML entities"
    )
    assert "XML bomb" in report.message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"folio,fecha\n1,2\n", "not an XLSX file (it is not a zip archive)"),
        (None, "a zip file but not a spreadsheet (no [Content_Types].xml)"),
    ],
)
def test_files_that_are_not_spreadsheets_are_rejected(
    inbox: Inbox, tmp_path: Path, content: bytes | None, expected: str, no_parser: None
) -> None:
    inbox.mapping(format="xlsx")
    path = inbox.ws.root / "inbox" / "pnc.xlsx"
    if content is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("hola.txt", "hola")
    else:
        path.write_bytes(content)
    report = inbox.ingest(path)
    assert report.status == "rejected"
    assert report.message == f"pnc.xlsx: {expected}" or report.message.startswith(
        f"pnc.xlsx: {expected}"
    )


def test_a_real_workbook_passes_the_guard(tmp_path: Path) -> None:
    path = tmp_path / "ok.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    for i in range(2000):
        wb.active.append([i, "15/03/2021", "San José", "Escazú", "F", 30, "Ana", "HOM"])
    wb.save(path)
    check_xlsx(path)  # no exception
