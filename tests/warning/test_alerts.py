"""Alerts on the sample observatory: detection, the store (severity, acknowledgement, notes,
withdrawal) and delivery to a real webhook server and to a Maildir outbox."""

from __future__ import annotations

import http.server
import json
import mailbox
import math
import re
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segura.cli import app
from segura.warning.aberration import METHODS
from segura.warning.deliver import deliver
from segura.warning.store import AlertError, AlertStore, alert_id
from segura.workspace import Workspace

runner = CliRunner()


def _cli(*args: str) -> str:
    out = runner.invoke(app, list(args))
    assert out.exit_code == 0, out.output
    return out.output


def expected_severity(methods: list[dict], observed: float) -> str:
    """The documented rule, computed again from the methods' own figures."""
    n = len(methods)
    scores = [m["score"] for m in methods]
    finite = [s for s in scores if s is not None]
    top = max(finite) if len(finite) == n else math.inf
    if top == math.inf and observed < 3:
        return "medium" if n >= 2 else "low"
    if n >= 3 or (n >= 2 and top >= 2):
        return "high"
    return "medium" if n >= 2 or top >= 2 else "low"


def test_detect_stores_recent_excesses_once(demo: Workspace) -> None:
    doc = json.loads(_cli("alerts", "detect", "homicide_victims", "--last", "6", "--no-deliver", "--json",
                          "-w", str(demo.root)))
    scan = doc["indicators"]["homicide_victims"]
    assert len(scan["window"]) == 6
    rows = scan["alarms"]
    assert rows, "the sample's two years give EARS something to flag"
    for r in rows:
        assert r["period"] in scan["window"] and r["method"] in METHODS
        assert r["observed"] > r["expected"] and r["alarm"]
        assert r["score"] is None or r["score"] > 1
    with demo.warehouse(read_only=True) as wh:
        codes = {c for (c,) in wh.con.execute("SELECT code FROM territory WHERE level = 'admin2'").fetchall()}
    assert {r["territory"] for r in rows} <= codes

    stored = json.loads(_cli("alerts", "--json", "-w", str(demo.root)))["data"]
    ours = [a for a in stored if a["period"] in scan["window"]]
    cells = {(r["territory"], r["period"]) for r in rows}
    assert {(a["territory"], a["period"]) for a in ours} == cells  # one alert per territory and month
    for a in ours:
        flagged = [r for r in rows if (r["territory"], r["period"]) == (a["territory"], a["period"])]
        assert sorted(m["method"] for m in a["methods"]) == sorted(r["method"] for r in flagged)
        assert a["agreeing"] == len(flagged) <= a["deciding"] <= len(METHODS)
        assert a["observed"] == flagged[0]["observed"]
        assert a["severity"] == expected_severity(a["methods"], a["observed"])
    assert {a["severity"] for a in ours} >= {"high", "low"}

    again = json.loads(_cli("alerts", "detect", "homicide_victims", "--last", "6", "--no-deliver", "--json",
                            "-w", str(demo.root)))["indicators"]["homicide_victims"]
    assert again["new"] == [] and again["updated"] == len(cells) and again["withdrawn"] == 0
    bad = runner.invoke(app, ["alerts", "detect", "--method", "cusum", "-w", str(demo.root)])
    assert bad.exit_code != 0 and "cusum" in bad.output


def test_acknowledgement_and_notes_survive_a_new_detection(demo: Workspace) -> None:
    _cli("alerts", "detect", "homicide_victims", "--last", "3", "--no-deliver", "-w", str(demo.root))
    first = json.loads(_cli("alerts", "--status", "open", "--json", "-w", str(demo.root)))["data"][0]
    aid = first["alert_id"]
    _cli("alerts", "ack", aid, "--note", "Confirmado con la fiscalía", "--user", "luis", "-w", str(demo.root))
    _cli("alerts", "detect", "homicide_victims", "--last", "3", "--no-deliver", "-w", str(demo.root))
    shown = json.loads(_cli("alerts", "show", aid, "--json", "-w", str(demo.root)))
    assert shown["status"] == "acknowledged" and shown["acknowledged_by"] == "luis"
    assert [n["text"] for n in shown["notes"]] == ["Confirmado con la fiscalía"]
    assert aid not in {a["alert_id"] for a in json.loads(_cli("alerts", "--status", "open", "--json",
                                                               "-w", str(demo.root)))["data"]}
    missing = runner.invoke(app, ["alerts", "show", "000000000000", "-w", str(demo.root)])
    assert isinstance(missing.exception, AlertError) and "no such alert" in str(missing.exception)


def _alarms(cells: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"territory": t, "territory_name": f"T{t}", "period": p, "method": m, "observed": 5.0,
                          "expected": 1.0, "threshold": 3.0, "score": s} for t, p, m, s in cells])


def test_a_cell_no_longer_flagged_is_withdrawn(tmp_path: Path) -> None:
    store = AlertStore(tmp_path / "alerts.sqlite")
    window = ["2020-01", "2020-02"]
    first = store.record("x", "admin2", "month",
                         _alarms([("1", "2020-01", "ears_c1", 2.0), ("1", "2020-01", "ears_c2", 1.5),
                                  ("2", "2020-02", "negbin", 1.2)]), window)
    assert len(first.new) == 2
    one = store.get(alert_id("x", "admin2", "1", "2020-01"))
    assert one["agreeing"] == 2 and one["severity"] == "high" and one["method"] == "ears_c1" and one["score"] == 2.0
    assert store.get(alert_id("x", "admin2", "2", "2020-02"))["severity"] == "low"
    second = store.record("x", "admin2", "month", _alarms([("1", "2020-01", "ears_c1", 1.1)]), window)
    assert second.new == [] and second.updated == 1 and second.withdrawn == 1
    assert [a["territory"] for a in store.alerts()] == ["1"]
    assert store.get(alert_id("x", "admin2", "1", "2020-01"))["severity"] == "low"
    assert {a["territory"] for a in store.alerts(withdrawn=True)} == {"1", "2"}
    with pytest.raises(AlertError, match="status 'done'"):
        store.alerts(status="done")
    with pytest.raises(AlertError, match="webhook"):
        store.subscribe("webhook", "ftp://example.org")


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    _Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Hook.received
    server.shutdown()
    server.server_close()


def test_subscribers_get_each_new_alert_once(tmp_path: Path, webhook: tuple[str, list[dict]]) -> None:
    url, received = webhook
    store = AlertStore(tmp_path / "alerts.sqlite")
    hook = store.subscribe("webhook", url)
    mail = store.subscribe("email", "observatorio@example.org", min_severity="high", lang="es")
    dead = store.subscribe("webhook", "http://127.0.0.1:9/closed")
    window = ["2021-05"]
    store.record("homicide_victims", "admin2", "month",
                 _alarms([("11020", "2021-05", "ears_c1", 3.0), ("11020", "2021-05", "ears_c2", 2.5),
                          ("11020", "2021-05", "ears_c3", 2.2), ("17007", "2021-05", "negbin", 1.3)]), window)
    store.add_note(alert_id("homicide_victims", "admin2", "11020", "2021-05"), "luis", "texto interno")
    done = deliver(store, tmp_path)
    assert done.sent == {hook: 2, mail: 1} and set(done.failed) == {dead}
    assert "Connection refused" in done.failed[dead] or "URLError" in done.failed[dead]
    payload = received[0]
    assert sorted(a["territory"] for a in payload["alerts"]) == ["11020", "17007"]
    assert "texto interno" not in json.dumps(payload)  # notes stay inside
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    messages = [message_from_bytes(box.get_bytes(k), policy=email_policy) for k in box.keys()]
    assert len(messages) == 1
    msg = messages[0]
    assert msg["To"] == "observatorio@example.org" and msg["Subject"] == "[Segura] 1 alerta nueva"
    body = msg.get_content()
    assert "[alta] T11020 (11020), 2021-05" in body and "17007" not in body
    again = deliver(store, tmp_path)
    assert again.sent == {} and set(again.failed) == {dead}  # nothing twice; the dead hook is tried again
    assert len(received) == 1 and len(box.keys()) == 1
    log = store.deliveries()
    assert sum(d["ok"] for d in log) == 3 and {d["subscription_id"] for d in log if not d["ok"]} == {dead}


def test_weekly_alerts_are_iso_weeks(demo: Workspace) -> None:
    doc = json.loads(_cli("alerts", "detect", "homicide_victims", "--grain", "week", "--last", "8", "--no-deliver",
                          "--json", "-w", str(demo.root)))
    scan = doc["indicators"]["homicide_victims"]
    assert doc["grain"] == "week" and len(scan["window"]) == 8
    assert all(re.fullmatch(r"\d{4}-W\d{2}", p) for p in scan["window"])
    assert scan["alarms"] and {r["period"] for r in scan["alarms"]} <= set(scan["window"])
    stored = [a for a in json.loads(_cli("alerts", "--json", "-w", str(demo.root)))["data"] if a["grain"] == "week"]
    assert {(a["territory"], a["period"]) for a in stored} >= {(r["territory"], r["period"]) for r in scan["alarms"]}
    bad = runner.invoke(app, ["alerts", "detect", "--grain", "day", "-w", str(demo.root)])
    assert bad.exit_code != 0 and "month or week" in bad.output
