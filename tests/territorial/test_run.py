"""The territorial commands on the sample observatory: what an analyst runs on the workspace."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from segura.cli import app
from segura.workspace import Workspace

runner = CliRunner()


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_hotspots_label_every_municipality(demo: Workspace) -> None:
    doc = _json(["hotspots", "sdg_16_1_1", "--method", "gi_star", "--json", "-w", str(demo.root)])
    rows = doc["data"]
    with demo.warehouse(read_only=True) as wh:
        municipalities = {c for (c,) in wh.con.execute("SELECT code FROM territory WHERE level = 'admin2'").fetchall()}
    assert {r["code"] for r in rows} == municipalities
    assert sum(doc["counts"].values()) == len(municipalities)
    for r in rows:
        assert r["cluster"] in ("Hot spot", "Cold spot", "Not significant")
        assert (r["cluster"] != "Not significant") == r["significant"]
        assert r["significant"] == (r["p_fdr"] <= 0.05)
        if r["cluster"] == "Hot spot":
            assert r["z"] > 0


def test_hotspots_of_the_smoothed_rate_match_esda(demo: Workspace) -> None:
    """The command's z-scores are esda's Gi* on the same smoothed rates and queen contiguity."""
    import esda
    from libpysal.weights import Queen

    from segura.territorial.run import rates

    doc = _json(["hotspots", "sdg_16_1_1", "--method", "gi_star", "--json", "-w", str(demo.root)])
    with demo.warehouse(read_only=True) as wh:
        table = rates(wh.con, demo.settings, demo.root, "sdg_16_1_1", "admin2", None)
        import geopandas as gpd
        import shapely

        rows = wh.con.execute("SELECT code, ST_AsWKB(geometry) FROM territory WHERE level = 'admin2' ORDER BY code").fetchall()
    frame = gpd.GeoDataFrame({"code": [c for c, _ in rows]}, geometry=[shapely.from_wkb(bytes(w)) for _, w in rows])
    w = Queen.from_dataframe(frame, ids=frame["code"].tolist(), silence_warnings=True, use_index=False)
    y = table.set_index("code").loc[frame["code"], "smoothed"].to_numpy()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    ours = {r["code"]: r["z"] for r in doc["data"]}
    np.testing.assert_allclose([ours[c] for c in frame["code"]], g.Zs, rtol=1e-9, atol=1e-9)


def test_deviance_and_index_commands(demo: Workspace, tmp_path: Path) -> None:
    doc = _json(["deviance", "sdg_16_1_1", "--json", "-w", str(demo.root)])
    rows = doc["data"]
    assert len(rows) == 79
    for r in rows:
        assert r["flag"] in ("much_better", "as_expected", "much_worse")
        assert r["low"] <= r["expected"] <= r["high"] or r["flag"] != "as_expected"
        if r["flag"] == "much_worse":
            assert r["observed"] > r["high"]
    # no covariates: the model is one rate for all, so each expected count is that rate x population
    per_person = [r["expected"] / r["exposure"] for r in rows]
    assert max(per_person) == min(per_person) or max(per_person) / min(per_person) < 1 + 1e-9

    spec = tmp_path / "index.yaml"
    spec.write_text("components:\n  - {column: sdg_16_1_1, group: violence}\n"
                    "  - {column: homicide_firearm_share, group: violence}\n", encoding="utf-8")
    doc = _json(["index", str(spec), "--level", "admin1", "--draws", "200", "--json", "-w", str(demo.root)])
    ranks = {r["code"]: r for r in doc["data"]}
    assert set(ranks) == {"11", "17"}
    # Morelos has the higher homicide rate and firearm share in the sample: first under every choice
    assert ranks["17"]["rank_low"] == ranks["17"]["rank_high"] == 1
    bad = runner.invoke(app, ["deviance", "homicide_victims", "-w", str(demo.root)])
    assert bad.exit_code != 0 and "rate indicator" in str(bad.exception)


def test_emerging_command(demo: Workspace) -> None:
    from segura.territorial.emerging import CATEGORIES

    doc = _json(["emerging", "homicide_victims", "--json", "-w", str(demo.root)])
    assert len(doc["data"]) == 79
    assert {r["category"] for r in doc["data"]} <= set(CATEGORIES)
    assert sum(doc["counts"].values()) == 79
    assert doc["method"]["time_window"] == 1 and doc["method"]["fdr"] is True


def test_points_command(demo: Workspace) -> None:
    doc = _json(["points", "--json", "-w", str(demo.root)])
    assert doc["source"] == "police" and doc["events"] > 1000
    with demo.warehouse(read_only=True) as wh:
        geolocated = wh.con.execute(
            "SELECT count(*) FROM event_current WHERE source_id = 'police' AND latitude IS NOT NULL "
            "AND longitude IS NOT NULL AND starts_with(iccs_code, '0101')").fetchone()[0]
    assert doc["events"] == geolocated
    assert doc["knox"]["close_in_space"] >= doc["knox"]["observed"] >= 0
    assert all(r["label"] in ("Hot spot", "Cold spot") for r in doc["data"])
