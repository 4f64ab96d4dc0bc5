"""The alerts on the portal: analysts only; a page with a map, an alert's page where an analyst
acknowledges it and writes notes, the JSON API and the Atom feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from segura.warning.run import detect_alerts
from segura.warning.store import AlertStore
from segura.workspace import Workspace
from tests.portal.conftest import ANALYST
from tests.portal.test_pages import _login

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def alerts(demo: Workspace, portal_root: Path) -> list[dict]:
    detect_alerts(demo, ["homicide_victims"], last=6, deliver=False)
    rows = AlertStore.of(portal_root).alerts(status="open")
    assert rows
    return rows


def test_alerts_are_for_analysts_only(client: TestClient, alerts: list[dict]) -> None:
    assert client.get("/es/alerts", follow_redirects=False).headers["location"] == "/es/admin/login"
    assert client.get(f"/en/alerts/{alerts[0]['alert_id']}", follow_redirects=False).status_code == 303
    for url in ("/api/v1/alerts", "/api/v1/alerts.atom", f"/api/v1/alerts/{alerts[0]['alert_id']}"):
        r = client.get(url)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        assert alerts[0]["territory_name"] not in r.text
    assert client.get("/api/v1/alerts", auth=(ANALYST[0], "wrong password")).status_code == 401
    home = client.get("/es/").text
    assert "/es/alerts" not in home  # the open portal does not link to them


def test_the_api_and_the_feed_list_the_open_alerts(client: TestClient, alerts: list[dict]) -> None:
    r = client.get("/api/v1/alerts", params={"status": "open"}, auth=ANALYST[:2])
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["count"] == len(alerts) and [a["alert_id"] for a in doc["data"]] == [a["alert_id"] for a in alerts]
    one = client.get(f"/api/v1/alerts/{alerts[0]['alert_id']}", auth=ANALYST[:2]).json()
    assert one["alert_id"] == alerts[0]["alert_id"] and one["methods"] and isinstance(one["notes"], list)
    assert client.get("/api/v1/alerts/ffffffffffff", auth=ANALYST[:2]).status_code == 404
    high = client.get("/api/v1/alerts", params={"severity": "high"}, auth=ANALYST[:2]).json()["data"]
    assert {a["severity"] for a in high} <= {"high"}

    feed = client.get("/api/v1/alerts.atom", params={"lang": "en"}, auth=ANALYST[:2])
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}updated") is not None
    entries = root.findall(f"{ATOM}entry")
    open_now = client.get("/api/v1/alerts", params={"status": "open"}, auth=ANALYST[:2]).json()["data"]
    assert len(entries) == min(len(open_now), 200)
    first = entries[0]
    assert first.find(f"{ATOM}id").text == f"urn:segura:alert:{open_now[0]['alert_id']}"  # type: ignore[union-attr]
    assert open_now[0]["territory_name"] in first.find(f"{ATOM}title").text  # type: ignore[union-attr,operator]
    assert first.find(f"{ATOM}link").get("href").endswith(f"/en/alerts/{open_now[0]['alert_id']}")  # type: ignore[union-attr]


def test_an_analyst_reads_the_map_and_acknowledges_with_a_note(client: TestClient, alerts: list[dict]) -> None:
    assert _login(client, ANALYST[0], ANALYST[1]) == 303
    page = client.get("/es/alerts").text
    assert '<svg class="map"' in page and 'id="alerts"' in page
    assert page.count('<tr class="sev-') == len(AlertStore.of(client.app.state.root).alerts(status="open"))
    target = alerts[-1]
    assert f'data-code="{target["territory"]}"' in page
    english = client.get(f"/en/alerts/{target['alert_id']}").text
    assert 'id="methods"' in english and "Acknowledge" in english
    csrf = re.search(r'name="csrf" value="([^"]+)"', english).group(1)  # type: ignore[union-attr]
    assert client.post(f"/en/alerts/{target['alert_id']}/ack", data={"csrf": "forged"}).status_code == 403
    done = client.post(f"/en/alerts/{target['alert_id']}/ack", data={"csrf": csrf, "note": "Seen with the prosecutor"})
    assert done.status_code == 200 and "Seen with the prosecutor" in done.text and 'id="status">acknowledged' in done.text
    stored = AlertStore.of(client.app.state.root).get(target["alert_id"])
    assert stored["status"] == "acknowledged" and stored["acknowledged_by"] == ANALYST[0]
    assert stored["notes"][-1]["author"] == ANALYST[0]
    still_open = client.get("/es/alerts").text
    assert target["alert_id"] not in still_open
    assert target["alert_id"] in client.get("/es/alerts", params={"status": "acknowledged"}).text
