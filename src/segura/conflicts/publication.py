"""What the conflict registry publishes: the tables a release holds and the portal reads.

`public_registry(con, on)` reads the whole registry once and returns, as tables:

- conflicts: one row per conflict, with its counts (events, deaths, forceful state responses,
  agreements) and its escalation score, level and every part of the score;
- parts: each score's parts (value, weight, contribution, the counts behind the value);
- events (the timeline), actors (organisations and actor types: the registry has no column for
  a person's name), agreements with their commitments, and the phase history;
- about: the sources with their citation and import counts, the score's method, the demand
  types and the indicators of `conflict_indicators`.

Events lose `source_rows`: the row numbers of the source file, whose rows describe people.

Which date a conflict is scored on. The score measures the 30 and 90 days before a date; a
historical source (Ultimate Consequences ends in 2024, IIS-UCR files end when they were cut)
scored "as of today" would give every conflict zero. So each conflict is scored as of the last
event date of its source (of its country, for conflicts entered by hand): the state of the
registry when the source was last brought up to date. That date is recorded on every row
(`as_of`). A conflict whose last event is long before it scores zero: it is not escalating now.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from segura.conflicts import registry as reg
from segura.conflicts.escalation import (
    EscalationScore,
    ScoreConfig,
    conflict_indicators,
    score_view,
)
from segura.conflicts.places import has_places, has_table

TABLES = ("conflicts", "parts", "events", "actors", "agreements", "phases")
PARTS = ("rising", "confrontation", "state_force", "unmet_commitments")


@dataclass
class PublicRegistry:
    """The registry as published: one DataFrame per table of `TABLES`, and `about` (JSON)."""

    conflicts: pd.DataFrame
    parts: pd.DataFrame
    events: pd.DataFrame
    actors: pd.DataFrame
    agreements: pd.DataFrame
    phases: pd.DataFrame
    about: dict[str, Any]

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}


def has_registry(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds a conflict registry with at least one conflict."""
    if not has_table(con, "conflict"):
        return False
    count = con.execute("SELECT count(*) FROM conflict").fetchone()
    return bool(count and count[0])


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _by_conflict(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[int(r["conflict_id"])].append(r)
    return out


def _as_of_dates(conflicts: list[dict[str, Any]], events: dict[int, list[dict[str, Any]]],
                 today: dt.date) -> dict[int, dt.date]:
    """Each conflict's scoring date: the last event date of its source, else of its country."""
    by_source: dict[Any, dt.date] = {}
    by_country: dict[Any, dt.date] = {}
    for c in conflicts:
        for e in events.get(int(c["conflict_id"]), []):
            for table, key in ((by_source, c["source_id"]), (by_country, c["country"])):
                if key is not None and (key not in table or e["occurred_on"] > table[key]):
                    table[key] = e["occurred_on"]
    latest = max([*by_country.values(), *by_source.values()], default=today)
    return {int(c["conflict_id"]): by_source.get(c["source_id"]) or by_country.get(c["country"]) or latest
            for c in conflicts}


def _part_rows(s: EscalationScore) -> list[dict[str, Any]]:
    return [{"conflict_id": s.conflict_id, "on": s.on, "part": p.name, "value": p.value,
             "weight": round(p.weight, 4), "contribution": round(p.value * p.weight, 4),
             "explanation": p.explanation, "facts": json.dumps(p.facts, sort_keys=True)} for p in s.parts]


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for col in columns:
        if col in ("deaths", "intensity", "source_id", "commitment_id", "overdue_days"):
            frame[col] = frame[col].astype("Int64")
    return frame


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame -> JSON-ready records (dates as ISO 8601, missing as null)."""
    out = []
    for rec in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
        out.append({k: v.date().isoformat() if isinstance(v, pd.Timestamp)
                    else v.isoformat() if isinstance(v, dt.date) else v for k, v in rec.items()})
    return out


EVENT_COLUMNS = ["event_id", "conflict_id", "occurred_on", "date_precision", "event_type", "type_detail",
                 "state_response", "forceful", "outcome", "description", "admin1", "admin2", "territory_code", "deaths",
                 "source_id", "source_record"]
CONFLICT_COLUMNS = ["conflict_id", "title", "country", "demand_type", "demand_label", "admin1", "admin2",
                    "territory_code", "phase",
                    "intensity", "started_on", "last_event_on", "events", "deaths", "forceful_events", "agreements",
                    "source_id", "as_of", "score", "level", *PARTS]
AGREEMENT_COLUMNS = ["agreement_id", "conflict_id", "signed_on", "description", "commitment_id", "commitment",
                     "responsible", "deadline", "fulfilled", "fulfilled_on", "overdue_days"]


_CONFLICTS_PLACED = ("SELECT c.*, d.label AS demand_label, p.territory_code FROM conflict c "
                     "LEFT JOIN demand_type d ON d.code = c.demand_type "
                     "LEFT JOIN conflict_place p USING (conflict_id) ORDER BY c.conflict_id")
_CONFLICTS_UNPLACED = ("SELECT c.*, d.label AS demand_label, CAST(NULL AS VARCHAR) AS territory_code FROM conflict c "
                       "LEFT JOIN demand_type d ON d.code = c.demand_type ORDER BY c.conflict_id")
_EVENTS_PLACED = ("SELECT e.* EXCLUDE (source_rows), p.territory_code FROM conflict_event e "
                  "LEFT JOIN event_place p USING (event_id) ORDER BY e.conflict_id, e.occurred_on, e.event_id")
_EVENTS_UNPLACED = ("SELECT e.* EXCLUDE (source_rows), CAST(NULL AS VARCHAR) AS territory_code FROM conflict_event e "
                    "ORDER BY e.conflict_id, e.occurred_on, e.event_id")


def public_registry(con: duckdb.DuckDBPyConnection, on: dt.date,
                    config: ScoreConfig | None = None) -> PublicRegistry | None:
    """The registry's public tables, or None when the warehouse has no conflict. `on` (the
    publication date) dates the overdue commitments; scores are dated per conflict (see above)."""
    if not has_registry(con):
        return None
    config = config or ScoreConfig()
    # The release reads the warehouse read-only: a registry imported before conflicts were placed
    # has no place tables, and its conflicts are published without a territory code.
    placed = has_places(con)
    conflicts = _rows(con, _CONFLICTS_PLACED if placed else _CONFLICTS_UNPLACED)
    events = _by_conflict(_rows(con, _EVENTS_PLACED if placed else _EVENTS_UNPLACED))
    agreements = _by_conflict(_rows(con, """
        SELECT a.conflict_id, a.agreement_id, a.signed_on, a.description, c.commitment_id,
               c.description AS commitment, c.responsible, c.deadline, c.fulfilled, c.fulfilled_on
        FROM agreement a LEFT JOIN commitment c USING (agreement_id)
        ORDER BY a.conflict_id, a.signed_on, a.agreement_id, c.commitment_id"""))
    actors = _rows(con, "SELECT ca.conflict_id, ca.role, a.actor_id, a.name, a.actor_type "
                        "FROM conflict_actor ca JOIN actor a USING (actor_id) "
                        "ORDER BY ca.conflict_id, ca.role, a.actor_id")
    phases = _rows(con, "SELECT conflict_id, changed_on, phase_from, phase_to, reason FROM conflict_phase "
                        "ORDER BY conflict_id, changed_on, rowid")
    as_of = _as_of_dates(conflicts, events, on)

    rows, parts = [], []
    for c in conflicts:
        cid = int(c["conflict_id"])
        view = reg.ConflictView(conflict=c, events=events.get(cid, []), agreements=agreements.get(cid, []))
        now = score_view(view, as_of[cid], config)
        parts += _part_rows(now)
        deaths = [e["deaths"] for e in view.events if e["deaths"] is not None]
        rows.append({
            **{k: c[k] for k in ("conflict_id", "title", "country", "demand_type", "demand_label", "admin1", "admin2",
                                 "territory_code", "phase", "intensity", "started_on", "source_id")},
            "last_event_on": max((e["occurred_on"] for e in view.events), default=None),
            "events": len(view.events), "deaths": sum(deaths) if deaths else None,
            "forceful_events": sum(e["state_response"] in reg.FORCEFUL_RESPONSES for e in view.events),
            "agreements": len({a["agreement_id"] for a in view.agreements}),
            "as_of": as_of[cid], "score": now.score, "level": now.level,
            **{p.name: p.value for p in now.parts},
        })
    event_rows = [{**e, "forceful": e["state_response"] in reg.FORCEFUL_RESPONSES}
                  for cid in sorted(events) for e in events[cid]]
    agreement_rows = [{**a, "overdue_days": _overdue_days(a, on)} for cid in sorted(agreements)
                      for a in agreements[cid]]
    tables = {
        "conflicts": _frame(rows, CONFLICT_COLUMNS),
        "parts": _frame(parts, ["conflict_id", "on", "part", "value", "weight", "contribution",
                                "explanation", "facts"]),
        "events": _frame(event_rows, EVENT_COLUMNS),
        "actors": _frame(actors, ["conflict_id", "role", "actor_id", "name", "actor_type"]),
        "agreements": _frame(agreement_rows, AGREEMENT_COLUMNS),
        "phases": _frame(phases, ["conflict_id", "changed_on", "phase_from", "phase_to", "reason"]),
    }
    about = _about(con, on, config, tables, as_of, conflicts)
    return PublicRegistry(**tables, about=about)


def _overdue_days(a: dict[str, Any], on: dt.date) -> int | None:
    """Days past the deadline on `on` of a commitment not fulfilled by then (as `overdue_agreements`)."""
    if a["commitment_id"] is None or a["deadline"] is None or a["deadline"] >= on:
        return None
    if a["fulfilled"] and a["fulfilled_on"] is not None and a["fulfilled_on"] <= on:
        return None
    return (on - a["deadline"]).days


def _about(con: duckdb.DuckDBPyConnection, on: dt.date, config: ScoreConfig, tables: dict[str, pd.DataFrame],
           as_of: dict[int, dt.date], conflicts: list[dict[str, Any]]) -> dict[str, Any]:
    frame = tables["conflicts"]
    sources = _rows(con, "SELECT source_id, name, file, sha256, citation, imported_at, rows_read, rows_imported, "
                         "rows_rejected FROM conflict_source ORDER BY source_id")
    for s in sources:
        mine = frame[frame["source_id"] == s["source_id"]]
        s["countries"] = sorted(str(c) for c in mine["country"].dropna().unique())
        s["conflicts"], s["events"] = len(mine), int(mine["events"].sum())
        s["as_of"] = max((as_of[int(c)] for c in mine["conflict_id"]), default=None)
    indicators = conflict_indicators(con, on)
    total = sum(config.weights.values())
    return {
        "published_on": on,
        "sources": sources,
        "counts": {"conflicts": len(frame), "events": len(tables["events"]),
                   "deaths": int(frame["deaths"].fillna(0).sum()), "actors": int(tables["actors"]["actor_id"].nunique()),
                   "agreements": int(tables["agreements"]["agreement_id"].nunique()),
                   "commitments": int(tables["agreements"]["commitment_id"].notna().sum())},
        "demand_types": {str(c["demand_type"]): str(c["demand_label"] or c["demand_type"])
                         for c in conflicts if c["demand_type"] is not None},
        "score": {"weights": {k: round(v / total, 4) for k, v in config.weights.items()},
                  "recent_days": config.recent_days, "baseline_days": config.baseline_days,
                  "medium": config.medium, "high": config.high,
                  "as_of": "the last event date of the conflict's source (of its country for conflicts "
                           "entered by hand): historical data scored as of today would all score zero"},
        "indicators": {
            "on": on,
            **{k: _records(indicators[k]) for k in ("by_demand", "by_actor_type", "by_territory", "by_month")},
            "escalation_rate": indicators["escalation_rate"],
            "resolved_by_agreement": indicators["resolved_by_agreement"],
            "overdue_agreements": _records(indicators["overdue_agreements"]),
        },
    }
