"""Refuse unsafe XLSX files before any parser sees them.

An .xlsx file is a zip of XML parts. A zip bomb (a few KB that inflate to gigabytes)
or an XML bomb (nested entity definitions, "billion laughs") can exhaust memory in
the parser. This module inflates every part in a stream with a hard cap, checks the
compression ratio, and refuses any part that declares a DTD or entities, which
a spreadsheet never needs. Only then may python-calamine read the file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from segura.errors import ExtractRejected

MAX_ENTRIES = 10_000
MAX_TOTAL_UNCOMPRESSED = 2 * 1024**3  # 2 GiB of XML is beyond any extract we accept
MAX_RATIO = 200  # real sheets compress 5-30x; bombs 1,000x and more
RATIO_FLOOR = 8 * 1024**2  # small parts may compress well (repeated styles): ratio applies above this
CHUNK = 1024 * 1024
FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")


def check_xlsx(path: Path) -> None:
    """Raise ExtractRejected unless `path` is a zip of bounded size without DTDs."""
    if not zipfile.is_zipfile(path):
        raise ExtractRejected(f"{path.name}: not an XLSX file (it is not a zip archive); was it saved as .xls or .csv?", file=str(path))
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                raise ExtractRejected(f"{path.name}: {len(infos):,} parts in the archive; at most {MAX_ENTRIES:,} expected", file=str(path))
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names:
                raise ExtractRejected(f"{path.name}: a zip file but not a spreadsheet (no [Content_Types].xml)", file=str(path))
            total = 0
            for info in infos:
                total = _inflate_checked(zf, info, path, total)
    except zipfile.BadZipFile as e:
        raise ExtractRejected(f"{path.name}: damaged XLSX archive: {e}", file=str(path)) from e


def _inflate_checked(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, total: int) -> int:
    declared_ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > RATIO_FLOOR and declared_ratio > MAX_RATIO:
        raise ExtractRejected(_bomb(path, info.filename, declared_ratio), file=str(path))
    size = 0
    tail = b""
    with zf.open(info) as part:
        while chunk := part.read(CHUNK):
            size += len(chunk)
            total += len(chunk)
            if total > MAX_TOTAL_UNCOMPRESSED:
                raise ExtractRejected(
                    f"{path.name}: inflates to more than {MAX_TOTAL_UNCOMPRESSED / 1024**3:.0f} GiB; refused as a zip bomb",
                    file=str(path),
                )
            if size > RATIO_FLOOR and size / max(info.compress_size, 1) > MAX_RATIO:
                raise ExtractRejected(_bomb(path, info.filename, size / max(info.compress_size, 1)), file=str(path))
            window = (tail + chunk).upper()
            if info.filename.endswith((".xml", ".rels", ".vml")) and any(f in window for f in FORBIDDEN):
                raise ExtractRejected(
                    f"{path.name}: part {info.filename} declares a DTD or XML entities, which spreadsheets never "
                    "need; refused as a possible XML bomb",
                    file=str(path),
                )
            tail = chunk[-16:]
    return total


def _bomb(path: Path, part: str, ratio: float) -> str:
    return (
        f"{path.name}: part {part} inflates {ratio:,.0f} times its compressed size (at most {MAX_RATIO} expected); "
        "refused as a zip bomb"
    )
