"""The REST API, in process: what a journalist's script or another system relies on."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from segura.portal.app import create_app
from segura.portal.release import PublishReport, Release
from segura.workspace import Workspace
from tests.portal.conftest import INDICATORS

VALUES = "/api/v1/indicators/sdg_16_1_1/values"


def test_health_names_the_release(client: TestClient, release: PublishReport) -> None:
    body = client.get("/api/v1/health").json()
    assert body == {"status": "ok", "release": release.release_id, "releases": body["releases"]}


def test_catalogue_lists_each_published_indicator_with_its_breakdowns(client: TestClient) -> None:
    body = client.get("/api/v1/indicators?lang=es").json()
    ids = [i["id"] for i in body["indicators"]]
    assert ids == INDICATORS
    rate = next(i for i in body["indicators"] if i["id"] == "sdg_16_1_1")
    assert rate["name"].startswith("Tasa de homicidio")
    assert "territory+period.admin2.year" in rate["views"]
    assert "period.national.month" in rate["views"]
    assert client.get("/api/v1/indicators/nope").status_code == 404


def test_values_by_municipality_for_a_year(client: TestClient, portal_root: Path) -> None:
    body = client.get(VALUES, params={"by": "territory", "level": "admin2", "year": "2015"}).json()
    assert body["query"]["view"] == "territory+period.admin2.year"
    assert body["release"]["as_published_on"] == body["release"]["published_at"][:10]
    rows = body["data"]
    assert {r["period"] for r in rows} == {"2015"}
    ws = Workspace.open(portal_root)
    with ws.warehouse(read_only=True) as wh:
        municipalities = {c for (c,) in wh.con.execute("SELECT code FROM territory WHERE level = 'admin2'").fetchall()}
    listed = {r["territory"] for r in rows}
    assert municipalities <= listed  # every municipality has its row, zero or not
    assert listed - municipalities <= {"11_U", "17_U"}  # and only the states' "unspecified" rows besides
    for r in rows:
        if r["conf_status"] == "C":
            assert r["value"] is None and r["numerator"] is None and r["ci_low"] is None and r["eb_local"] is None
        else:
            assert r["value"] == pytest.approx(r["numerator"] / r["denominator"] * 100_000)


def test_values_are_those_of_the_query_modeler_with_disclosure_control(client: TestClient, demo: Workspace) -> None:
    """The release is the modeler's protected answer, not a copy that could drift from it."""
    api = {r["territory"]: r for r in client.get(VALUES, params={"by": "territory", "level": "admin1"}).json()["data"]
           if r["period"] == "2015"}
    direct = demo.query("sdg_16_1_1", by=["territory", "period"], level="admin1", where={"year": "2015"})
    assert len(direct.frame) == len(api)
    for rec in direct.records():
        got = api[rec["territory"]]
        assert got["conf_status"] == rec["conf_status"]
        assert got["numerator"] == rec["numerator"]
        assert got["value"] == (pytest.approx(rec["value"]) if rec["value"] is not None else None)


def test_a_territory_filter_keeps_it_and_what_lies_below(client: TestClient) -> None:
    rows = client.get(VALUES, params={"by": "territory", "level": "admin2", "territory": "17"}).json()["data"]
    assert rows and all(r["territory"].startswith("17") for r in rows)
    state = client.get(VALUES, params={"territory": "17"}).json()
    assert state["query"]["view"] == "territory+period.admin1.year"
    assert {r["territory"] for r in state["data"]} == {"17"}


def test_period_filters_follow_iso_8601(client: TestClient) -> None:
    rows = client.get(VALUES, params={"grain": "month", "from": "2015-06", "to": "2015-08"}).json()["data"]
    assert [r["period"] for r in rows] == ["2015-06", "2015-07", "2015-08"]
    quarters = client.get(VALUES, params={"grain": "quarter", "from": "2015-05", "to": "2015"}).json()["data"]
    assert [r["period"] for r in quarters] == ["2015-Q2", "2015-Q3", "2015-Q4"]


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"by": ["territory", "age"], "level": "admin2"}, 404, "disclosure control publishes only these breakdowns"),
    ({"grain": "week"}, 422, "grain"),
    ({"from": "2015-13"}, 422, "from"),
    ({"by": "sex", "sex": "X"}, 422, "sex"),
    ({"territory": "99999"}, 422, "territory"),
    ({"release": "1999-01-01"}, 404, "no release"),
])
def test_bad_requests_get_a_4xx_that_says_why(client: TestClient, params: dict[str, object], status: int, says: str) -> None:
    r = client.get(VALUES, params=params)  # type: ignore[arg-type]
    assert r.status_code == status
    assert says in json.dumps(r.json())


def test_the_query_modeler_by_post_and_by_link_agree(client: TestClient) -> None:
    body = {"indicator": "femicide_rate", "by": ["territory"], "level": "admin1", "grain": "year",
            "where": {"year": ["2015"]}, "lang": "es"}
    posted = client.post("/api/v1/query", json=body)
    linked = client.get("/api/v1/query", params={"indicator": "femicide_rate", "by": "territory", "level": "admin1",
                                                 "year": "2015", "lang": "es"})
    assert posted.status_code == linked.status_code == 200
    assert posted.json() == linked.json()
    assert posted.json()["data"][0]["territory_name"] in ("Guanajuato", "Morelos")


def test_etag_and_caching_headers(client: TestClient, release: PublishReport) -> None:
    first = client.get(VALUES, params={"by": "territory"})
    tag = first.headers["etag"]
    again = client.get(VALUES, params={"by": "territory"}, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    pinned = client.get(VALUES, params={"by": "territory", "release": release.release_id})
    assert "immutable" in pinned.headers["cache-control"]
    assert pinned.headers["etag"] == tag  # same release, same question, same bytes


def test_downloads_hold_the_same_figures_in_every_format(client: TestClient) -> None:
    params = {"by": "territory", "level": "admin1", "year": "2015"}
    data = client.get(VALUES, params=params).json()["data"]
    expected = {r["territory"]: r["value"] for r in data}

    csv_resp = client.get("/api/v1/indicators/sdg_16_1_1/download", params={**params, "format": "csv"})
    assert csv_resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_resp.headers["content-disposition"]
    text = csv_resp.content.decode("utf-8-sig")
    got = {r["territory"]: r["value"] for r in csv.DictReader(io.StringIO(text))}
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert (got[k] == "") if v is None else float(got[k]) == pytest.approx(v)

    pq_resp = client.get("/api/v1/indicators/sdg_16_1_1/download", params={**params, "format": "parquet"})
    table = {r["territory"]: r["value"] for r in pq.read_table(io.BytesIO(pq_resp.content)).to_pylist()}
    assert table.keys() == expected.keys()
    for k, v in expected.items():
        assert table[k] is None if v is None else table[k] == pytest.approx(v)

    x_resp = client.get("/api/v1/indicators/sdg_16_1_1/download", params={**params, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(x_resp.content), read_only=True)["data"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert len(rows) - 1 == len(expected)
    assert {r[header.index("territory")] for r in rows[1:]} == set(expected)

    sdmx = client.get("/api/v1/indicators/sdg_16_1_1/download", params={**params, "format": "sdmx-csv"})
    lines = list(csv.DictReader(io.StringIO(sdmx.content.decode("utf-8-sig"))))
    assert lines[0]["STRUCTURE"] == "dataflow" and lines[0]["FREQ"] == "A"
    assert {ln["REF_AREA"] for ln in lines} == set(expected)
    assert {ln["TIME_PERIOD"] for ln in lines} == {"2015"}


def test_territories_as_geojson_for_the_map(client: TestClient) -> None:
    geo = client.get("/api/v1/territories", params={"level": "admin2"})
    assert geo.headers["content-type"].startswith("application/geo+json")
    doc = geo.json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 79
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in doc["features"])
    state = client.get("/api/v1/territories/11").json()
    assert state["name"] == "Guanajuato" and state["iso_3166_2"] == "MX-GUA" and len(state["children"]) == 46


def test_dcat_catalogue(client: TestClient) -> None:
    r = client.get("/api/v1/dcat")
    assert r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    assert doc["@type"] == "dcat:Catalog" and doc["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    # one dataset per indicator, then the demo's conflict registry (tested in test_conflicts.py)
    assert [d["dct:identifier"] for d in doc["dcat:dataset"]] == [*INDICATORS, "conflict_registry"]
    ds = doc["dcat:dataset"][1]
    assert {t["@language"] for t in ds["dct:title"]} == {"es", "en"}
    assert ds["dct:spatial"]["@id"].endswith("/MEX")
    formats = {d["dct:format"] for d in ds["dcat:distribution"]}
    assert formats == {"CSV", "XLSX", "PARQUET", "SDMX-CSV"}
    for dist in ds["dcat:distribution"]:  # every download address answers
        url = dist["dcat:downloadURL"]["@id"].replace("http://testserver", "")
        assert client.get(url).status_code == 200


def test_release_metadata_and_checksums(client: TestClient, release: PublishReport) -> None:
    meta = client.get(f"/api/v1/releases/{release.release_id}").json()
    assert meta["id"] == release.release_id
    assert meta["disclosure"]["flag"] == "C"
    assert meta["coverage"]["from"] == "2014-01"
    assert Release(release.path).verify() == []
    assert client.get("/api/v1/releases").json()["releases"][0]["id"] == release.release_id


def test_rate_limit_on_the_query_endpoints(portal_root: Path) -> None:
    with TestClient(create_app(portal_root, rate_limit=3)) as c:
        codes = [c.get("/api/v1/query", params={"indicator": "sdg_16_1_1"}).status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        r = c.get("/api/v1/query", params={"indicator": "sdg_16_1_1"})
        assert r.headers["retry-after"] == "60"
        assert c.get(VALUES).status_code == 200  # the cached indicator endpoint is not limited


def test_security_headers_on_every_answer(client: TestClient) -> None:
    for url in ("/api/v1/health", "/es/", VALUES + "?grain=week", "/static/segura.css"):
        h = client.get(url).headers
        assert "default-src 'self'" in h["content-security-policy"]
        assert "script-src 'self'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "same-origin"


def test_openapi_describes_the_api(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/v1/indicators", "/api/v1/indicators/{indicator_id}/values", "/api/v1/query",
            "/api/v1/indicators/{indicator_id}/download", "/api/v1/territories", "/api/v1/dcat",
            "/api/v1/releases/{release_id}", "/api/v1/health"} <= paths
    assert not any(p.startswith("/es") or p.startswith("/en") for p in paths)
