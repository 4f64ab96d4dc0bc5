"""`segura alerts` on the sample observatory: excesses of the last months, by territory and method."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from segura.cli import app
from segura.warning.aberration import METHODS
from segura.workspace import Workspace

runner = CliRunner()


def test_alerts_are_recent_excesses(demo: Workspace) -> None:
    out = runner.invoke(app, ["alerts", "homicide_victims", "--last", "6", "--json", "-w", str(demo.root)])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    rows = doc["data"]
    assert rows, "the sample's two years give EARS something to flag"
    recent = {"2015-08", "2015-09", "2015-10", "2015-11", "2015-12", "2016-01"}
    for r in rows:
        assert r["period"] in recent and r["method"] in METHODS
        assert r["observed"] > r["expected"] and r["alarm"]
        assert r["score"] is None or r["score"] > 1
    with demo.warehouse(read_only=True) as wh:
        codes = {c for (c,) in wh.con.execute("SELECT code FROM territory WHERE level = 'admin2'").fetchall()}
    assert {r["territory"] for r in rows} <= codes
    bad = runner.invoke(app, ["alerts", "--method", "cusum", "-w", str(demo.root)])
    assert bad.exit_code != 0
