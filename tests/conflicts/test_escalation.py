"""The escalation score and conflict indicators on planted timelines."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from segura.conflicts import (
    ScoreConfig,
    add_agreement,
    add_event,
    change_phase,
    conflict_indicators,
    create_conflict,
    ensure_schema,
    escalation_score,
)
from segura.conflicts.registry import Commitment

ON = dt.date(2024, 6, 30)


def day(n: int) -> dt.date:
    """n days before ON."""
    return ON - dt.timedelta(days=n)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    ensure_schema(c)
    return c


def parts(con: duckdb.DuckDBPyConnection, cid: int) -> dict[str, float]:
    return {p.name: p.value for p in escalation_score(con, cid, ON).parts}


def test_an_escalating_conflict_scores_higher_than_a_calm_one(con) -> None:
    calm = create_conflict(con, "Calm", demand_type="labour", started_on=day(90))
    for n in (80, 60, 40, 20):  # a steady meeting every 20 days, promise kept
        add_event(con, calm, day(n), "meeting", state_response="dialogue")
    add_agreement(con, calm, day(40), [Commitment("pay arrears", deadline=day(10),
                                                 fulfilled=True, fulfilled_on=day(12))])
    hot = create_conflict(con, "Hot", demand_type="labour", started_on=day(90))
    add_event(con, hot, day(80), "declaration")
    add_event(con, hot, day(50), "march")
    add_agreement(con, hot, day(45), [Commitment("reopen the road", deadline=day(15))])
    for n in (25, 20, 12, 8, 5, 2):
        add_event(con, hot, day(n), "blockade" if n < 20 else "march",
                  state_response="use_of_force" if n == 2 else "police_presence")
    calm_score, hot_score = escalation_score(con, calm, ON), escalation_score(con, hot, ON)
    assert hot_score.score > calm_score.score
    assert (calm_score.level, hot_score.level) == ("low", "high")
    assert parts(con, calm) == {"rising": 0.0, "confrontation": 0.0, "state_force": 0.0,
                                "unmet_commitments": 0.0}
    hot_parts = parts(con, hot)
    assert all(v > 0 for v in hot_parts.values()), hot_parts
    assert hot_parts["unmet_commitments"] == 1.0
    assert "1 of 1 commitments due" in hot_score.explain()
    assert sum(p.weight for p in hot_score.parts) == pytest.approx(1.0)
    assert hot_score.score == pytest.approx(sum(p.value * p.weight for p in hot_score.parts),
                                            abs=1e-3)


def test_each_part_moves_as_designed(con) -> None:
    cid = create_conflict(con, "Mine", demand_type="mining", started_on=day(90))
    for n in (70, 50):
        add_event(con, cid, day(n), "march")
    base = parts(con, cid)
    assert base["rising"] == 0.0  # nothing recent
    add_event(con, cid, day(10), "march")
    add_event(con, cid, day(5), "march")
    step = parts(con, cid)
    assert step["rising"] == pytest.approx((2 - 1) / (2 + 1), abs=1e-3)
    assert step["confrontation"] == 0.0 and step["state_force"] == 0.0
    add_event(con, cid, day(3), "blockade")
    add_event(con, cid, day(2), "clash", state_response="arrests")
    step2 = parts(con, cid)
    assert step2["rising"] > step["rising"]
    assert step2["confrontation"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)  # level 50%, shift +50%
    assert step2["state_force"] == pytest.approx(1 / 4)
    assert step2["unmet_commitments"] == 0.0
    add_agreement(con, cid, day(60), [Commitment("a", deadline=day(30)),
                                      Commitment("b", deadline=day(20), fulfilled=True,
                                                 fulfilled_on=day(25)),
                                      Commitment("c", deadline=ON + dt.timedelta(days=5))])
    assert parts(con, cid)["unmet_commitments"] == pytest.approx(1 / 2)  # c is not yet due


def test_weights_and_thresholds_are_configurable(con) -> None:
    cid = create_conflict(con, "Road", started_on=day(40))
    add_event(con, cid, day(3), "blockade")
    only_force = ScoreConfig(weights={"rising": 0, "confrontation": 0, "state_force": 1,
                                      "unmet_commitments": 0})
    assert escalation_score(con, cid, ON, only_force).score == 0.0
    rising_only = ScoreConfig(weights={"rising": 1, "confrontation": 0, "state_force": 0,
                                       "unmet_commitments": 0}, high=0.9)
    result = escalation_score(con, cid, ON, rising_only)
    assert (result.score, result.level) == (1.0, "high")


def test_indicators_count_conflicts_rates_and_overdue_agreements(con) -> None:
    a = create_conflict(con, "A", demand_type="labour", admin1="San José", started_on=day(100),
                        claimants=[("Union", "workers")])
    b = create_conflict(con, "B", demand_type="labour", admin1="Limón", started_on=day(50),
                        claimants=[("Dockers", "workers")])
    c = create_conflict(con, "C", demand_type="environment", admin1="Limón", started_on=day(50),
                        claimants=[("Neighbours", "neighbours")])
    change_phase(con, a, "escalation", day(90))
    change_phase(con, a, "de-escalation", day(80))
    add_agreement(con, a, day(80), [Commitment("raise", deadline=day(20))])
    change_phase(con, a, "resolved", day(79))
    change_phase(con, b, "resolved", day(10))
    ind = conflict_indicators(con, ON)
    assert dict(ind["by_demand"].itertuples(index=False)) == {"labour": 2, "environment": 1}
    assert dict(ind["by_actor_type"].itertuples(index=False)) == {"workers": 2, "neighbours": 1}
    assert ind["by_territory"]["conflicts"].sum() == 3
    assert ind["by_month"]["conflicts"].sum() == 3
    assert ind["escalation_rate"] == {"reached": 1, "conflicts": 3, "share": pytest.approx(1 / 3)}
    assert ind["resolved_by_agreement"] == {"with_agreement": 1, "resolved": 2, "share": 0.5}
    overdue = ind["overdue_agreements"]
    assert list(overdue["conflict_id"]) == [a] and list(overdue["days_overdue"]) == [20]
    assert c not in set(overdue["conflict_id"])
