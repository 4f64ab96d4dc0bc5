"""Readers: put an extract's rows, as text, into a staging table of the load's transaction.

Every reader produces the same thing: a temporary view `_stg` with `_row` (the row
number a person sees: the line in a text editor for CSV without embedded newlines, the
row in a spreadsheet) and columns `c0..cN` (VARCHAR, in header order), plus a table
`_rejects(_row, raw, errors)` of records the reader itself could not split into fields
(ragged rows, bytes that are not text in the declared encoding). Nothing is dropped:
rows read = rows in `_stg` + rows in `_rejects`.

CSV is streamed by DuckDB's reader (parallel, constant memory); XLSX goes through
`xlsx_guard` first and is read by python-calamine; Parquet is read by DuckDB.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from segura.errors import ExtractRejected
from segura.ingest.encoding import SAMPLE_BYTES, decide_encoding
from segura.ingest.mapping import SourceMapping
from segura.ingest.xlsx_guard import check_xlsx

# The staging tables live in a scratch database attached as STAGE (see load.py): DuckDB compresses
# them and spills them to disk past the memory limit, so a multi-gigabyte extract never has to fit
# in memory, and the warehouse is written only at the end, in one transaction.
STAGE = "segura_stage"
STG0 = f"{STAGE}._stg0"
MAX_LINE_BYTES = 32 * 1024 * 1024  # a record may carry a 20 MB field; validation then quarantines it
BUFFER_BYTES = 2 * MAX_LINE_BYTES  # DuckDB's default is 16x the line size: 512 MB per buffer
CANDIDATE_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class Staged:
    header: list[str]
    column_of: dict[str, str]  # source header (as in the file) -> staging column cK
    rows_staged: int
    rows_rejected: int
    decisions: list[str] = field(default_factory=list)
    encoding: str = ""

    @property
    def rows_read(self) -> int:
        return self.rows_staged + self.rows_rejected


def header_key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def stage_extract(con: duckdb.DuckDBPyConnection, path: Path, mapping: SourceMapping, *, has_c1: bool = True) -> Staged:
    """Stage the extract; `has_c1` says whether the file has bytes 0x80-0x9F (see `load.scan_file`)."""
    if not path.is_file():
        raise ExtractRejected(f"{path}: no such file", file=str(path))
    if path.stat().st_size == 0:
        raise ExtractRejected(f"{path.name}: the file is empty (0 bytes); ask the institution to send it again", file=str(path))
    if mapping.format == "csv":
        return _stage_csv(con, path, mapping, has_c1=has_c1)
    reader = {"xlsx": _stage_xlsx, "parquet": _stage_parquet}[mapping.format]
    return reader(con, path, mapping)


# -- header ---------------------------------------------------------------------------------------


def check_header(header: list[str], mapping: SourceMapping, path: Path, *, delimiter: str | None = None) -> dict[str, str]:
    """Match the file's header to the mapping; reject the file when mapped columns are missing."""
    keys = [header_key(h) for h in header]
    seen: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k in seen and k:
            raise ExtractRejected(
                f"{path.name}: the header names column {header[i]!r} twice (columns {seen[k] + 1} and {i + 1})",
                file=str(path),
            )
        seen[k] = i
    expected = mapping.expected_columns()
    missing = [c for c in expected if header_key(c) not in seen]
    used = {header_key(c) for c in expected} | {header_key(c) for c in mapping.ignore_columns}
    unexpected = [h for h, k in zip(header, keys, strict=True) if k not in used and k]
    if missing:
        msg = (
            f"{path.name}: the file does not have the columns of source {mapping.source!r}. "
            f"Missing: {', '.join(repr(c) for c in missing)}."
        )
        if unexpected:
            msg += f" Unexpected: {', '.join(repr(c) for c in unexpected[:20])}" + (" ..." if len(unexpected) > 20 else "") + "."
        if delimiter and len(header) == 1:
            others = [d for d in CANDIDATE_DELIMITERS if d != delimiter and d in header[0]]
            if others:
                msg += (
                    f" The header is one column that contains {others[0]!r}: the file looks "
                    f"{others[0]!r}-delimited while the mapping says delimiter {delimiter!r}."
                )
        elif len(unexpected) >= len(missing):
            msg += " Is this another institution's extract, or did the institution rename its columns?"
        raise ExtractRejected(msg, file=str(path))
    return {header[seen[header_key(c)]]: f"c{seen[header_key(c)]}" for c in expected}


# -- CSV -------------------------------------------------------------------------------------------


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, mapping: SourceMapping, *, has_c1: bool) -> Staged:
    where = str(mapping.path or mapping.source)
    decision = decide_encoding(
        path, mapping.encoding, delimiter=mapping.delimiter, quote=mapping.quote, header_row=mapping.header_row, mapping_name=where
    )
    header = _read_csv_header(path, mapping, decision.encoding)
    column_of = check_header(header, mapping, path, delimiter=mapping.delimiter)
    n = len(header)
    # DuckDB's built-in latin-1 refuses bytes 0x80-0x9F ("File is not latin-1 encoded"), where
    # cp1252 has € ‚ „ … “ ” – — ™ ... A file with such bytes is transcoded to a UTF-8 copy first
    # (streamed; lines unchanged, so row numbers are too); any other cp1252 or Latin-1 file is
    # read as Latin-1, which equals cp1252 on every byte outside 0x80-0x9F.
    read_path, read_encoding, transcoded = path, decision.encoding, None
    if decision.encoding in ("cp1252", "latin-1"):
        read_encoding = "latin-1"
        if has_c1:
            transcoded = read_path = _transcode_cp1252(con, path)
            read_encoding = "utf-8"
    columns = {f"c{i}": "VARCHAR" for i in range(n)}
    con.execute(f"DROP TABLE IF EXISTS {STG0}")
    # DuckDB appends to an existing rejects table: without this, a second load on the same
    # connection would count the first file's rejected lines as its own.
    con.execute("DROP TABLE IF EXISTS _rej_errors")
    con.execute("DROP TABLE IF EXISTS _rej_scans")
    try:
        con.execute(
            f"""
            CREATE TABLE {STG0} AS SELECT * FROM read_csv(
                ?, columns = ?, header = true, skip = ?, delim = ?, quote = ?, escape = ?,
                encoding = ?, auto_detect = false, strict_mode = true, null_padding = false,
                store_rejects = true, rejects_table = '_rej_errors', rejects_scan = '_rej_scans',
                max_line_size = ?, buffer_size = ?, nullstr = '', parallel = true)
            """,
            [str(read_path), columns, mapping.header_row - 1, mapping.delimiter, mapping.quote, mapping.quote, read_encoding, MAX_LINE_BYTES, BUFFER_BYTES],
        )
    except duckdb.InvalidInputException as e:
        # Strict mode stops on a file whose lines end in both \r\n and \n (e.g. a footer appended
        # on another system): say where, instead of letting DuckDB's error escape the load.
        raise ExtractRejected(f"{path.name}: the CSV reader cannot split the file into records{_line_ending_change(path, mapping.quote)}. ({str(e).splitlines()[0]})", file=str(path)) from e
    finally:
        if transcoded is not None:
            transcoded.unlink(missing_ok=True)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT line AS _row,
               trim(any_value(csv_line), chr(10) || chr(13)) AS raw,
               list({'rule': CASE WHEN error_type = 'INVALID ENCODING' THEN 'encoding' ELSE 'csv_structure' END,
                     'column': CASE WHEN error_type = 'INVALID ENCODING' THEN h.name END,
                     'value': NULL::VARCHAR,
                     'message': CASE error_type
                        WHEN 'INVALID ENCODING' THEN 'bytes that are not valid text in the declared encoding (' || ? || '); check `encoding` in the mapping'
                        WHEN 'MISSING COLUMNS' THEN 'too few fields: ' || error_message || ' (a missing delimiter, or a line break inside an unquoted value?)'
                        WHEN 'TOO MANY COLUMNS' THEN 'too many fields: ' || error_message || ' (an unquoted delimiter inside a value?)'
                        WHEN 'UNQUOTED VALUE' THEN 'a quote inside an unquoted value: ' || error_message
                        WHEN 'LINE SIZE OVER MAXIMUM' THEN 'the record is longer than ' || ? || ' bytes'
                        ELSE lower(error_type) || ': ' || error_message END}) AS errors
        FROM (SELECT DISTINCT ON (line, error_type) * FROM _rej_errors ORDER BY line, error_type, column_idx) e
        LEFT JOIN (SELECT unnest(?::VARCHAR[]) AS name, generate_subscripts(?::VARCHAR[], 1) AS idx) h
          ON h.idx = e.column_idx
        GROUP BY line
        """,
        [decision.encoding, MAX_LINE_BYTES, header, header],
    )
    staged = _finish_staging(con, mapping.header_row, header, column_of)
    staged.decisions.append(f"encoding: {decision.note}")
    staged.encoding = decision.encoding + ("+bom" if decision.bom else "")
    return staged


def _keep_undefined_cp1252(err: UnicodeError) -> tuple[str, int]:
    """The 5 bytes cp1252 leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) keep their Latin-1 reading
    (U+0081 ...), as the WHATWG windows-1252 decoder does: nothing is lost."""
    assert isinstance(err, UnicodeDecodeError)
    return "".join(chr(b) for b in err.object[err.start : err.end]), err.end


def _transcode_cp1252(con: duckdb.DuckDBPyConnection, path: Path) -> Path:
    """A UTF-8 copy of a cp1252 file, next to the warehouse's spill files; the caller deletes it."""
    codecs.register_error("segura-cp1252", _keep_undefined_cp1252)
    setting = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]  # type: ignore[index]
    folder = str(setting) if setting and Path(str(setting)).is_dir() else None
    fd, name = tempfile.mkstemp(prefix="cp1252-", suffix=".csv", dir=folder)
    with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
        while chunk := src.read(8 * 1024 * 1024):  # one byte per character: any chunk boundary is safe
            dst.write(chunk.decode("cp1252", errors="segura-cp1252").encode("utf-8"))
    return Path(name)


def _line_ending_change(path: Path, quote: str) -> str:
    """Where the file's line endings change (\r\n vs \n), outside quoted values; '' if they don't."""
    q = quote.encode("latin-1", errors="replace")
    first: bytes | None = None
    inside = False
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.count(q) % 2:
                inside = not inside
            if not inside and line.endswith(b"\n"):  # the end of a record, not of a line in a quoted value
                ending = b"\r\n" if line.endswith(b"\r\n") else b"\n"
                if first is None:
                    first = ending
                elif ending != first:
                    names = {b"\r\n": "\\r\\n (Windows)", b"\n": "\\n (Unix)"}
                    return (
                        f": line {number} ends with {names[ending]} but line 1 ends with {names[first]}; "
                        "save the file again with one kind of line ending, or ask the institution to resend it"
                    )
    return ""


def _read_csv_header(path: Path, mapping: SourceMapping, encoding: str) -> list[str]:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    text = sample.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter, quotechar=mapping.quote)
    for i, row in enumerate(reader, start=1):
        if i == mapping.header_row:
            if not any(cell.strip() for cell in row):
                break
            return [cell.strip() for cell in row]
    raise ExtractRejected(
        f"{path.name}: no header on row {mapping.header_row} (the row is missing or empty); "
        "check `header_row` in the mapping",
        file=str(path),
    )


def _finish_staging(
    con: duckdb.DuckDBPyConnection, header_row: int, header: list[str], column_of: dict[str, str]
) -> Staged:
    """Give every staged record its row number, counting the records the reader rejected.
    """
    cols = ", ".join(f"c{i}" for i in range(len(header)))
    staged = con.execute(f"SELECT count(*) FROM {STG0}").fetchone()[0]  # type: ignore[index]
    rejected = con.execute("SELECT count(*) FROM _rejects").fetchone()[0]  # type: ignore[index]
    # Rows inserted inside a transaction get row ids from a high base (2^55); count from it.
    base = int(con.execute(f"SELECT coalesce(min(rowid), 0) FROM {STG0}").fetchone()[0])  # type: ignore[index]
    if rejected == 0:
        con.execute(f"CREATE OR REPLACE TEMP VIEW _stg AS SELECT rowid - {base} + {int(header_row) + 1} AS _row, {cols} FROM {STG0}")  # noqa: S608
    else:
        # Rejected records R_1 < R_2 < ... (record numbers) come before good row i (0-based) iff
        # R_j - j <= i; so good row i is record i + 1 + #{j : R_j - j <= i}. Consecutive rejected
        # records share a threshold: keep the largest count for each, or the ASOF join picks any.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _reject_thresholds AS
            SELECT t, max(k) AS k FROM (
                SELECT (_row - ?) - row_number() OVER (ORDER BY _row) AS t, row_number() OVER (ORDER BY _row) AS k
                FROM _rejects)
            GROUP BY t""",
            [header_row],
        )
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW _stg AS
            SELECT s.rowid - {base} + 1 + coalesce(r.k, 0) + {int(header_row)} AS _row, {cols}
            FROM {STG0} s ASOF LEFT JOIN _reject_thresholds r ON s.rowid - {base} >= r.t"""  # noqa: S608
        )
    return Staged(header=header, column_of=column_of, rows_staged=int(staged), rows_rejected=int(rejected))


# -- XLSX ------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if (value.hour, value.minute, value.second) != (0, 0, 0) else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a time of day stored as a duration
        seconds = int(value.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return str(value)


def _stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, mapping: SourceMapping) -> Staged:
    from python_calamine import CalamineWorkbook

    check_xlsx(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own error types for damaged files
        raise ExtractRejected(f"{path.name}: cannot read the spreadsheet: {e}", file=str(path)) from e
    names = book.sheet_names
    sheet_name = mapping.sheet or names[0]
    if sheet_name not in names:
        raise ExtractRejected(f"{path.name}: no sheet named {sheet_name!r}; the sheets are {names}", file=str(path))
    sheet = book.get_sheet_by_name(sheet_name)
    rows = sheet.to_python(skip_empty_area=False)
    first = mapping.header_row - 1
    if len(rows) <= first or not any(_cell_text(c) for c in rows[first]):
        raise ExtractRejected(f"{path.name}: sheet {sheet_name!r} has no header on row {mapping.header_row}", file=str(path))
    header = [(_cell_text(c) or "").strip() for c in rows[first]]
    while header and not header[-1]:
        header.pop()
    column_of = check_header(header, mapping, path)
    n = len(header)
    cols: list[list[str | None]] = [[] for _ in range(n)]
    row_numbers: list[int] = []
    rejects: list[dict[str, object]] = []
    empty = 0
    for offset, row in enumerate(rows[first + 1 :], start=mapping.header_row + 1):
        texts = [_cell_text(c) for c in row]
        if not any(t is not None for t in texts):
            empty += 1
            continue
        beyond = [j for j in range(n, len(texts)) if texts[j] is not None]
        if beyond:
            rejects.append(
                {
                    "_row": offset,
                    "raw": json.dumps(texts, ensure_ascii=False),
                    "errors": [
                        {
                            "rule": "xlsx_structure",
                            "column": f"#{beyond[0] + 1}",
                            "value": texts[beyond[0]],
                            "message": f"a value in column {beyond[0] + 1}, which has no header",
                        }
                    ],
                }
            )
            continue
        row_numbers.append(offset)
        for j in range(n):
            cols[j].append(texts[j] if j < len(texts) else None)
    table = pa.table({"_row": pa.array(row_numbers, pa.int64()), **{f"c{j}": pa.array(cols[j], pa.string()) for j in range(n)}})
    con.register("_xlsx_rows", table)
    con.execute(f"CREATE OR REPLACE TABLE {STG0} AS SELECT * FROM _xlsx_rows")
    con.unregister("_xlsx_rows")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _stg AS SELECT * FROM {STG0}")
    _register_rejects(con, rejects)
    staged = Staged(header=header, column_of=column_of, rows_staged=len(row_numbers), rows_rejected=len(rejects))
    staged.decisions.append(f"sheet {sheet_name!r}; {empty} empty rows ignored" if empty else f"sheet {sheet_name!r}")
    staged.encoding = "xlsx"
    return staged


def _register_rejects(con: duckdb.DuckDBPyConnection, rejects: list[dict[str, object]]) -> None:
    err_type = pa.list_(pa.struct([("rule", pa.string()), ("column", pa.string()), ("value", pa.string()), ("message", pa.string())]))
    table = pa.table(
        {
            "_row": pa.array([r["_row"] for r in rejects], pa.int64()),
            "raw": pa.array([r["raw"] for r in rejects], pa.string()),
            "errors": pa.array([r["errors"] for r in rejects], err_type),
        }
    )
    con.register("_rejects_in", table)
    con.execute("CREATE OR REPLACE TEMP TABLE _rejects AS SELECT * FROM _rejects_in")
    con.unregister("_rejects_in")


# -- Parquet ---------------------------------------------------------------------------------------


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, mapping: SourceMapping) -> Staged:
    try:
        desc = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as e:
        raise ExtractRejected(f"{path.name}: not a readable Parquet file: {e}", file=str(path)) from e
    header = [d[0] for d in desc]
    column_of = check_header(header, mapping, path)
    # Positional references (#2, #3, ...) keep the institution's column names out of the SQL text.
    cols = ", ".join(f"CAST(#{i + 2} AS VARCHAR) AS c{i}" for i in range(len(header)))
    con.execute(
        f"CREATE OR REPLACE TABLE {STG0} AS SELECT _row, {cols} FROM (SELECT file_row_number + 1 AS _row, * EXCLUDE (file_row_number) "  # noqa: S608
        "FROM read_parquet(?, file_row_number = true))",
        [str(path)],
    )
    con.execute(f"CREATE OR REPLACE TEMP VIEW _stg AS SELECT * FROM {STG0}")
    _register_rejects(con, [])
    n = con.execute(f"SELECT count(*) FROM {STG0}").fetchone()[0]  # type: ignore[index]
    staged = Staged(header=header, column_of=column_of, rows_staged=int(n), rows_rejected=0)
    staged.encoding = "parquet"
    return staged
