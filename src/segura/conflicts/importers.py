"""Import protest and conflict event files into the registry through a source mapping.

A mapping (YAML, see `mappings/`) names the source's columns for the registry's fields, the
code lists that translate the source's values, the required fields, values out of scope,
columns that must never be read (names) and the rule that groups events into conflicts.

Every row is imported or rejected with every reason (file, row, column, value, expected):
`rows_read == rows_imported + rows_rejected`. Rows are numbered from 1 = first record after
the header. An import is atomic (one transaction) and idempotent (same file and mapping:
nothing changes). Two formats:

- ``events``: one row = one event (IIS-UCR protest database).
- ``deaths``: one row = one death; rows sharing ``event_key`` form one event whose ``deaths``
  is their number (Ultimate Consequences, Bolivia).

Grouping rule (``grouping`` in the mapping): events with equal ``keys`` form one conflict while
no more than ``gap_days`` separate consecutive events (``null``: no gap limit). The key
``territory`` is the canton/municipality, else the province/department, else "national".
An event whose key is empty forms a conflict of its own.

Initial phase (import rule): "resolved" if the conflict's last event records an agreement,
else "escalation" if any event is a blockade, occupation or clash or met force or arrests,
else "emergence". Intensity (1-4): 1 declarations, meetings and other; 2 marches, rallies,
strikes; 3 blockades, occupations; 4 clashes, deaths or state force.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from segura.conflicts import registry as reg
from segura.errors import MappingError

NAME_COLUMNS = frozenset({
    "dec_firstname", "dec_surnames", "perp_firstname", "perp_surname", "id_indiv",
})
_CODED = {
    "event_type": reg.EVENT_TYPES, "state_response": reg.STATE_RESPONSES,
    "state_perpetrator": reg.STATE_RESPONSES,
}


@dataclass(frozen=True)
class Rejection:
    """One reason a row was not imported."""

    file: str
    row: int
    column: str
    value: str
    expected: str

    @property
    def message(self) -> str:
        return (f"{self.file} row {self.row}, column {self.column!r}: value {self.value!r}; "
                f"expected {self.expected}")


@dataclass
class ImportReport:
    source: str
    file: str
    rows_read: int = 0
    rows_imported: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    events: int = 0
    conflicts: int = 0
    already_imported: bool = False

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({r.row for r in self.rejections})

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected_rows)

    def summary(self) -> str:
        return (f"{self.source}: {self.rows_read} rows read = {self.rows_imported} imported + "
                f"{self.rows_rejected} rejected; {self.events} events in {self.conflicts} conflicts")


def load_mapping(name_or_path: str | Path) -> dict[str, Any]:
    """A shipped mapping by name (``iisucr_cr``, ``iisucr_ni``, ``ucbo_deaths``) or a YAML path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        text = path.read_text(encoding="utf-8")
    else:
        res = resources.files("segura.conflicts") / "mappings" / f"{name_or_path}.yaml"
        if not res.is_file():
            raise MappingError(f"no shipped conflict mapping named {name_or_path!r}")
        text = res.read_text(encoding="utf-8")
    mapping = yaml.safe_load(text)
    for key in ("name", "format", "columns", "grouping"):
        if key not in mapping:
            raise MappingError(f"conflict mapping {name_or_path!r} lacks the key {key!r}")
    for fld, value in (mapping.get("constants") or {}).items():
        if fld in _CODED and value not in _CODED[fld]:
            raise MappingError(f"constant {fld} = {value!r}: expected one of {', '.join(_CODED[fld])}")
    if mapping["format"] not in ("events", "deaths"):
        raise MappingError(f"mapping format {mapping['format']!r}: expected 'events' or 'deaths'")
    return dict(mapping)


def _check_columns(mapping: Mapping[str, Any], header: list[str], file: str) -> None:
    forbidden = NAME_COLUMNS | set(mapping.get("forbidden", ()))
    for fld, column in mapping["columns"].items():
        if column in forbidden:
            raise MappingError(f"mapping {mapping['name']!r} maps {column!r} (to {fld!r}): personal "
                               "names and narratives never enter the registry; remove it")
        if column not in header:
            near = difflib.get_close_matches(column, header, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise MappingError(f"{file}: column {column!r} (for {fld!r}) is not in the header{hint}")


def _expected(codes: Mapping[str, str]) -> str:
    keys = list(codes)
    shown = ", ".join(repr(k) for k in keys[:6]) + (" ..." if len(keys) > 6 else "")
    return f"one of the mapping's codes ({shown})"


def _parse_row(
    mapping: Mapping[str, Any], row: Mapping[str, str], n: int, file: str
) -> tuple[dict[str, Any], list[Rejection]]:
    missing = set(mapping.get("missing", [""]))
    codes: Mapping[str, Mapping[str, str]] = mapping.get("codes", {})
    required = set(mapping.get("required", ()))
    scope: Mapping[str, list[str]] = mapping.get("out_of_scope") or {}
    out: dict[str, Any] = dict(mapping.get("constants", {}))
    bad: list[Rejection] = []
    for fld, column in mapping["columns"].items():
        raw = (row.get(column) or "").strip()
        value: str | None = None if raw in missing else raw
        out[fld + "_raw"] = value
        if value is None:
            if fld in required:
                bad.append(Rejection(file, n, column, raw, "a value (the field is required)"))
            out[fld] = None
            continue
        if value in scope.get(fld, ()):
            bad.append(Rejection(file, n, column, raw, "a value within the registry's scope"))
        if fld in codes:
            if value not in codes[fld]:
                bad.append(Rejection(file, n, column, raw, _expected(codes[fld])))
                continue
            value = codes[fld][value]
            allowed = _CODED.get(fld)
            if allowed is not None and value not in allowed:
                raise MappingError(f"mapping {mapping['name']!r} codes {raw!r} as {value!r}; "
                                   f"{fld} must be one of {', '.join(allowed)}")
        out[fld] = value
    if mapping["format"] == "events" and out.get("date") is not None:
        try:
            out["date"] = dt.datetime.strptime(out["date"], mapping["date_format"]).date()
            out["precision"] = "day"
        except ValueError:
            bad.append(Rejection(file, n, mapping["columns"]["date"], out["date"],
                                 f"a date as {mapping['date_format']}"))
    elif mapping["format"] == "deaths" and out.get("year") is not None:
        try:
            parts = [int(float(out[k])) if out.get(k) is not None else None
                     for k in ("year", "month", "day")]
            year, month, day = parts
            assert year is not None
            out["precision"] = "day" if month and day else "month" if month else "year"
            out["date"] = dt.date(year, month or 1, day if month and day else 1)
        except (ValueError, AssertionError):
            bad.append(Rejection(file, n, mapping["columns"]["year"],
                                 f"{out.get('year')}-{out.get('month')}-{out.get('day')}",
                                 "a valid year, month and day"))
    return out, bad


def _events_from_deaths(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_event[r["event_key"]].append(r)
    events = []
    for key, rows in by_event.items():
        first = min(rows, key=lambda r: r["date"])
        responses = {r.get("state_perpetrator") or "unknown" for r in rows}
        response = ("use_of_force" if "use_of_force" in responses
                    else "none" if responses == {"none"} else "unknown")
        events.append({
            **first,
            "record": key, "description": key, "deaths": len(rows), "rows": [r["row"] for r in rows],
            "state_response": response,
            "demand_type": Counter(r["demand_type"] for r in rows).most_common(1)[0][0],
            "admin1": next((r["admin1"] for r in rows if r.get("admin1")), None),
            "admin2": next((r["admin2"] for r in rows if r.get("admin2")), None),
            "campaign": next((r["campaign"] for r in rows if r.get("campaign")), None),
        })
    return events


def _group(events: list[dict[str, Any]], grouping: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    keys = list(grouping["keys"])
    gap = grouping.get("gap_days")
    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        e["territory"] = e.get("admin2") or e.get("admin1") or "national"
        key = tuple(e.get(k) for k in keys)
        if any(v is None for v in key):
            key = ("__own__", e["record"])
        by_key[key].append(e)
    groups: list[list[dict[str, Any]]] = []
    for key in sorted(by_key, key=str):
        current: list[dict[str, Any]] = []
        for e in sorted(by_key[key], key=lambda e: (e["date"], str(e["record"]))):
            if current and gap is not None and (e["date"] - current[-1]["date"]).days > gap:
                groups.append(current)
                current = []
            current.append(e)
        groups.append(current)
    return groups


def _intensity(events: list[dict[str, Any]]) -> int:
    types = {e["event_type"] for e in events}
    if "clash" in types or any(e.get("deaths") for e in events) or any(
        e["state_response"] in reg.FORCEFUL_RESPONSES for e in events
    ):
        return 4
    if types & reg.CONFRONTATIONAL:
        return 3
    return 2 if types & {"march", "rally", "strike"} else 1


def _phase(events: list[dict[str, Any]], agreement_outcomes: set[str]) -> str:
    if events[-1].get("outcome") in agreement_outcomes:
        return "resolved"
    if any(e["event_type"] in reg.CONFRONTATIONAL or e["state_response"] in reg.FORCEFUL_RESPONSES
           for e in events):
        return "escalation"
    return "emergence"


def _title(events: list[dict[str, Any]], fmt: str) -> str:
    first = events[0]
    if fmt == "deaths":
        return str(first.get("campaign") or first["event_key"])
    text = first.get("description") or f"{first['actor_type']} / {first['demand_type']}"
    return f"{text[:100]} ({first['territory']}, {first['date']:%Y-%m})"


def import_events(
    con: duckdb.DuckDBPyConnection, path: str | Path, mapping: Mapping[str, Any]
) -> ImportReport:
    """Import one file with its mapping; return the report (rows read = imported + rejected)."""
    path = Path(path)
    file = path.name
    reg.ensure_schema(con)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    report = ImportReport(source=mapping["name"], file=file)
    prior = con.execute(
        "SELECT source_id, rows_read, rows_imported FROM conflict_source "
        "WHERE sha256 = ? AND mapping = ?", [sha, mapping["name"]]).fetchone()
    if prior is not None:
        report.already_imported = True
        report.rows_read, report.rows_imported = int(prior[1]), int(prior[2])
        for r in con.execute("SELECT file, row_number, column_name, value, expected "
                             "FROM conflict_rejection WHERE source_id = ?", [prior[0]]).fetchall():
            report.rejections.append(Rejection(*r))
        counts = con.execute(
            "SELECT count(*), count(DISTINCT conflict_id) FROM conflict_event WHERE source_id = ?",
            [prior[0]]).fetchone()
        assert counts is not None
        report.events, report.conflicts = int(counts[0]), int(counts[1])
        return report

    reader = csv.DictReader(data.decode("utf-8-sig").splitlines(keepends=True))
    _check_columns(mapping, list(reader.fieldnames or []), file)
    records: list[dict[str, Any]] = []
    for n, row in enumerate(reader, start=1):
        report.rows_read += 1
        record, bad = _parse_row(mapping, row, n, file)
        if bad:
            report.rejections.extend(bad)
        else:
            record["row"] = n
            record.setdefault("rows", [n])
            records.append(record)
    report.rows_imported = len(records)
    events = _events_from_deaths(records) if mapping["format"] == "deaths" else records
    for e in events:
        e["state_response"] = e.get("state_response") or "unknown"
    groups = _group(events, mapping["grouping"])
    report.events, report.conflicts = len(events), len(groups)
    agreement_outcomes = set(mapping.get("agreement_outcomes", ()))

    con.begin()
    try:
        source_id = reg.next_id(con, "conflict_source")
        con.execute(
            "INSERT INTO conflict_source VALUES (?, ?, ?, ?, ?, ?, current_timestamp, ?, ?, ?)",
            [source_id, mapping["name"], file, sha, mapping["name"], mapping.get("citation"),
             report.rows_read, report.rows_imported, report.rows_rejected])
        tables = _build_tables(con, groups, mapping, source_id, agreement_outcomes)
        tables["conflict_rejection"] = [
            (source_id, r.file, r.row, r.column, r.value, r.expected, r.message)
            for r in report.rejections]
        for table in reg.TABLES:  # in dependency order (demand types before conflicts)
            _append(con, table, tables.get(table, []))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return report


# One fixed statement per table: the rows arrive as a registered DataFrame, never as SQL text.
_APPEND = {t: f"INSERT INTO {t} SELECT * FROM _conflict_rows" for t in reg.TABLES}  # noqa: S608


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [table]).fetchall()]
    frame = pd.DataFrame.from_records(rows, columns=columns).astype(object)
    frame = frame.where(frame.notna(), None)
    con.register("_conflict_rows", frame)
    try:
        con.execute(_APPEND[table])
    finally:
        con.unregister("_conflict_rows")


def _build_tables(
    con: duckdb.DuckDBPyConnection, groups: list[list[dict[str, Any]]],
    mapping: Mapping[str, Any], source_id: int, agreement_outcomes: set[str],
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows each registry table receives from these conflicts (ids continue the tables')."""
    ids = {t: reg.next_id(con, t)
           for t in ("conflict", "actor", "conflict_event", "agreement", "commitment")}
    actors = {(n, t): int(i) for i, n, t in con.execute("SELECT * FROM actor").fetchall()}
    known_demands = {r[0] for r in con.execute("SELECT code FROM demand_type").fetchall()}
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)

    def take(table: str) -> int:
        ids[table] += 1
        return ids[table] - 1

    for group in groups:
        first = group[0]
        conflict_id = take("conflict")
        phase = _phase(group, agreement_outcomes)
        if first["demand_type"] not in known_demands:
            known_demands.add(first["demand_type"])
            out["demand_type"].append((first["demand_type"], first.get("demand_type_raw")))
        out["conflict"].append((
            conflict_id, _title(group, mapping["format"]), mapping.get("country"),
            first["demand_type"], first.get("admin1"), first.get("admin2"), phase,
            _intensity(group), first["date"], source_id, str(first["record"])))
        out["conflict_phase"].append((conflict_id, first["date"], None, phase, "import rule"))
        parties = {("claimant", e.get("actor_name"), e.get("actor_type")) for e in group} | {
            ("counterpart", e.get("counterpart_name"), e.get("counterpart_type")) for e in group}
        for role, name, kind in sorted(parties, key=str):
            if name is None and kind is None:
                continue
            if (name, kind) not in actors:
                actors[(name, kind)] = take("actor")
                out["actor"].append((actors[(name, kind)], name, kind))
            out["conflict_actor"].append((conflict_id, actors[(name, kind)], role))
        for e in group:
            out["conflict_event"].append((
                take("conflict_event"), conflict_id, e["date"], e["precision"], e["event_type"],
                e.get("event_type_raw"), e["state_response"], e.get("outcome"),
                e.get("description"), e.get("admin1"), e.get("admin2"), e.get("deaths"),
                source_id, str(e["record"]), ",".join(str(r) for r in e["rows"])))
            if e.get("outcome") in agreement_outcomes:
                agreement_id = take("agreement")
                out["agreement"].append((agreement_id, conflict_id, e["date"],
                                         f"source outcome: {e.get('outcome_raw')}", source_id))
                out["commitment"].append((
                    take("commitment"), agreement_id,
                    e.get("description") or "as recorded by the source", None, None, False, None))
    return out
