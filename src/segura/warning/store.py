"""Stored alerts: one per indicator, territory and period, with severity, acknowledgement and notes.

The store is a SQLite file of the workspace (`alerts.sqlite`), not a table of the DuckDB
warehouse: the portal's analysts acknowledge alerts and write notes while loads hold the
warehouse (DuckDB admits one writing process), and every worker process of the portal must see
the same state; SQLite in WAL mode is the transactional store DESIGN.md names for such
multi-user state. Alerts hold territory codes and counts, never a person.

An alert gathers the methods that flagged the same cell. Its severity is a rule an analyst can
check by hand (see `severity`). Re-running detection updates an alert's figures, keeps its
status and notes, and marks as withdrawn an open alert that a later run over the same months no
longer flags (the data were corrected).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segura.errors import SeguraError

SEVERITIES = ("low", "medium", "high")
STATUSES = ("open", "acknowledged", "closed")
HIGH_SCORE = 2.0  # twice the alarm margin: (observed - expected) = 2 (threshold - expected)
MIN_NEW_CASES = 3  # cases against a flat zero baseline before an alert can be high

_DDL = (
    """CREATE TABLE IF NOT EXISTS alert (
        alert_id TEXT PRIMARY KEY, indicator TEXT NOT NULL, level TEXT NOT NULL,
        territory TEXT NOT NULL, territory_name TEXT, period TEXT NOT NULL, grain TEXT NOT NULL,
        observed REAL NOT NULL, expected REAL, threshold REAL, score REAL, method TEXT NOT NULL,
        methods TEXT NOT NULL, agreeing INTEGER NOT NULL, deciding INTEGER NOT NULL,
        severity TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
        first_detected TEXT NOT NULL, last_detected TEXT NOT NULL, withdrawn_at TEXT,
        acknowledged_by TEXT, acknowledged_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS alert_period ON alert (period DESC, severity)",
    """CREATE TABLE IF NOT EXISTS alert_note (
        note_id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL REFERENCES alert(alert_id),
        written_at TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS subscription (
        subscription_id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, target TEXT NOT NULL,
        indicator TEXT, min_severity TEXT NOT NULL, lang TEXT NOT NULL, created_at TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1)""",
    """CREATE TABLE IF NOT EXISTS delivery (
        subscription_id INTEGER NOT NULL, alert_id TEXT NOT NULL, attempted_at TEXT NOT NULL,
        ok INTEGER NOT NULL, detail TEXT, PRIMARY KEY (subscription_id, alert_id))""",
)


class AlertError(SeguraError):
    """An unknown alert or subscription, or a value outside its code list."""

    exit_code = 2


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def alert_id(indicator: str, level: str, territory: str, period: str) -> str:
    """A stable id: the same cell found again is the same alert."""
    return hashlib.sha256(f"{indicator}|{level}|{territory}|{period}".encode()).hexdigest()[:12]


def severity(agreeing: int, score: float | None, observed: float) -> str:
    """high: three or more methods flag the cell, or two do with an excess of at least twice the
    alarm margin (score >= 2); medium: two methods, or one with score >= 2; low: one method.
    A flat zero baseline gives no finite score (any case is infinitely far above it): it counts
    as score >= 2 only from MIN_NEW_CASES cases on, and below that the alert is at most medium:
    one or two cases where there were none are worth a look, not an escalation."""
    if score is None or not math.isfinite(score):
        if observed < MIN_NEW_CASES:
            return "medium" if agreeing >= 2 else "low"
        score = math.inf
    big = score >= HIGH_SCORE
    if agreeing >= 3 or (agreeing >= 2 and big):
        return "high"
    if agreeing >= 2 or big:
        return "medium"
    return "low"


@dataclass(frozen=True)
class Recorded:
    """What one detection run did to the store."""

    new: list[str]
    updated: int
    withdrawn: int


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and isinstance(x, int | float) and math.isfinite(x) else None


class AlertStore:
    """The workspace's alerts, notes, subscriptions and deliveries (`<workspace>/alerts.sqlite`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers (the portal) never wait for a writer
            for ddl in _DDL:
                db.execute(ddl)

    @classmethod
    def of(cls, root: Path) -> AlertStore:
        return cls(root / "alerts.sqlite")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys=ON")
            os.chmod(self.path, 0o600)
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # --- detection results ------------------------------------------------------------------

    def record(self, indicator: str, level: str, grain: str, alarms: pd.DataFrame,
               window: Sequence[str], deciding: dict[tuple[str, str], int] | None = None) -> Recorded:
        """Store one run's alarms (rows: territory, territory_name, period, method, observed, expected,
        threshold, score) for the periods in `window`; `deciding[(territory, period)]` is how many
        methods could decide that cell (default: the number of methods run)."""
        stamp = now()
        new: list[str] = []
        updated = 0
        found: set[str] = set()
        with self._db() as db:
            for (territory, period), rows in alarms.groupby(["territory", "period"], sort=True):
                rows = rows.assign(_rank=rows["score"].fillna(math.inf)).sort_values("_rank", ascending=False)
                head = rows.iloc[0]
                methods = [{"method": r.method, "expected": _finite(r.expected), "threshold": _finite(r.threshold),
                            "score": _finite(r.score)} for r in rows.itertuples()]
                score = _finite(head["score"])
                agreeing = len(rows)
                n = (deciding or {}).get((str(territory), str(period)), agreeing)
                aid = alert_id(indicator, level, str(territory), str(period))
                found.add(aid)
                values = {"indicator": indicator, "level": level, "territory": str(territory),
                          "territory_name": str(head.get("territory_name", territory)), "period": str(period),
                          "grain": grain, "observed": float(head["observed"]), "expected": _finite(head["expected"]),
                          "threshold": _finite(head["threshold"]), "score": score, "method": str(head["method"]),
                          "methods": json.dumps(methods), "agreeing": agreeing, "deciding": max(n, agreeing),
                          "severity": severity(agreeing, score, float(head["observed"]))}
                old = db.execute("SELECT alert_id FROM alert WHERE alert_id = ?", [aid]).fetchone()
                if old is None:
                    db.execute(f"INSERT INTO alert ({', '.join(values)}, alert_id, first_detected, last_detected) "  # noqa: S608
                               f"VALUES ({', '.join('?' * len(values))}, ?, ?, ?)", [*values.values(), aid, stamp, stamp])
                    new.append(aid)
                else:
                    sets = ", ".join(f"{k} = ?" for k in values)
                    db.execute(f"UPDATE alert SET {sets}, last_detected = ?, withdrawn_at = NULL WHERE alert_id = ?",  # noqa: S608
                               [*values.values(), stamp, aid])
                    updated += 1
            marks = ",".join("?" * len(window))
            stale = [r[0] for r in db.execute(
                f"SELECT alert_id FROM alert WHERE indicator = ? AND level = ? AND grain = ? "  # noqa: S608
                f"AND period IN ({marks}) AND withdrawn_at IS NULL", [indicator, level, grain, *window])
                if r[0] not in found] if window else []
            for aid in stale:
                db.execute("UPDATE alert SET withdrawn_at = ? WHERE alert_id = ?", [stamp, aid])
        return Recorded(new=new, updated=updated, withdrawn=len(stale))

    # --- reading ----------------------------------------------------------------------------

    def alerts(self, *, status: str | None = None, severity_at_least: str | None = None,
               indicator: str | None = None, level: str | None = None, withdrawn: bool = False,
               limit: int = 1000) -> list[dict[str, Any]]:
        """Alerts, newest period first, then by severity and score."""
        where, args = ["1 = 1"], []
        if status is not None:
            _check(status, STATUSES, "status")
            where.append("status = ?")
            args.append(status)
        if severity_at_least is not None:
            _check(severity_at_least, SEVERITIES, "severity")
            allowed = SEVERITIES[SEVERITIES.index(severity_at_least):]
            where.append(f"severity IN ({','.join('?' * len(allowed))})")
            args.extend(allowed)
        for column, value in (("indicator", indicator), ("level", level)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if not withdrawn:
            where.append("withdrawn_at IS NULL")
        order = "CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END"
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM alert WHERE {' AND '.join(where)} "  # noqa: S608
                              f"ORDER BY period DESC, {order}, score DESC NULLS FIRST LIMIT ?", [*args, limit]).fetchall()
        return [_row(r) for r in rows]

    def get(self, aid: str) -> dict[str, Any]:
        with self._db() as db:
            row = db.execute("SELECT * FROM alert WHERE alert_id = ?", [aid]).fetchone()
            if row is None:
                raise AlertError(f"alert {aid!r}: no such alert (segura alerts lists them)")
            notes = db.execute("SELECT written_at, author, text FROM alert_note WHERE alert_id = ? ORDER BY note_id",
                               [aid]).fetchall()
        out = _row(row)
        out["notes"] = [dict(n) for n in notes]
        return out

    # --- the analyst's work -----------------------------------------------------------------

    def acknowledge(self, aid: str, user: str, note: str | None = None) -> None:
        """Mark an open alert as seen by `user` (an analyst), with an optional note."""
        self._mark(aid, user, note, "UPDATE alert SET status = 'acknowledged', acknowledged_by = ?, "
                                    "acknowledged_at = ? WHERE alert_id = ? AND status = 'open'")

    def close(self, aid: str, user: str, note: str | None = None) -> None:
        """Close an alert (dealt with); closing also acknowledges it."""
        self._mark(aid, user, note, "UPDATE alert SET status = 'closed', acknowledged_by = coalesce(acknowledged_by, ?), "
                                    "acknowledged_at = coalesce(acknowledged_at, ?) WHERE alert_id = ?")

    def _mark(self, aid: str, user: str, note: str | None, sql: str) -> None:
        self.get(aid)
        with self._db() as db:
            db.execute(sql, [user, now(), aid])
        if note:
            self.add_note(aid, user, note)

    def add_note(self, aid: str, user: str, text: str) -> None:
        text = text.strip()
        if not text:
            raise AlertError("a note needs some text")
        if len(text) > 4000:
            raise AlertError(f"a note has at most 4,000 characters (this one {len(text):,})")
        self.get(aid)
        with self._db() as db:
            db.execute("INSERT INTO alert_note (alert_id, written_at, author, text) VALUES (?, ?, ?, ?)",
                       [aid, now(), user, text])

    # --- subscriptions ----------------------------------------------------------------------

    def subscribe(self, kind: str, target: str, *, indicator: str | None = None, min_severity: str = "low",
                  lang: str = "es") -> int:
        _check(kind, ("webhook", "email"), "kind")
        _check(min_severity, SEVERITIES, "minimum severity")
        _check(lang, ("es", "en"), "language")
        if kind == "webhook" and not target.startswith(("http://", "https://")):
            raise AlertError(f"webhook {target!r}: expected an http:// or https:// address")
        if kind == "email" and ("@" not in target or any(c in target for c in "\r\n ,;")):
            raise AlertError(f"email {target!r}: expected one address such as observatorio@example.org")
        with self._db() as db:
            cur = db.execute("INSERT INTO subscription (kind, target, indicator, min_severity, lang, created_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", [kind, target, indicator, min_severity, lang, now()])
            return int(cur.lastrowid or 0)

    def unsubscribe(self, subscription_id: int) -> None:
        with self._db() as db:
            if db.execute("UPDATE subscription SET active = 0 WHERE subscription_id = ?", [subscription_id]).rowcount == 0:
                raise AlertError(f"subscription {subscription_id}: no such subscription")

    def subscriptions(self, *, active: bool = True) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM subscription WHERE active = 1 OR NOT ? ORDER BY subscription_id",
                              [active]).fetchall()
        return [dict(r) for r in rows]

    def pending(self, subscription: dict[str, Any]) -> list[dict[str, Any]]:
        """The subscription's alerts not yet delivered: open, not withdrawn, detected after it began,
        at least its severity, of its indicator if it names one."""
        wanted = SEVERITIES[SEVERITIES.index(subscription["min_severity"]):]
        with self._db() as db:
            rows = db.execute(
                f"SELECT a.* FROM alert a WHERE a.status = 'open' AND a.withdrawn_at IS NULL "  # noqa: S608
                f"AND a.first_detected >= ? AND a.severity IN ({','.join('?' * len(wanted))}) "
                "AND (? IS NULL OR a.indicator = ?) AND NOT EXISTS (SELECT 1 FROM delivery d "
                "WHERE d.subscription_id = ? AND d.alert_id = a.alert_id AND d.ok = 1) ORDER BY a.period, a.territory",
                [subscription["created_at"], *wanted, subscription["indicator"], subscription["indicator"],
                 subscription["subscription_id"]]).fetchall()
        return [_row(r) for r in rows]

    def delivered(self, subscription_id: int, alert_ids: Iterable[str], ok: bool, detail: str) -> None:
        stamp = now()
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO delivery VALUES (?, ?, ?, ?, ?)",
                           [(subscription_id, a, stamp, int(ok), detail[:500]) for a in alert_ids])

    def deliveries(self) -> list[dict[str, Any]]:
        with self._db() as db:
            return [dict(r) for r in db.execute("SELECT * FROM delivery ORDER BY attempted_at, alert_id").fetchall()]


def _check(value: str, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise AlertError(f"{what} {value!r}: expected one of {', '.join(allowed)}")


def _row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["methods"] = json.loads(out["methods"])
    return out
