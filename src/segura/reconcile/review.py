"""Clerical review: the analyst's same/different decisions on uncertain pairs.

    link_pair (latest run) in the review band, undecided -> queue -> analyst -> review_decision
    review_decision (not undone) -> the next `reconcile` run (run.active_decisions -> link.py)

A decision is a row of `review_decision`; it is never deleted. A newer decision on the same pair
supersedes the earlier one (which gets `undone_at`), and undoing sets `undone_at` too, so the
table is the full history of who-decided-what-when (the "who" arrives with user accounts).

Privacy: `pair_details` is, with linkage, the only reader of names and documents
(`person_identity`). What it returns is for the analyst's screen only: never log it, write it to
a file or put it in JSON. Everything else here handles record ids alone.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from segura.errors import ReviewError

log = logging.getLogger(__name__)

VERDICTS: tuple[str, ...] = ("same", "different")

# The fields of one record on the review screen, in display order: (key, Spanish, English).
# `names` marks the identity fields (person_identity), shown only on the analyst's terminal.
DETAIL_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("source", "institución", "source"),
    ("record_id", "registro", "record id"),
    ("load_file", "archivo", "load file"),
    ("row_number", "fila", "row"),
    ("given_names", "nombres", "given names"),
    ("first_surname", "primer apellido", "first surname"),
    ("second_surname", "segundo apellido", "second surname"),
    ("full_name", "nombre completo", "full name"),
    ("document", "documento", "document"),
    ("birth_date", "fecha de nacimiento", "birth date"),
    ("sex", "sexo", "sex"),
    ("age", "edad", "age"),
    ("event_date", "fecha del hecho", "event date"),
    ("reported_date", "fecha de registro", "reported date"),
    ("territory", "territorio", "territory"),
    ("offence_code", "delito (código)", "offence code"),
    ("iccs_code", "ICCS", "ICCS"),
    ("weapon", "arma", "weapon"),
    ("relationship", "relación con agresor", "relationship"),
)
PROVENANCE_FIELDS = frozenset({"source", "record_id", "load_file", "row_number"})  # differ by nature


@dataclass(frozen=True)
class ReviewPair:
    """One uncertain pair of the latest reconcile run (record ids only)."""

    person_id_l: str
    person_id_r: str
    match_probability: float
    linked: bool  # whether the latest run put the two records in one victim

    @property
    def sources(self) -> tuple[str, str]:
        return self.person_id_l.split(":", 1)[0], self.person_id_r.split(":", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    decision_id: int
    person_id_l: str
    person_id_r: str
    decision: str
    note: str | None
    decided_at: dt.datetime
    undone_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.undone_at is None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["decided_at"] = self.decided_at.isoformat(timespec="seconds")
        out["undone_at"] = self.undone_at.isoformat(timespec="seconds") if self.undone_at else None
        return out


_SAME_PAIR = """((d.person_id_l = {l} AND d.person_id_r = {r}) OR (d.person_id_l = {r} AND d.person_id_r = {l}))"""


def review_queue(
    con: duckdb.DuckDBPyConnection, lo: float, hi: float, limit: int | None = None, *, duplicate_free: Sequence[str] = ()
) -> list[ReviewPair]:
    """The pairs of the latest run with a probability in [lo, hi] and no active decision,
    the most uncertain (closest to 0.5) first. Two records of one duplicate-free source are not
    asked about: the one-to-one clustering could not join them whatever the answer."""
    undecided = _SAME_PAIR.format(l="p.person_id_l", r="p.person_id_r")
    rows = con.execute(
        f"""
        SELECT p.person_id_l, p.person_id_r, p.match_probability, p.linked
        FROM link_pair p
        WHERE p.run_id = (SELECT max(run_id) FROM link_pair)
          AND p.match_probability BETWEEN ? AND ?
          AND NOT EXISTS (SELECT 1 FROM review_decision d WHERE d.undone_at IS NULL AND {undecided})
          AND NOT (split_part(p.person_id_l, ':', 1) = split_part(p.person_id_r, ':', 1)
                   AND list_contains(?::VARCHAR[], split_part(p.person_id_l, ':', 1)))
        ORDER BY abs(p.match_probability - 0.5), p.person_id_l, p.person_id_r
        LIMIT ?""",  # noqa: S608 (a fixed fragment of our own)
        [lo, hi, list(duplicate_free), limit],
    ).fetchall()
    return [ReviewPair(a, b, float(p), bool(linked)) for a, b, p, linked in rows]


_DETAILS = """
    SELECT p.source_id, p.source_record_id, ld.file_name, p.row_number,
           i.given_names, i.first_surname, i.second_surname, i.full_name,
           nullif(concat_ws(' ', i.document_type, i.document_number), '') AS document, i.birth_date,
           p.sex, p.age, p.age_is_estimate, e.occurred_date, e.reported_date,
           e.territory_code, t.name, e.offence_code, e.iccs_code, e.weapon, p.relationship
    FROM person_current p
    JOIN load ld ON ld.load_id = p.load_id
    LEFT JOIN event_current e ON e.load_id = p.load_id AND e.source_record_id = p.event_record_id
    LEFT JOIN person_identity i ON i.load_id = p.load_id AND i.person_id = p.person_id
    LEFT JOIN territory t ON t.code = e.territory_code
    WHERE p.person_id = ?
"""


def pair_details(con: duckdb.DuckDBPyConnection, a: str, b: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two records side by side, keyed as DETAIL_FIELDS (plus `age_is_estimate`,
    `territory_code`, `territory_name`). Holds names and documents: for the analyst's screen only."""
    return _record(con, a), _record(con, b)


def _record(con: duckdb.DuckDBPyConnection, person_id: str) -> dict[str, Any]:
    row = con.execute(_DETAILS, [person_id]).fetchone()
    if row is None:
        raise ReviewError(f"no current record {person_id!r}; record ids look like 'police:GTO-14-00133-1' (source:record id)")
    (source, rec, file_name, row_number, given, s1, s2, full, document, birth, sex, age, est,
     occurred, reported, terr, terr_name, offence, iccs, weapon, relationship) = row
    territory = " ".join(x for x in (terr, f"({terr_name})" if terr_name else None) if x) or None
    return {
        "source": source, "record_id": rec, "load_file": file_name, "row_number": row_number,
        "given_names": given, "first_surname": s1, "second_surname": s2, "full_name": full,
        "document": document, "birth_date": birth, "sex": sex, "age": age, "age_is_estimate": bool(est),
        "event_date": occurred, "reported_date": reported, "territory": territory,
        "territory_code": terr, "territory_name": terr_name,
        "offence_code": offence, "iccs_code": iccs, "weapon": weapon, "relationship": relationship,
    }


def decide(con: duckdb.DuckDBPyConnection, a: str, b: str, decision: str, note: str | None = None) -> int:
    """Record that records `a` and `b` are the same victim or different victims (`decision` is
    'same' or 'different'); returns the decision id. An earlier active decision on the same pair is
    superseded (marked undone). Runs its own transaction: call it outside one."""
    if decision not in VERDICTS:
        raise ReviewError(f"decision {decision!r} is not one of {', '.join(VERDICTS)}")
    if a == b:
        raise ReviewError(f"a record cannot be reviewed against itself ({a!r})")
    known = {r[0] for r in con.execute("SELECT DISTINCT person_id FROM person WHERE person_id IN (?, ?)", [a, b]).fetchall()}
    for pid in (a, b):
        if pid not in known:
            raise ReviewError(f"no record {pid!r}; record ids look like 'police:GTO-14-00133-1' (source:record id)")
    left, right = sorted((a, b))
    con.execute("BEGIN TRANSACTION")
    try:
        now = con.execute("SELECT now()::TIMESTAMP").fetchone()[0]  # type: ignore[index]
        con.execute(
            f"UPDATE review_decision d SET undone_at = ? WHERE d.undone_at IS NULL AND {_SAME_PAIR.format(l='?', r='?')}",  # noqa: S608
            [now, left, right, right, left],
        )
        decision_id = int(con.execute("SELECT nextval('review_seq')").fetchone()[0])  # type: ignore[index]
        con.execute(
            "INSERT INTO review_decision VALUES (?, ?, ?, ?, ?, ?, NULL)", [decision_id, left, right, decision, note, now]
        )
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    log.info("review decision %d: %s / %s -> %s", decision_id, left, right, decision)  # record ids only
    return decision_id


def undo(con: duckdb.DuckDBPyConnection, decision_id: int) -> Decision:
    """Undo an active decision: its pair returns to the queue, and the next run ignores it.
    (A decision it superseded stays undone: undoing never revives an older verdict.)"""
    found = _decisions(con, "WHERE decision_id = ?", [decision_id])
    if not found:
        raise ReviewError(f"no review decision {decision_id}; `segura review --list` shows them")
    if not found[0].active:
        raise ReviewError(f"review decision {decision_id} was already undone at {found[0].undone_at:%Y-%m-%d %H:%M:%S}")
    con.execute("UPDATE review_decision SET undone_at = now()::TIMESTAMP WHERE decision_id = ?", [decision_id])
    log.info("review decision %d undone", decision_id)
    return _decisions(con, "WHERE decision_id = ?", [decision_id])[0]


def decisions(con: duckdb.DuckDBPyConnection, include_undone: bool = False) -> list[Decision]:
    """The decisions in the order they were taken (only the active ones unless `include_undone`)."""
    return _decisions(con, "" if include_undone else "WHERE undone_at IS NULL", [])


def _decisions(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[Decision]:
    columns = "decision_id, person_id_l, person_id_r, decision, note, decided_at, undone_at"
    sql = f"SELECT {columns} FROM review_decision {where} ORDER BY decision_id"  # noqa: S608 (fixed fragments of our own)
    rows = con.execute(sql, params).fetchall()
    return [Decision(*r) for r in rows]
