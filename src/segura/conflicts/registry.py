"""The social conflict registry: conflicts, their actors, events, agreements and phase history.

Tables live in the workspace's DuckDB file and are created on demand by `ensure_schema`.
Every value reaches SQL as a bound parameter. Code lists (event types, state responses,
phases, roles) are data in this module and are checked before anything is written.
Personal names have no column here: the registry holds organisations and actor types only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from segura.errors import SeguraError

PHASES = ("latent", "emergence", "escalation", "crisis", "de-escalation", "resolved")
EVENT_TYPES = (
    "declaration", "meeting", "march", "rally", "blockade", "strike", "occupation", "clash", "other",
)
CONFRONTATIONAL = frozenset({"blockade", "occupation", "clash"})
STATE_RESPONSES = (
    "none", "dialogue", "police_presence", "use_of_force", "arrests", "eviction",
    "legal_action", "threat", "unknown",
)
FORCEFUL_RESPONSES = frozenset({"use_of_force", "arrests", "eviction"})
ROLES = ("claimant", "counterpart")

# Allowed phase changes. Escalation is gradual (no jump from latent to crisis) and a crisis
# de-escalates before it is resolved; a resolved conflict can re-emerge.
TRANSITIONS: dict[str, frozenset[str]] = {
    "latent": frozenset({"emergence", "resolved"}),
    "emergence": frozenset({"latent", "escalation", "de-escalation", "resolved"}),
    "escalation": frozenset({"crisis", "de-escalation"}),
    "crisis": frozenset({"de-escalation"}),
    "de-escalation": frozenset({"escalation", "latent", "resolved"}),
    "resolved": frozenset({"emergence"}),
}


class ConflictError(SeguraError):
    """A registry operation names an unknown conflict, code or phase change."""

    exit_code = 2


_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS conflict_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS conflict_source (
        source_id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, file VARCHAR, sha256 VARCHAR,
        mapping VARCHAR, citation VARCHAR, imported_at TIMESTAMP,
        rows_read INTEGER, rows_imported INTEGER, rows_rejected INTEGER)""",
    """CREATE TABLE IF NOT EXISTS demand_type (
        code VARCHAR PRIMARY KEY, label VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS conflict (
        conflict_id INTEGER PRIMARY KEY, title VARCHAR NOT NULL, country VARCHAR,
        demand_type VARCHAR REFERENCES demand_type(code), admin1 VARCHAR, admin2 VARCHAR,
        phase VARCHAR NOT NULL, intensity INTEGER, started_on DATE,
        source_id INTEGER, source_key VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS actor (
        actor_id INTEGER PRIMARY KEY, name VARCHAR, actor_type VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS conflict_actor (
        conflict_id INTEGER NOT NULL, actor_id INTEGER NOT NULL, role VARCHAR NOT NULL,
        PRIMARY KEY (conflict_id, actor_id, role))""",
    """CREATE TABLE IF NOT EXISTS conflict_event (
        event_id INTEGER PRIMARY KEY, conflict_id INTEGER NOT NULL, occurred_on DATE NOT NULL,
        date_precision VARCHAR NOT NULL, event_type VARCHAR NOT NULL, type_detail VARCHAR,
        state_response VARCHAR NOT NULL, outcome VARCHAR, description VARCHAR,
        admin1 VARCHAR, admin2 VARCHAR, deaths INTEGER,
        source_id INTEGER, source_record VARCHAR, source_rows VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS agreement (
        agreement_id INTEGER PRIMARY KEY, conflict_id INTEGER NOT NULL, signed_on DATE NOT NULL,
        description VARCHAR, source_id INTEGER)""",
    """CREATE TABLE IF NOT EXISTS commitment (
        commitment_id INTEGER PRIMARY KEY, agreement_id INTEGER NOT NULL, description VARCHAR NOT NULL,
        responsible VARCHAR, deadline DATE, fulfilled BOOLEAN NOT NULL DEFAULT FALSE,
        fulfilled_on DATE)""",
    """CREATE TABLE IF NOT EXISTS conflict_phase (
        conflict_id INTEGER NOT NULL, changed_on DATE NOT NULL, phase_from VARCHAR,
        phase_to VARCHAR NOT NULL, reason VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS conflict_rejection (
        source_id INTEGER NOT NULL, file VARCHAR, row_number INTEGER NOT NULL, column_name VARCHAR,
        value VARCHAR, expected VARCHAR, message VARCHAR NOT NULL)""",
)

TABLES = (
    "conflict_source", "demand_type", "conflict", "actor", "conflict_actor", "conflict_event",
    "agreement", "commitment", "conflict_phase", "conflict_rejection",
)

_NEXT_ID = {
    "conflict": "SELECT coalesce(max(conflict_id), 0) + 1 FROM conflict",
    "actor": "SELECT coalesce(max(actor_id), 0) + 1 FROM actor",
    "conflict_event": "SELECT coalesce(max(event_id), 0) + 1 FROM conflict_event",
    "agreement": "SELECT coalesce(max(agreement_id), 0) + 1 FROM agreement",
    "commitment": "SELECT coalesce(max(commitment_id), 0) + 1 FROM commitment",
    "conflict_source": "SELECT coalesce(max(source_id), 0) + 1 FROM conflict_source",
}


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the registry's tables if they do not exist (idempotent)."""
    for statement in _DDL:
        con.execute(statement)


def next_id(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(_NEXT_ID[table]).fetchone()
    assert row is not None
    return int(row[0])


def _check(value: str, allowed: Sequence[str], what: str) -> str:
    if value not in allowed:
        raise ConflictError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Commitment:
    description: str
    deadline: dt.date | None = None
    responsible: str | None = None
    fulfilled: bool = False
    fulfilled_on: dt.date | None = None


@dataclass
class ConflictView:
    """A conflict with its actors, timeline, agreements and phase history (for `show_conflict`)."""

    conflict: dict[str, Any]
    actors: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    agreements: list[dict[str, Any]] = field(default_factory=list)
    phases: list[dict[str, Any]] = field(default_factory=list)


def add_demand_type(con: duckdb.DuckDBPyConnection, code: str, label: str) -> None:
    con.execute(
        "INSERT INTO demand_type VALUES (?, ?) ON CONFLICT (code) DO NOTHING", [code, label]
    )


def add_actor(con: duckdb.DuckDBPyConnection, name: str | None, actor_type: str | None) -> int:
    """Return the id of the actor with this name and type, creating it if needed."""
    row = con.execute(
        "SELECT actor_id FROM actor WHERE name IS NOT DISTINCT FROM ? "
        "AND actor_type IS NOT DISTINCT FROM ?",
        [name, actor_type],
    ).fetchone()
    if row:
        return int(row[0])
    actor_id = next_id(con, "actor")
    con.execute("INSERT INTO actor VALUES (?, ?, ?)", [actor_id, name, actor_type])
    return actor_id


def create_conflict(
    con: duckdb.DuckDBPyConnection,
    title: str,
    *,
    demand_type: str | None = None,
    admin1: str | None = None,
    admin2: str | None = None,
    country: str | None = None,
    phase: str = "emergence",
    started_on: dt.date | None = None,
    intensity: int | None = None,
    claimants: Sequence[tuple[str | None, str | None]] = (),
    counterparts: Sequence[tuple[str | None, str | None]] = (),
    source_id: int | None = None,
    source_key: str | None = None,
    phase_reason: str = "registered",
) -> int:
    """Register a conflict in its initial phase; actors are (name, type) pairs."""
    _check(phase, PHASES, "phase")
    if demand_type is not None:
        add_demand_type(con, demand_type, demand_type)
    conflict_id = next_id(con, "conflict")
    con.execute(
        "INSERT INTO conflict VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [conflict_id, title, country, demand_type, admin1, admin2, phase, intensity, started_on,
         source_id, source_key],
    )
    con.execute(
        "INSERT INTO conflict_phase VALUES (?, ?, NULL, ?, ?)",
        [conflict_id, started_on or dt.date.today(), phase, phase_reason],
    )
    for role, parties in (("claimant", claimants), ("counterpart", counterparts)):
        for name, actor_type in parties:
            actor_id = add_actor(con, name, actor_type)
            con.execute(
                "INSERT INTO conflict_actor VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [conflict_id, actor_id, role],
            )
    return conflict_id


def _require_conflict(con: duckdb.DuckDBPyConnection, conflict_id: int) -> dict[str, Any]:
    cur = con.execute("SELECT * FROM conflict WHERE conflict_id = ?", [conflict_id])
    row = cur.fetchone()
    if row is None:
        raise ConflictError(f"no conflict with id {conflict_id}; list them with list_conflicts()")
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def add_event(
    con: duckdb.DuckDBPyConnection,
    conflict_id: int,
    occurred_on: dt.date,
    event_type: str,
    *,
    state_response: str = "none",
    date_precision: str = "day",
    type_detail: str | None = None,
    outcome: str | None = None,
    description: str | None = None,
    admin1: str | None = None,
    admin2: str | None = None,
    deaths: int | None = None,
    source_id: int | None = None,
    source_record: str | None = None,
    source_rows: str | None = None,
) -> int:
    """Add an event to a conflict's timeline; type and state response come from the code lists."""
    _require_conflict(con, conflict_id)
    _check(event_type, EVENT_TYPES, "event type")
    _check(state_response, STATE_RESPONSES, "state response")
    _check(date_precision, ("day", "month", "year"), "date precision")
    event_id = next_id(con, "conflict_event")
    con.execute(
        "INSERT INTO conflict_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event_id, conflict_id, occurred_on, date_precision, event_type, type_detail,
         state_response, outcome, description, admin1, admin2, deaths, source_id, source_record,
         source_rows],
    )
    return event_id


def add_agreement(
    con: duckdb.DuckDBPyConnection,
    conflict_id: int,
    signed_on: dt.date,
    commitments: Sequence[Commitment],
    *,
    description: str | None = None,
    source_id: int | None = None,
) -> int:
    """Record an agreement and its commitments (each with deadline and fulfilment)."""
    _require_conflict(con, conflict_id)
    agreement_id = next_id(con, "agreement")
    con.execute(
        "INSERT INTO agreement VALUES (?, ?, ?, ?, ?)",
        [agreement_id, conflict_id, signed_on, description, source_id],
    )
    for c in commitments:
        con.execute(
            "INSERT INTO commitment VALUES (?, ?, ?, ?, ?, ?, ?)",
            [next_id(con, "commitment"), agreement_id, c.description, c.responsible, c.deadline,
             c.fulfilled, c.fulfilled_on],
        )
    return agreement_id


def fulfil_commitment(
    con: duckdb.DuckDBPyConnection, commitment_id: int, fulfilled_on: dt.date
) -> None:
    con.execute(
        "UPDATE commitment SET fulfilled = TRUE, fulfilled_on = ? WHERE commitment_id = ?",
        [fulfilled_on, commitment_id],
    )


def change_phase(
    con: duckdb.DuckDBPyConnection,
    conflict_id: int,
    new_phase: str,
    changed_on: dt.date,
    reason: str | None = None,
) -> None:
    """Move a conflict to a new phase if `TRANSITIONS` allows it; record the change."""
    _check(new_phase, PHASES, "phase")
    current = str(_require_conflict(con, conflict_id)["phase"])
    allowed = TRANSITIONS[current]
    if new_phase not in allowed:
        raise ConflictError(
            f"conflict {conflict_id} cannot go from {current!r} to {new_phase!r}; "
            f"from {current!r} it can go to: {', '.join(sorted(allowed))}"
        )
    con.execute("UPDATE conflict SET phase = ? WHERE conflict_id = ?", [new_phase, conflict_id])
    con.execute(
        "INSERT INTO conflict_phase VALUES (?, ?, ?, ?, ?)",
        [conflict_id, changed_on, current, new_phase, reason],
    )


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def list_conflicts(
    con: duckdb.DuckDBPyConnection, *, phase: str | None = None
) -> list[dict[str, Any]]:
    """Conflicts with their number of events and date of the last one, newest first."""
    if phase is not None:
        _check(phase, PHASES, "phase")
    cur = con.execute(
        """SELECT c.*, count(e.event_id) AS events, max(e.occurred_on) AS last_event_on
           FROM conflict c LEFT JOIN conflict_event e USING (conflict_id)
           WHERE ? IS NULL OR c.phase = ?
           GROUP BY ALL ORDER BY last_event_on DESC NULLS LAST, c.conflict_id""",
        [phase, phase],
    )
    return _rows(cur)


def show_conflict(con: duckdb.DuckDBPyConnection, conflict_id: int) -> ConflictView:
    """A conflict with its actors, timeline (by date), agreements with commitments and phases."""
    view = ConflictView(conflict=_require_conflict(con, conflict_id))
    view.actors = _rows(con.execute(
        "SELECT a.*, ca.role FROM conflict_actor ca JOIN actor a USING (actor_id) "
        "WHERE ca.conflict_id = ? ORDER BY ca.role, a.actor_id", [conflict_id]))
    view.events = _rows(con.execute(
        "SELECT * FROM conflict_event WHERE conflict_id = ? ORDER BY occurred_on, event_id",
        [conflict_id]))
    view.agreements = _rows(con.execute(
        "SELECT a.agreement_id, a.signed_on, a.description, c.commitment_id, "
        "c.description AS commitment, c.deadline, c.fulfilled, c.fulfilled_on "
        "FROM agreement a LEFT JOIN commitment c USING (agreement_id) "
        "WHERE a.conflict_id = ? ORDER BY a.signed_on, c.commitment_id", [conflict_id]))
    view.phases = _rows(con.execute(
        "SELECT changed_on, phase_from, phase_to, reason FROM conflict_phase "
        "WHERE conflict_id = ? ORDER BY changed_on, rowid", [conflict_id]))
    return view
