"""The territorial analyses in the release and on the portal: classes only, and the same as the analyst's command."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from segura.territorial.run import hotspots
from segura.workspace import Workspace


def test_hotspot_layer_is_the_analysts_result(client: TestClient, demo: Workspace) -> None:
    api = client.get("/api/v1/indicators/sdg_16_1_1/hotspots", params={"method": "gi_star"}).json()
    assert api["level"] == "admin2" and api["year"] == 2015 and api["permutations"] == 999 and api["fdr"]
    with demo.warehouse(read_only=True) as wh:
        table, clusters = hotspots(wh.con, demo.settings, demo.root, "sdg_16_1_1", level="admin2", year=2015,
                                   method="gi_star")
    assert {r["territory"]: r["cluster"] for r in api["data"]} == dict(zip(table["code"], table["cluster"], strict=True))
    assert api["counts"] == clusters.counts()
    assert set(api["data"][0]) == {"territory", "territory_name", "cluster"}  # a class, never a count or a rate


def test_hotspot_map_layer_on_the_indicator_page(client: TestClient) -> None:
    api = client.get("/api/v1/indicators/sdg_16_1_1/hotspots", params={"method": "local_moran"}).json()
    html = client.get("/es/indicators/sdg_16_1_1", params={"layer": "local_moran"}).text
    shown = dict(re.findall(r'data-code="(\d+)" data-value="([^"]*)"', html))
    spanish = {"High-High": "Alto-Alto", "Low-Low": "Bajo-Bajo", "Not significant": "No significativo",
               "High-Low": "Alto-Bajo (atípico)", "Low-High": "Bajo-Alto (atípico)"}
    assert shown == {r["territory"]: spanish[r["cluster"]] for r in api["data"]}
    assert "Conglomerados (Moran local), 2015" in html
    assert client.get("/es/indicators/homicide_victims", params={"layer": "gi_star"}).status_code == 200  # a count: value map
    assert client.get("/api/v1/indicators/homicide_victims/hotspots").status_code == 404


def test_ranking_page_and_index_endpoint(client: TestClient) -> None:
    idx = client.get("/api/v1/index").json()
    rows = idx["data"]
    assert len(rows) == 79 and "femicide_rate" in idx["spec"]
    assert all(r["rank_low"] <= r["median_rank"] <= r["rank_high"] for r in rows)
    assert [r["median_rank"] for r in rows] == sorted(r["median_rank"] for r in rows)
    top = [r for r in rows if r["class"] == "very_high"]
    assert top and all(r["rank_high"] <= 0.2 * 79 for r in top)  # the whole interval in the top fifth
    html = client.get("/en/ranking").text
    assert html.count('<tr><th scope="row"><a href="/en/territories/') == 79
    assert 'class="map"' in html and "very high" in html


def test_emerging_layer_is_the_analysts_result(client: TestClient, demo: Workspace) -> None:
    from segura.territorial.emerging import CATEGORIES
    from segura.territorial.run import emerging

    api = client.get("/api/v1/indicators/homicide_victims/emerging").json()
    with demo.warehouse(read_only=True) as wh:
        result = emerging(wh.con, demo.settings, demo.root, "homicide_victims", level="admin2")
    assert {r["territory"]: r["category"] for r in api["data"]} == \
        dict(zip(result.units["unit"], result.units["category"].astype(str), strict=True))
    assert {r["category"] for r in api["data"]} <= set(CATEGORIES)
    assert api["periods"] == ["2014-01", "2016-01"]  # every month the extracts cover
    html = client.get("/en/indicators/homicide_victims", params={"layer": "emerging"}).text
    assert "Emerging hot spots, by month" in html and html.count('class="area"') == 79


def test_deviance_layer_is_the_analysts_result(client: TestClient, demo: Workspace) -> None:
    from segura.territorial.run import deviance

    api = client.get("/api/v1/indicators/sdg_16_1_1/deviance").json()
    assert api["covariates"] == ["indigenous_share", "afromexican_share", "metro_area"]
    with demo.warehouse(read_only=True) as wh:
        result = deviance(wh.con, demo.settings, demo.root, "sdg_16_1_1", level="admin2", year=2015,
                          data=demo.root / "covariates.csv", covariates=api["covariates"])
    assert {r["territory"]: r["flag"] for r in api["data"]} == dict(zip(result.table["code"], result.table["flag"],
                                                                         strict=True))
    html = client.get("/es/indicators/sdg_16_1_1", params={"layer": "deviance"}).text
    assert "Desviación positiva" in html and html.count('class="area"') == 79


def test_points_page_and_endpoint(client: TestClient, demo: Workspace) -> None:
    from segura.territorial.run import points

    api = client.get("/api/v1/points").json()
    with demo.warehouse(read_only=True) as wh:
        grid, near, about = points(wh.con, demo.settings, demo.root)
    assert api["source"] == "police" and api["events"] == about["events"] > 1000
    labels = {f["properties"]["code"]: f["properties"]["name"] for f in api["cells"]["features"]}
    assert labels == dict(zip(grid.frame["cell"].astype(str), grid.frame["label"], strict=True))
    assert set(api["cells"]["features"][0]["properties"]) == {"code", "name"}  # a class per cell, no count
    assert api["knox"]["observed"] == near.observed and api["knox"]["p_value"] == near.p_value
    html = client.get("/es/points").text
    assert html.count('class="area"') == len(labels) and 'id="knox"' in html
