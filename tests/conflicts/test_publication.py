"""What the registry publishes: every table, scores dated by source or country, overdue commitments,
and none of the source's row numbers."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from segura.conflicts import registry as reg
from segura.conflicts.escalation import escalation_score
from segura.conflicts.publication import PARTS, TABLES, has_registry, public_registry

TODAY = dt.date(2026, 1, 15)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    reg.ensure_schema(c)
    return c


def test_an_empty_registry_publishes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    assert not has_registry(duckdb.connect())  # no tables at all
    assert not has_registry(con) and public_registry(con, TODAY) is None


def test_scores_are_dated_by_country_and_commitments_by_publication(con: duckdb.DuckDBPyConnection) -> None:
    cr = reg.create_conflict(con, "Water", demand_type="public_services", country="CR", started_on=dt.date(2024, 1, 5),
                             claimants=[("Neighbours' committee", "neighbours")], counterparts=[("AyA", "utility")])
    old = reg.create_conflict(con, "Old strike", demand_type="labour", country="CR", started_on=dt.date(2020, 5, 1))
    ni = reg.create_conflict(con, "Land", demand_type="rural_land", country="NI", started_on=dt.date(2019, 3, 1))
    for cid, day, kind, response in ((cr, dt.date(2024, 1, 5), "march", "none"),
                                     (cr, dt.date(2024, 3, 10), "blockade", "arrests"),
                                     (old, dt.date(2020, 5, 1), "strike", "none"),
                                     (ni, dt.date(2019, 3, 1), "occupation", "eviction")):
        reg.add_event(con, cid, day, kind, state_response=response, source_rows="12,13")
    reg.add_agreement(con, cr, dt.date(2024, 2, 1), [
        reg.Commitment("Trucks", deadline=dt.date(2024, 2, 10)),
        reg.Commitment("Repair", deadline=dt.date(2024, 2, 20), fulfilled=True, fulfilled_on=dt.date(2024, 2, 19)),
        reg.Commitment("Study", deadline=dt.date(2026, 6, 1))])

    pub = public_registry(con, TODAY)
    assert pub is not None and set(pub.tables()) == set(TABLES)
    c = pub.conflicts.set_index("conflict_id")
    # each conflict scored on its country's last event date, not on the publication date
    assert c.loc[cr, "as_of"] == c.loc[old, "as_of"] == dt.date(2024, 3, 10)
    assert c.loc[ni, "as_of"] == dt.date(2019, 3, 1)
    for cid in (cr, old, ni):
        expected = escalation_score(con, cid, c.loc[cid, "as_of"])
        assert c.loc[cid, "score"] == expected.score and c.loc[cid, "level"] == expected.level
        assert [c.loc[cid, p] for p in PARTS] == [p.value for p in expected.parts]
    assert c.loc[old, "score"] == 0 and c.loc[cr, "score"] > 0.5
    parts = pub.parts.groupby("conflict_id")["contribution"].sum()
    assert (parts - c["score"]).abs().max() < 1e-3
    assert c.loc[cr, "forceful_events"] == 1 and c.loc[cr, "agreements"] == 1
    # commitments: overdue on the publication date, unless fulfilled in time or not yet due
    overdue = dict(zip(pub.agreements["commitment"], pub.agreements["overdue_days"], strict=True))
    assert overdue["Trucks"] == (TODAY - dt.date(2024, 2, 10)).days
    assert pd.isna(overdue["Repair"]) and pd.isna(overdue["Study"])
    assert [o["commitment"] for o in pub.about["indicators"]["overdue_agreements"]] == ["Trucks"]
    assert set(pub.actors["role"]) == {"claimant", "counterpart"}
    assert "source_rows" not in pub.events.columns
    assert pub.about["counts"] == {"conflicts": 3, "events": 4, "deaths": 0, "actors": 2, "agreements": 1,
                                   "commitments": 3}
