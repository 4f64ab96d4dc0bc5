"""Conflicts placed in the workspace's territories: Bolivian conflict deaths in the INE's
departments and municipalities (Censo 2012 codes, ../shared/data/bo)."""

from __future__ import annotations

import csv
import json
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segura.cli import app
from segura.conflicts.places import place_conflicts
from segura.ingest.territory import import_territories
from segura.sample import packaged_path
from segura.workspace import Workspace

runner = CliRunner()
BO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bo"
# the INE's department codes (the first two digits of a municipality's code)
DEPARTMENTS = {"01": "Chuquisaca", "02": "La Paz", "03": "Cochabamba", "04": "Oruro", "05": "Potosí",
               "06": "Tarija", "07": "Santa Cruz", "08": "Beni", "09": "Pando"}


def plain(name: str) -> str:
    """Letters and digits only, lower case, without accents (written here, not segura's folding)."""
    return "".join(c for c in unicodedata.normalize("NFKD", name).casefold() if c.isalnum())


@pytest.fixture
def bolivia(tmp_path: Path) -> Workspace:
    source = BO / "bo_indicadores_municipios_cpv2012.csv"
    if not source.is_file():
        pytest.fail(f"the conflict tests need the shared data: {source} does not exist", pytrace=False)
    ws = Workspace.init(tmp_path / "obs", name="Observatorio", country="BO")
    out = tmp_path / "territories.csv"
    with source.open(encoding="utf-8") as f, out.open("w", encoding="utf-8", newline="") as g:
        w = csv.writer(g)
        w.writerow(["code", "name", "level", "parent_code"])
        for code, name in DEPARTMENTS.items():
            w.writerow([code, name, "admin1", "BO"])
        for row in csv.DictReader(f):
            w.writerow([row["cod.mun"], row["departamento_y_municipio"], "admin2", row["cod.mun"][:2]])
    with ws.warehouse() as wh:
        report = import_territories(wh, out, ws.settings)
        assert not report.errors, report.issues
    return ws


def test_bolivian_conflicts_get_ine_codes(bolivia: Workspace) -> None:
    out = runner.invoke(app, ["conflicts", "import", str(packaged_path("bo_conflict_deaths.csv")), "-m", "ucbo_deaths",
                              "--json", "-w", str(bolivia.root)])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    places = doc["places"]
    assert places["events"] == doc["events"]
    placed = sum(places["placed"].values())
    assert placed / places["events"] > 0.8, places
    with bolivia.warehouse(read_only=True) as wh:
        rows = wh.con.execute(
            "SELECT coalesce(e.admin1, c.admin1), coalesce(e.admin2, c.admin2), p.territory_code, p.level "
            "FROM event_place p JOIN conflict_event e USING (event_id) JOIN conflict c USING (conflict_id)").fetchall()
        names = dict(wh.con.execute("SELECT code, name FROM territory").fetchall())
    assert len(rows) == placed
    for admin1, admin2, code, level in rows:
        assert DEPARTMENTS[code[:2]] == admin1  # placed inside the department the source names
        if level == "admin2":
            assert len(code) == 6 and plain(names[code]) == plain(admin2)
    assert ("Chuquisaca", "Sucre", "010101", "admin2") in rows
    # anything left unplaced, or placed in its department only, is reported with its name
    assert sum(n for _, n, _ in places["unmatched"]) == places["events"] - placed
    assert sum(n for _, n, _ in places["coarser"]) == sum(1 for r in rows if r[3] == "admin1" and r[1])
    listed = runner.invoke(app, ["conflicts", "list", "--territory", "02", "--json", "-w", str(bolivia.root)])
    assert listed.exit_code == 0, listed.output
    la_paz = json.loads(listed.output)["data"]
    assert la_paz and all(r["territory_code"] == "02" or r["territory_code"].startswith("02") for r in la_paz)
    again = runner.invoke(app, ["conflicts", "place", "--json", "-w", str(bolivia.root)])
    assert again.exit_code == 0 and json.loads(again.output)["placed"] == places["placed"]  # idempotent
    with bolivia.warehouse(read_only=True) as wh:
        assert wh.con.execute("SELECT count(*) FROM event_place").fetchone() == (placed,)


def test_only_the_workspace_country_is_placed(ws: Workspace) -> None:
    """A Costa Rican workspace (the test template) does not place Bolivian conflicts by name."""
    from segura.conflicts import ensure_schema, import_events, load_mapping

    with ws.warehouse() as wh:
        ensure_schema(wh.con)
        import_events(wh.con, packaged_path("bo_conflict_deaths.csv"), load_mapping("ucbo_deaths"))
        report = place_conflicts(wh.con, ws.settings.country)
        assert report.events == 0 and report.placed == {}
        assert wh.con.execute("SELECT count(*) FROM event_place").fetchone() == (0,)
    assert report.elsewhere == {"BO": 168}
    assert "no conflict of CR to place" in report.summary() and "168 in BO" in report.summary()
