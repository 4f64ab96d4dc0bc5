"""Decide how a CSV extract's bytes become text, and say why.

Institutions deliver UTF-8, UTF-8 with a byte order mark, or Windows-1252 (cp1252,
a superset of Latin-1 for printable text). The mapping declares the encoding; this
module checks the declaration against the first megabytes of the file and rejects a
file whose bytes contradict it, naming the row, column and value where it shows, e.g.
`P\\xe9rez` (cp1252 read as UTF-8) or `PÃ©rez` (UTF-8 read as cp1252, "mojibake").
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from segura.errors import ExtractRejected

SAMPLE_BYTES = 4 * 1024 * 1024
BOM = codecs.BOM_UTF8
# UTF-8 lead byte + continuation byte decoded as cp1252: Ã¡ Ã© Ã­ Ã³ Ãº Ã± Ã‘ Â¿ ...
MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")

# DuckDB reads Latin-1 natively; cp1252 differs from Latin-1 only in 0x80-0x9F, where Latin-1
# has C1 control characters and cp1252 has printable ones (€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ).
# DuckDB 1.5's encodings extension mis-decodes windows-1252 (measured: full-width garbage), so
# Segura reads cp1252 as Latin-1 and translates those 27 code points back, in SQL.
C1_FROM = "".join(chr(b) for b in range(0x80, 0xA0) if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D))
C1_TO = bytes(range(0x80, 0xA0)).decode("cp1252", errors="ignore")
assert len(C1_FROM) == len(C1_TO) == 27


@dataclass(frozen=True)
class EncodingDecision:
    encoding: str  # utf-8 | cp1252 | latin-1
    bom: bool
    note: str  # why, for the load report


def decide_encoding(path: Path, declared: str, *, delimiter: str, quote: str, header_row: int, mapping_name: str) -> EncodingDecision:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
        at_end = not fh.read(1)
    bom = sample.startswith(BOM)
    body = sample[len(BOM) :] if bom else sample
    utf8_ok = _valid_utf8(body, final=at_end)
    has_high = any(b >= 0x80 for b in body)

    if declared == "auto":
        if bom or utf8_ok:
            return EncodingDecision("utf-8", bom, "auto: the bytes are valid UTF-8" + (" (with BOM)" if bom else ""))
        return EncodingDecision("cp1252", False, "auto: the bytes are not valid UTF-8; read as cp1252 (Windows-1252)")

    if declared in ("utf-8", "utf-8-sig"):
        if not utf8_ok:
            where = _first_bad_field(body, "utf-8", delimiter, quote, header_row)
            raise ExtractRejected(
                f"{path.name}: the mapping says UTF-8 but the file is not valid UTF-8{where}; "
                f"it reads correctly as cp1252 (Windows-1252/Latin-1). "
                f"Set `encoding: cp1252` in {mapping_name}, or `encoding: auto`.",
                file=str(path),
            )
        return EncodingDecision("utf-8", bom, "declared UTF-8; checked" + (" (byte order mark skipped)" if bom else ""))

    # declared cp1252 or latin-1
    if bom:
        raise ExtractRejected(
            f"{path.name}: the file starts with a UTF-8 byte order mark but the mapping says {declared}; "
            f"set `encoding: utf-8` in {mapping_name}.",
            file=str(path),
        )
    if has_high and utf8_ok:
        text = body.decode("cp1252", errors="replace")
        if MOJIBAKE.search(text):
            where = _first_mojibake(body, delimiter, quote, header_row)
            raise ExtractRejected(
                f"{path.name}: the mapping says {declared} but the file is UTF-8: read as {declared} it "
                f"shows mojibake{where}. Set `encoding: utf-8` in {mapping_name}.",
                file=str(path),
            )
    return EncodingDecision(declared, False, f"declared {declared}; no UTF-8 sequences found in the first {len(body):,} bytes")


def _valid_utf8(data: bytes, *, final: bool) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _rows(text: str, delimiter: str, quote: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quote)


def _first_bad_field(body: bytes, encoding: str, delimiter: str, quote: str, header_row: int) -> str:
    text = body.decode("latin-1")
    reader = _rows(text, delimiter, quote)
    header: list[str] = []
    for i, row in enumerate(reader, start=1):
        if i == header_row:
            header = row
        for j, value in enumerate(row):
            try:
                value.encode("latin-1").decode(encoding)
            except UnicodeDecodeError as e:
                # Only the offending bytes are quoted, not the value: the column may hold a name.
                col = header[j] if j < len(header) and i > header_row else f"#{j + 1}"
                bad = e.object[e.start : e.end]
                return (
                    f" (row {i}, column {col}, character {e.start + 1}: byte {bad.hex(' ')}, "
                    f"which is {bad.decode('cp1252', errors='replace')!r} in cp1252)"
                )
    return ""


def _first_mojibake(body: bytes, delimiter: str, quote: str, header_row: int) -> str:
    text = body.decode("cp1252", errors="replace")
    header: list[str] = []
    for i, row in enumerate(_rows(text, delimiter, quote), start=1):
        if i == header_row:
            header = row
        for j, value in enumerate(row):
            found = MOJIBAKE.search(value)
            if found:
                # Only the garbled pair is quoted, not the value: the column may hold a name.
                col = header[j] if j < len(header) and i > header_row else f"#{j + 1}"
                pair = found.group(0)
                fixed = pair.encode("cp1252", errors="replace").decode("utf-8", errors="replace")
                return f" such as row {i}, column {col}: {pair!r} for {fixed!r}"
    return ""
