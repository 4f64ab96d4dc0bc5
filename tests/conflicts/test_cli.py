"""The registry's commands on a workspace: import with a mapping, list by escalation, show a timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segura.cli import app
from segura.workspace import Workspace

runner = CliRunner()
PROTESTS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "protests"


def _imported(tmp_path: Path, file: str, mapping: str, country: str) -> tuple[Workspace, dict]:
    """A new workspace with one shared protest file imported; the import's JSON report."""
    if not PROTESTS.is_dir():
        pytest.fail(f"the conflict tests need the shared data: {PROTESTS} does not exist", pytrace=False)
    ws = Workspace.init(tmp_path / "obs", name="Observatorio", country=country)
    out = runner.invoke(app, ["conflicts", "import", str(PROTESTS / file), "-m", mapping, "--json", "-w", str(ws.root)])
    assert out.exit_code == 0, out.output
    return ws, json.loads(out.output)


def test_import_list_show(tmp_path: Path) -> None:
    ws, report = _imported(tmp_path, "iisucr_protestas_nicaragua.csv", "iisucr_ni", "NI")
    assert report["rows_read"] == 449 == report["rows_imported"] + report["rows_rejected"]
    assert len(report["rejections"]) == report["rows_rejected"]
    listed = runner.invoke(app, ["conflicts", "list", "--on", "2017-08-31", "--json", "-w", str(ws.root)])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)["data"]
    assert len(rows) == report["conflicts"]
    scored = [r for r in rows if r.get("score") is not None]
    assert scored and all(0 <= r["score"] <= 1 for r in scored)
    assert [r["score"] for r in scored] == sorted((r["score"] for r in scored), reverse=True)
    top = scored[0]["conflict_id"]
    shown = runner.invoke(app, ["conflicts", "show", str(top), "--on", "2017-08-31", "--json", "-w", str(ws.root)])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.output)
    assert doc["events"] and doc["escalation"].startswith(f"conflict {top} on 2017-08-31")


def test_indicators(tmp_path: Path) -> None:
    ws, report = _imported(tmp_path, "iisucr_protestas_costa_rica.csv", "iisucr_cr", "CR")
    conflicts = report["conflicts"]
    shown = runner.invoke(app, ["conflicts", "indicators", "--on", "2018-12-31", "--json", "-w", str(ws.root)])
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.output)
    assert sum(r["conflicts"] for r in doc["by_demand"]) == conflicts
    assert sum(r["conflicts"] for r in doc["by_month"]) == conflicts
    assert sum(r["conflicts"] for r in doc["by_territory"]) == conflicts
    esc = doc["escalation_rate"]
    assert esc["conflicts"] == conflicts and 0 < esc["reached"] < conflicts
    assert esc["share"] == esc["reached"] / esc["conflicts"]
    text = runner.invoke(app, ["conflicts", "indicators", "--on", "2018-12-31", "-w", str(ws.root)])
    assert text.exit_code == 0 and "escalation rate" in text.output
