"""The `segura` command, driven in-process as a user would type it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from segura.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "obs"
    result = runner.invoke(app, ["demo", str(root), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Every load adds up" in result.output
    return root


def test_demo_loads_three_institutions_and_every_load_adds_up(demo: Path) -> None:
    result = runner.invoke(app, ["status", "--json", "--workspace", str(demo)])
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    loads = {ld["source_id"]: ld for ld in status["loads"]}
    assert set(loads) == {"police", "forensic", "prosecutors"}
    for ld in loads.values():
        assert ld["status"] == "loaded" and ld["current"]
        assert ld["rows_read"] == ld["rows_loaded"] + ld["rows_quarantined"]
        assert len(ld["sha256"]) == 64 and ld["finished_at"]
        assert ld["rows_quarantined"] > 0, "the sample has deliberately broken rows"
    # the sample's truth: every record of every extract is listed once
    truth = (demo / "truth" / "victims.csv").read_text(encoding="utf-8").splitlines()
    assert len(truth) - 1 == sum(ld["rows_read"] for ld in loads.values()) - 1  # forensic's TOTAL footer is no record


def test_workspace_from_the_environment(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGURA_WORKSPACE", str(demo))
    result = runner.invoke(app, ["status", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["workspace"] == str(demo)


def test_check_reports_the_planted_femicide_with_a_male_victim(demo: Path) -> None:
    result = runner.invoke(app, ["check", "--json", "-w", str(demo)])
    checks = {c["check"]: c for c in json.loads(result.output)}
    assert result.exit_code == 1, "a check of severity error found something"
    impossible = checks["impossible_combinations"]
    assert impossible["count"] >= 1
    assert any(d["problem"] == "femicide with a male victim" for d in impossible["details"])
    assert checks["unknown_territories"]["count"] == 0
    text = json.dumps(checks, ensure_ascii=False)
    assert "given_names" not in text and "NOMBRE" not in text


def test_the_same_file_twice_changes_nothing(demo: Path) -> None:
    before = json.loads(runner.invoke(app, ["status", "--json", "-w", str(demo)]).output)["loads"]
    result = runner.invoke(app, ["ingest", "police", str(demo / "inbox" / "police_2014_2015.csv"), "--json", "-w", str(demo)])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["status"] == "already_loaded" and "nothing changed" in report["message"]
    assert json.loads(runner.invoke(app, ["status", "--json", "-w", str(demo)]).output)["loads"] == before


def test_a_rejected_file_exits_3_and_names_the_problem(demo: Path, tmp_path: Path) -> None:
    empty = tmp_path / "police_empty.csv"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["ingest", "police", str(empty), "-w", str(demo)])
    assert result.exit_code == 3
    assert "police_empty.csv" in result.output and "empty" in result.output


def test_quarantine_export_withholds_names_and_neutralises_formulas(demo: Path, tmp_path: Path) -> None:
    status = json.loads(runner.invoke(app, ["status", "--json", "-w", str(demo)]).output)
    police = next(ld for ld in status["loads"] if ld["source_id"] == "police")
    out = tmp_path / "q.csv"
    result = runner.invoke(app, ["quarantine", str(police["load_id"]), "--out", str(out), "-w", str(demo)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("row,reasons,FOLIO")
    assert len(lines) - 1 == police["rows_quarantined"]
    assert "[withheld]" in text
    assert not any(cell.startswith(("=", "+", "@")) for line in lines for cell in line.split(","))


def test_sources_checks_every_mapping(demo: Path) -> None:
    result = runner.invoke(app, ["sources", "--json", "-w", str(demo)])
    assert result.exit_code == 0
    assert {r["source"]: r["ok"] for r in json.loads(result.output)} == {"police": True, "forensic": True, "prosecutors": True}


def test_a_folder_that_is_not_a_workspace_says_how_to_make_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "-w", str(tmp_path)])
    assert result.exit_code != 0
    assert "segura init" in str(result.exception) or "segura init" in result.output


def test_every_command_has_help() -> None:
    for cmd in (["--help"], ["ingest", "--help"], ["territory", "import", "--help"], ["population", "import", "--help"], ["check", "--help"], ["demo", "--help"]):
        result = runner.invoke(app, cmd)
        assert result.exit_code == 0 and len(result.output) > 200, cmd


def test_demo_prints_the_headline_figures_and_writes_every_indicator(demo: Path) -> None:
    reports = sorted(p.stem for p in (demo / "reports" / "indicators").glob("*.csv"))
    assert {"sdg_16_1_1", "femicide_rate", "records_reconciled_share"} <= set(reports)
    listing = runner.invoke(app, ["indicators", "list", "--json", "--workspace", str(demo)])
    assert listing.exit_code == 0, listing.output
    assert len(json.loads(listing.output)) == len(reports)


def test_indicators_compute_answers_in_json(demo: Path) -> None:
    result = runner.invoke(app, ["indicators", "compute", "sdg_16_1_1", "--by", "territory,sex", "--level", "country",
                                 "--where", "year=2015", "--json", "--workspace", str(demo)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["indicator"]["sdg"] == "16.1.1" and doc["disclosure_control"] is True
    published = [r for r in doc["data"] if r["conf_status"] == "F" and r["numerator"]]
    assert published, doc["data"]
    for r in published:
        assert r["ci_low"] < r["value"] < r["ci_high"]
    for r in doc["data"]:
        assert r["conf_status"] in ("F", "C")  # one flag: primary and secondary look alike
        if r["conf_status"] != "F":
            assert r["value"] is None and r["numerator"] is None


def test_query_writes_sdmx_csv_and_refuses_what_the_allow_list_lacks(demo: Path) -> None:
    ok = runner.invoke(app, ["query", "--measure", "femicide_rate", "--by", "territory,period", "--level", "admin1",
                             "--format", "sdmx-csv", "--workspace", str(demo)])
    assert ok.exit_code == 0, ok.output
    lines = ok.output.strip().splitlines()
    assert lines[0].startswith("STRUCTURE,STRUCTURE_ID,ACTION,INDICATOR,FREQ,REF_AREA,TIME_PERIOD")
    years = {line.split(",")[6] for line in lines[1:]}
    assert {"2014", "2015"} <= years  # two states x the years the extracts cover
    assert all(line.split(",")[-2] == "P" for line in lines[1:] if line.split(",")[6] not in ("2014", "2015"))
    refused = runner.invoke(app, ["query", "--measure", "femicide_rate", "--by", "weapon_class",
                                  "--workspace", str(demo)])
    assert refused.exit_code != 0
    assert "cannot be broken down by 'weapon_class'" in refused.output + str(refused.exception)
