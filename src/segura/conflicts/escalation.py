"""Conflict indicators and a transparent escalation score.

Indicators: conflicts by demand, actor type, territory and month of start; escalation rate
(share of conflicts that ever reached escalation or crisis, from the phase history); share of
resolved conflicts that have an agreement; agreements with commitments past their deadline.

Escalation score of one conflict on a date ``on`` (windows end on ``on``, inclusive):

- rising: events in the last 30 days (n) against the average per 30 days in the 60 before (b):
  ``max(0, (n - b) / (n + b))``; 0 when nothing happens or activity falls, near 1 when it starts.
- confrontation: share of blockades, occupations and clashes in the last 30 days (r) against the
  share before (p): ``0.5 * r + 0.5 * max(0, r - p)``, half the level and half the shift.
- state_force: share of the last 30 days' events met with force, arrests or eviction.
- unmet_commitments: share of commitments due by ``on`` that were not fulfilled by their deadline.

The score is the weighted sum (default weights 0.3, 0.3, 0.2, 0.2; they are normalised to sum 1)
and the warning level is "high" at 0.5 or more, "medium" at 0.25 or more, else "low".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from segura.conflicts import registry as reg


@dataclass(frozen=True)
class ScoreConfig:
    weights: dict[str, float] = field(default_factory=lambda: {
        "rising": 0.3, "confrontation": 0.3, "state_force": 0.2, "unmet_commitments": 0.2})
    recent_days: int = 30
    baseline_days: int = 60
    medium: float = 0.25
    high: float = 0.5


@dataclass(frozen=True)
class ScorePart:
    name: str
    value: float
    weight: float
    explanation: str
    # the counts and shares behind `value` (for texts in other languages than the explanation's)
    facts: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class EscalationScore:
    conflict_id: int
    on: dt.date
    score: float
    level: str
    parts: tuple[ScorePart, ...]

    def explain(self) -> str:
        lines = [f"conflict {self.conflict_id} on {self.on}: score {self.score:.2f} ({self.level})"]
        lines += [f"  {p.name} = {p.value:.2f} x {p.weight:.2f}: {p.explanation}" for p in self.parts]
        return "\n".join(lines)


def _level(score: float, config: ScoreConfig) -> str:
    return "high" if score >= config.high else "medium" if score >= config.medium else "low"


def escalation_score(
    con: duckdb.DuckDBPyConnection, conflict_id: int, on: dt.date,
    config: ScoreConfig | None = None,
) -> EscalationScore:
    """The score of one conflict on a date, with each part's value and explanation."""
    return score_view(reg.show_conflict(con, conflict_id), on, config)


def score_view(view: reg.ConflictView, on: dt.date, config: ScoreConfig | None = None) -> EscalationScore:
    """The score of a conflict already read (`show_conflict`) on a date: no query, so a caller
    that reads many conflicts at once can score each on many dates."""
    config = config or ScoreConfig()
    conflict_id = int(view.conflict["conflict_id"])
    recent_from = on - dt.timedelta(days=config.recent_days)
    base_from = recent_from - dt.timedelta(days=config.baseline_days)
    recent = [e for e in view.events if recent_from < e["occurred_on"] <= on]
    before = [e for e in view.events if base_from < e["occurred_on"] <= recent_from]

    n = len(recent)
    b = len(before) * config.recent_days / config.baseline_days
    rising = max(0.0, (n - b) / (n + b)) if n + b > 0 else 0.0
    rising_text = (f"{n} events in the last {config.recent_days} days against {b:.1f} per "
                   f"{config.recent_days} days in the {config.baseline_days} before")

    def conf_share(events: list[dict[str, Any]]) -> float:
        if not events:
            return 0.0
        return sum(e["event_type"] in reg.CONFRONTATIONAL for e in events) / len(events)

    r, p = conf_share(recent), conf_share(before)
    confrontation = 0.5 * r + 0.5 * max(0.0, r - p)
    conf_text = (f"blockades, occupations or clashes are {r:.0%} of recent events and were "
                 f"{p:.0%} before")

    forced = sum(e["state_response"] in reg.FORCEFUL_RESPONSES for e in recent)
    force = forced / n if n else 0.0
    force_text = f"{forced} of {n} recent events met force, arrests or eviction"

    due = [a for a in view.agreements
           if a["commitment_id"] is not None and a["deadline"] is not None and a["deadline"] <= on]
    unmet = [a for a in due if not a["fulfilled"] or a["fulfilled_on"] is None
             or a["fulfilled_on"] > a["deadline"]]
    unmet_share = len(unmet) / len(due) if due else 0.0
    unmet_text = f"{len(unmet)} of {len(due)} commitments due by {on} were not met by their deadline"

    total = sum(config.weights.values())
    values = {"rising": (rising, rising_text), "confrontation": (confrontation, conf_text),
              "state_force": (force, force_text), "unmet_commitments": (unmet_share, unmet_text)}
    facts: dict[str, dict[str, float]] = {
        "rising": {"recent": n, "baseline": round(b, 4), "recent_days": config.recent_days,
                   "baseline_days": config.baseline_days},
        "confrontation": {"recent_share": round(r, 4), "before_share": round(p, 4)},
        "state_force": {"forced": forced, "recent": n},
        "unmet_commitments": {"unmet": len(unmet), "due": len(due)},
    }
    parts = tuple(ScorePart(name, round(v, 4), config.weights[name] / total, text, facts[name])
                  for name, (v, text) in values.items())
    score = round(sum(p.value * p.weight for p in parts), 4)
    return EscalationScore(conflict_id, on, score, _level(score, config), parts)


def escalation_scores(
    con: duckdb.DuckDBPyConnection, on: dt.date, config: ScoreConfig | None = None
) -> pd.DataFrame:
    """Every unresolved conflict's score on a date, one column per part, highest first."""
    rows = []
    for c in reg.list_conflicts(con):
        if c["phase"] == "resolved":
            continue
        s = escalation_score(con, int(c["conflict_id"]), on, config)
        rows.append({"conflict_id": s.conflict_id, "title": c["title"], "score": s.score,
                     "level": s.level, **{p.name: p.value for p in s.parts}})
    return pd.DataFrame(rows).sort_values("score", ascending=False) if rows else pd.DataFrame()


_BY = {
    "demand": "SELECT demand_type AS demand, count(*) AS conflicts FROM conflict "
              "GROUP BY 1 ORDER BY 2 DESC, 1",
    "actor_type": "SELECT a.actor_type, count(DISTINCT ca.conflict_id) AS conflicts "
                  "FROM conflict_actor ca JOIN actor a USING (actor_id) "
                  "WHERE ca.role = 'claimant' GROUP BY 1 ORDER BY 2 DESC, 1",
    "territory": "SELECT admin1, admin2, count(*) AS conflicts FROM conflict "
                 "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
    "month": "SELECT strftime(started_on, '%Y-%m') AS month, count(*) AS conflicts "
             "FROM conflict GROUP BY 1 ORDER BY 1",
}


def conflicts_by(con: duckdb.DuckDBPyConnection, dimension: str) -> pd.DataFrame:
    """Number of conflicts by demand, actor_type (claimants), territory or month of start."""
    if dimension not in _BY:
        raise reg.ConflictError(f"dimension {dimension!r}: expected one of {', '.join(_BY)}")
    return con.execute(_BY[dimension]).df()


def escalation_rate(con: duckdb.DuckDBPyConnection) -> tuple[int, int, float]:
    """(conflicts that ever reached escalation or crisis, all conflicts, share)."""
    row = con.execute(
        "SELECT count(DISTINCT conflict_id) FILTER (WHERE phase_to IN ('escalation', 'crisis')), "
        "count(DISTINCT conflict_id) FROM conflict_phase").fetchone()
    assert row is not None
    reached, total = int(row[0]), int(row[1])
    return reached, total, reached / total if total else 0.0


def resolved_by_agreement(con: duckdb.DuckDBPyConnection) -> tuple[int, int, float]:
    """(resolved conflicts with an agreement, resolved conflicts, share)."""
    row = con.execute(
        "SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM agreement a "
        "WHERE a.conflict_id = c.conflict_id)), count(*) FROM conflict c "
        "WHERE c.phase = 'resolved'").fetchone()
    assert row is not None
    with_agreement, resolved = int(row[0]), int(row[1])
    return with_agreement, resolved, with_agreement / resolved if resolved else 0.0


def overdue_agreements(con: duckdb.DuckDBPyConnection, on: dt.date) -> pd.DataFrame:
    """Commitments whose deadline passed by ``on`` without fulfilment, with their conflict."""
    return con.execute(
        "SELECT c.conflict_id, c.title, a.agreement_id, a.signed_on, m.commitment_id, "
        "m.description AS commitment, m.deadline, date_diff('day', m.deadline, ?) AS days_overdue "
        "FROM commitment m JOIN agreement a USING (agreement_id) JOIN conflict c USING (conflict_id) "
        "WHERE m.deadline < ? AND (NOT m.fulfilled OR m.fulfilled_on IS NULL OR m.fulfilled_on > ?) "
        "ORDER BY days_overdue DESC, m.commitment_id", [on, on, on]).df()


def conflict_indicators(con: duckdb.DuckDBPyConnection, on: dt.date) -> dict[str, Any]:
    """All indicators on a date: tables by dimension, rates with their numerators and denominators."""
    reached, total, rate = escalation_rate(con)
    agreed, resolved, share = resolved_by_agreement(con)
    return {
        "by_demand": conflicts_by(con, "demand"),
        "by_actor_type": conflicts_by(con, "actor_type"),
        "by_territory": conflicts_by(con, "territory"),
        "by_month": conflicts_by(con, "month"),
        "escalation_rate": {"reached": reached, "conflicts": total, "share": rate},
        "resolved_by_agreement": {"with_agreement": agreed, "resolved": resolved, "share": share},
        "overdue_agreements": overdue_agreements(con, on),
    }
