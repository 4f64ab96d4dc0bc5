"""Load one extract: read, map, validate, and load or quarantine every row, atomically.

A load is one DuckDB transaction: a process killed at any moment leaves the warehouse as
it was (DuckDB's write-ahead log discards the uncommitted transaction), and running the
load again completes it. A file is known by its sha256: the same file with the same
mapping is never loaded twice. A newer extract of the same source that covers the same
months replaces the earlier one for those months (the `*_current` views); the earlier
rows stay in the tables as history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from segura.errors import ExtractRejected
from segura.ingest.mapping import SourceMapping
from segura.ingest.readers import STAGE, Staged, stage_extract
from segura.ingest.report import Issue, LoadReport, RuleSummary
from segura.ingest.rules import Compiled, compile_checks
from segura.store import Warehouse

Step = Callable[[str], None]
VAL = f"{STAGE}._val"  # the validated rows, in the scratch database
HASH_CHUNK = 8 * 1024 * 1024
VALUE_CHARS = 1000  # values in issues and quarantine messages are cut here (the file keeps them whole)


C1_BYTES = re.compile(rb"[\x80-\x9f]")


def scan_file(path: Path) -> tuple[str, bool]:
    """One pass over the file: its sha256, and whether it has bytes 0x80-0x9F (which cp1252 and
    Latin-1 read differently, so the cp1252 repair is needed only when they occur)."""
    h = hashlib.sha256()
    c1 = False
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            h.update(chunk)
            c1 = c1 or C1_BYTES.search(chunk) is not None
    return h.hexdigest(), c1


def file_sha256(path: Path) -> str:
    return scan_file(path)[0]


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """'2015-03' -> March 2015; '2015-01:2015-12' -> the year; '2015' -> the year."""
    def first(p: str) -> dt.date:
        parts = p.strip().split("-")
        return dt.date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, 1)

    def last(p: str) -> dt.date:
        parts = p.strip().split("-")
        year, month = int(parts[0]), int(parts[1]) if len(parts) > 1 else 12
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)

    try:
        lo, _, hi = text.partition(":")
        return first(lo), last(hi or lo)
    except (ValueError, IndexError) as e:
        raise ValueError(f"period {text!r}: expected YYYY, YYYY-MM or YYYY-MM:YYYY-MM") from e


def load_extract(
    wh: Warehouse,
    mapping: SourceMapping,
    path: Path,
    *,
    period: tuple[dt.date, dt.date] | None = None,
    reload: bool = False,
    event_level: str = "admin2",
    today: dt.date | None = None,
    on_step: Step | None = None,
) -> LoadReport:
    step = on_step or (lambda _s: None)
    started = time.perf_counter()
    path = Path(path)
    step("hashing")
    sha, has_c1 = scan_file(path) if path.is_file() else ("", False)
    report = LoadReport(source=mapping.source, file=path.name, sha256=sha, status="loaded")
    con = wh.con
    earlier = con.execute(
        "SELECT load_id, mapping_sha256 FROM load WHERE sha256 = ? AND source_id = ? AND status = 'loaded' ORDER BY load_id DESC LIMIT 1",
        [sha, mapping.source],
    ).fetchone()
    if earlier and not reload:
        _fill_from_history(con, report, earlier[0])
        report.status = "already_loaded"
        same = earlier[1] == mapping.sha256
        report.message = (
            f"{path.name} was already loaded as load {earlier[0]} (same sha256); nothing changed."
            + ("" if same else " The mapping has changed since: use --reload to load the file again with the current mapping.")
        )
        return report

    started_at = dt.datetime.now()
    _attach_stage(con, wh)
    try:
        # Staging and validation write only to the scratch database; the warehouse is written in
        # one transaction at the end, so a crash before or during it leaves the warehouse as it was.
        step("reading")
        staged = stage_extract(con, path, mapping, has_c1=has_c1)
        # Row numbers are fixed in the staging table; from here on, order does not matter and
        # DuckDB may work in parallel without keeping it.
        con.execute("SET preserve_insertion_order = false")
        step("validating")
        compiled = compile_checks(con, mapping, staged, today=today or dt.date.today(), period=period, event_level=event_level)
        _validate(con, compiled)
        step("writing")
        with wh.transaction():
            _register_source(con, mapping)
            load_id = int(con.execute("SELECT nextval('load_seq')").fetchone()[0])  # type: ignore[index]
            _write(con, load_id, mapping, staged, compiled, period)
            _record_load(con, load_id, mapping, path, sha, staged, started_at, "loaded", "")
        report.load_id = load_id
        _fill_from_history(con, report, load_id)
    except ExtractRejected as e:
        report.status = "rejected"
        report.message = str(e)
        with wh.transaction():
            _register_source(con, mapping)
            load_id = int(con.execute("SELECT nextval('load_seq')").fetchone()[0])  # type: ignore[index]
            empty = Staged(header=[], column_of={}, rows_staged=0, rows_rejected=0)
            _record_load(con, load_id, mapping, path, sha, empty, started_at, "rejected", str(e))
        report.load_id = load_id
    finally:
        con.execute("SET preserve_insertion_order = true")
        for temp in ("_stg", "_issues", "_rejects"):
            _drop_temp(con, temp)
        _detach_stage(con)
    report.seconds = time.perf_counter() - started
    return report


def _attach_stage(con: duckdb.DuckDBPyConnection, wh: Warehouse) -> Path | None:
    """Attach a fresh scratch database for the staging tables. It is an in-memory database with
    compression (DuckDB compresses its row groups, and spills them to the warehouse's temp directory
    past the memory limit), measured faster than a scratch file and within the same memory
    (bench/README.md). Nothing in it outlives the load."""
    del wh
    con.execute(f"ATTACH ':memory:' AS {STAGE} (COMPRESS)")
    return None


def _detach_stage(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DETACH DATABASE IF EXISTS {STAGE}")


def _drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    try:
        con.execute(f"DROP VIEW IF EXISTS temp.{name}")
    except duckdb.Error:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    else:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _register_source(con: duckdb.DuckDBPyConnection, m: SourceMapping) -> None:
    con.execute(
        """INSERT INTO source VALUES (?, ?, ?, ?, ?, now())
           ON CONFLICT (source_id) DO UPDATE SET institution_es = excluded.institution_es,
             institution_en = excluded.institution_en, mapping_sha256 = excluded.mapping_sha256,
             mapping_text = excluded.mapping_text""",
        [m.source, m.institution_es, m.institution_en, m.sha256, m.text],
    )


def _validate(con: duckdb.DuckDBPyConnection, compiled: Compiled) -> None:
    errors = "[" + ", ".join(str(i) for i in compiled.error_ids) + "]"
    con.execute(
        f"CREATE OR REPLACE TABLE {VAL} AS SELECT *, len(list_filter(issues, x -> list_contains({errors}, x.r))) > 0 AS has_error FROM ({compiled.select})"  # noqa: S608
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _rulemsg (id INTEGER, rule VARCHAR, severity VARCHAR, column_name VARCHAR, expected VARCHAR)")
    con.executemany(
        "INSERT INTO _rulemsg VALUES (?, ?, ?, ?, ?)",
        [[i, c.rule, sev, c.column, c.expected] for i, c, sev in compiled.checks] or [[0, "none", "info", None, ""]],
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _issues AS
        SELECT v._row, m.rule, m.severity, m.column_name, left(v.i.v, ?) AS value,
               CASE WHEN v.i.v IS NULL THEN '' ELSE '''' || left(v.i.v, 200) || CASE WHEN length(v.i.v) > 200 THEN '…' ELSE '' END || ''': ' END
                 || m.expected || coalesce(' (' || v.i.h || ')', '') AS message
        FROM (SELECT _row, unnest(issues) AS i FROM {VAL} WHERE len(issues) > 0) v
        JOIN _rulemsg m ON m.id = v.i.r
        -- a total or footer row is reported as such, not with every field it lacks
        QUALIFY m.rule = 'skip_row' OR NOT bool_or(m.rule = 'skip_row') OVER (PARTITION BY v._row)
        """,  # noqa: S608
        [VALUE_CHARS],
    )


def _write(con: duckdb.DuckDBPyConnection, load_id: int, m: SourceMapping, staged: Staged, compiled: Compiled, period: tuple[dt.date, dt.date] | None) -> None:
    pm = f"date_trunc('month', v_{m.period})::DATE"
    src = [load_id, m.source]
    # Several victims may share an event: the event's attributes come from its first row.
    one_per_event = "QUALIFY row_number() OVER (PARTITION BY v_event_key ORDER BY _row) = 1" if compiled.event_id_mapped else ""
    con.execute(
        f"""
        INSERT INTO event
        SELECT ?, ?, v_event_key, _row, {pm}, v_occurred_date, v_occurred_time,
               CASE WHEN v_occurred_time IS NOT NULL THEN 'minute' WHEN v_occurred_date IS NOT NULL THEN 'day' ELSE 'unknown' END,
               v_reported_date, v_territory_code, v_latitude, v_longitude, v_offence_code, v_iccs_code,
               v_weapon, v_setting, CASE WHEN v_context IS NULL THEN NULL ELSE list_transform(string_split(v_context, '|'), x -> trim(x)) END
        FROM {VAL} WHERE NOT has_error {one_per_event}
        """,  # noqa: S608
        src,
    )
    con.execute(
        f"""
        INSERT INTO person
        SELECT ? || ':' || v_record_id, ?, ?, v_record_id, v_event_key, _row, {pm},
               coalesce(v_role, 'victim'), v_sex, v_gender_identity, v_sexual_orientation, v_age,
               v_age_is_estimate, v_age_group, v_nationality, v_ethnicity, v_disability, v_relationship, v_perpetrator_sex
        FROM {VAL} WHERE NOT has_error
        """,  # noqa: S608
        [m.source, *src],
    )
    if compiled.has_identity:
        con.execute(
            f"""
            INSERT INTO person_identity
            SELECT ? || ':' || v_record_id, ?, v_given_names, v_first_surname, v_second_surname, v_full_name,
                   v_document_type, v_document_number, v_birth_date
            FROM {VAL} WHERE NOT has_error
            """,  # noqa: S608
            [m.source, load_id],
        )
    raw_cols = ", ".join(f"s.c{i}" for i in range(len(staged.header)))
    con.execute(
        f"""
        INSERT INTO quarantine
        SELECT ?, s._row, to_json([{raw_cols}])::VARCHAR, e.errors
        FROM _stg s JOIN (
            SELECT _row, to_json(list({{'rule': rule, 'column': column_name, 'value': value, 'message': message}} ORDER BY rule))::VARCHAR AS errors
            FROM _issues WHERE severity = 'error' GROUP BY _row) e USING (_row)
        """,  # noqa: S608
        [load_id],
    )
    con.execute(
        "INSERT INTO quarantine SELECT ?, _row, CASE WHEN json_valid(raw) AND left(raw, 1) = '[' THEN raw ELSE to_json(raw)::VARCHAR END, to_json(errors)::VARCHAR FROM _rejects",
        [load_id],
    )
    con.execute("INSERT INTO load_issue SELECT ?, _row, rule, severity, column_name, value, message FROM _issues", [load_id])
    con.execute(
        "INSERT INTO load_issue SELECT ?, _row, e.rule, 'error', e.column, e.value, e.message FROM (SELECT _row, unnest(errors) AS e FROM _rejects)",
        [load_id],
    )
    counts = dict(con.execute(f"SELECT {pm}, count(*) FROM {VAL} WHERE NOT has_error AND v_{m.period} IS NOT NULL GROUP BY 1").fetchall())  # noqa: S608
    months = set(counts)
    if period is None:
        # Without a declared period, a month with only a few rows here (a late registration in a
        # monthly extract) must not replace a fuller earlier delivery of that month.
        current = dict(
            con.execute(
                "SELECT period_month, count(*) FROM person_current WHERE source_id = ? GROUP BY 1", [m.source]
            ).fetchall()
        )
        for month, n in sorted(counts.items()):
            before = current.get(month, 0)
            if n * 2 < before:
                months.discard(month)
                staged.decisions.append(
                    f"{month:%Y-%m}: {n:,} row(s) here against {before:,} in the current data; the month was not "
                    f"replaced (its rows stay in the history). Load with --period {month:%Y-%m} if this extract does cover it."
                )
    if period is not None:
        cur = period[0].replace(day=1)
        while cur <= period[1]:
            months.add(cur)
            cur = dt.date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
    if months:
        con.executemany("INSERT INTO load_period VALUES (?, ?, ?)", [[load_id, m.source, mo] for mo in sorted(months)])


def _record_load(
    con: duckdb.DuckDBPyConnection, load_id: int, m: SourceMapping, path: Path, sha: str, staged: Staged, started_at: dt.datetime, status: str, message: str
) -> None:
    if status == "loaded":
        loaded = con.execute("SELECT count(*) FROM person WHERE load_id = ?", [load_id]).fetchone()[0]  # type: ignore[index]
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE load_id = ?", [load_id]).fetchone()[0]  # type: ignore[index]
        warned = con.execute(
            "SELECT count(DISTINCT row_number) FROM load_issue WHERE load_id = ? AND severity = 'warning' "
            "AND row_number NOT IN (SELECT row_number FROM quarantine WHERE load_id = ?)",
            [load_id, load_id],
        ).fetchone()[0]  # type: ignore[index]
        span = con.execute("SELECT min(month), max(month) FROM load_period WHERE load_id = ?", [load_id]).fetchone()
    else:
        loaded = quarantined = warned = 0
        span = (None, None)
    con.execute(
        "INSERT INTO load VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
        [
            load_id, m.source, path.name, str(path.resolve()), sha, path.stat().st_size if path.exists() else None,
            m.format, staged.encoding or None, m.sha256, status, message or None,
            staged.rows_read, loaded, quarantined, warned, span[0], span[1], started_at,  # type: ignore[index]
            json.dumps({"decisions": staged.decisions, "columns": staged.header}, ensure_ascii=False),
        ],
    )


def _fill_from_history(con: duckdb.DuckDBPyConnection, report: LoadReport, load_id: int) -> None:
    row = con.execute(
        "SELECT status, message, rows_read, rows_loaded, rows_quarantined, rows_with_warnings, decisions FROM load WHERE load_id = ?",
        [load_id],
    ).fetchone()
    assert row is not None
    report.load_id = load_id
    report.rows_read, report.rows_loaded, report.rows_quarantined, report.rows_with_warnings = row[2], row[3], row[4], row[5]
    report.decisions = json.loads(row[6])["decisions"] if row[6] else []
    report.events = con.execute("SELECT count(*) FROM event WHERE load_id = ?", [load_id]).fetchone()[0]  # type: ignore[index]
    report.persons = report.rows_loaded
    report.months = [r[0].isoformat()[:7] for r in con.execute("SELECT month FROM load_period WHERE load_id = ? ORDER BY month", [load_id]).fetchall()]
    report.replaces = [
        {"month": r[0].isoformat()[:7], "load_id": r[1]}
        for r in con.execute(
            """SELECT lp.month, max(e.load_id) FROM load_period lp
               JOIN load_period e ON e.source_id = lp.source_id AND e.month = lp.month AND e.load_id < lp.load_id
               JOIN load l ON l.load_id = e.load_id AND l.status = 'loaded'
               WHERE lp.load_id = ? GROUP BY lp.month ORDER BY lp.month""",
            [load_id],
        ).fetchall()
    ]
    report.findings = [
        RuleSummary(rule=r[0], severity=r[1], column=r[2], rows=r[3], example=Issue(r[0], r[1], r[4], r[2], r[5], r[6]))
        for r in con.execute(
            """SELECT rule, severity, column_name, count(*), arg_min(row_number, row_number),
                      arg_min(value, row_number), arg_min(message, row_number)
               FROM load_issue WHERE load_id = ? GROUP BY rule, severity, column_name
               ORDER BY severity, count(*) DESC""",
            [load_id],
        ).fetchall()
    ]
