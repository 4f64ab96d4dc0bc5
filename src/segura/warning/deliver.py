"""Delivering new alerts to their subscribers: a webhook (JSON over HTTP POST) or an email outbox.

The outbox is a Maildir folder (`<workspace>/outbox/`, the standard library's `mailbox.Maildir`:
each message is written under tmp/ and moved into new/ whole), from which the observatory's mail
relay sends; the system itself never speaks SMTP. A delivery that fails is recorded with its
reason and tried again at the next run; a delivered alert is never sent twice to the same subscriber.
"""

from __future__ import annotations

import json
import mailbox
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from segura import __version__
from segura.warning.store import AlertStore

SEVERITY_WORDS = {"es": {"low": "baja", "medium": "media", "high": "alta"},
                  "en": {"low": "low", "medium": "medium", "high": "high"}}
TIMEOUT_S = 10.0


@dataclass
class Delivered:
    """Per subscription: how many alerts went out, and the failures with their reasons."""

    sent: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


def public_alert(a: dict[str, Any]) -> dict[str, Any]:
    """The fields of an alert that leave the system (codes and counts; never a note's text)."""
    keys = ("alert_id", "indicator", "level", "territory", "territory_name", "period", "grain", "severity",
            "observed", "expected", "threshold", "score", "method", "agreeing", "deciding", "first_detected")
    return {k: a[k] for k in keys} | {"methods": [m["method"] for m in a["methods"]]}


def deliver(store: AlertStore, root: Path, *, sender: str = "segura@localhost", portal: str = "") -> Delivered:
    """Send every active subscription its pending alerts, one message per subscription."""
    done = Delivered()
    for sub in store.subscriptions():
        batch = store.pending(sub)
        if not batch:
            continue
        ids = [a["alert_id"] for a in batch]
        try:
            if sub["kind"] == "webhook":
                _post(sub["target"], {"source": "segura", "version": __version__,
                                      "alerts": [public_alert(a) for a in batch]})
                detail = f"POST {sub['target']}"
            else:
                key = _mail(root / "outbox", sub, batch, sender, portal)
                detail = f"outbox/new/{key}"
        except (OSError, urllib.error.URLError, ValueError) as e:
            store.delivered(sub["subscription_id"], ids, False, f"{type(e).__name__}: {e}")
            done.failed[sub["subscription_id"]] = f"{type(e).__name__}: {e}"
            continue
        store.delivered(sub["subscription_id"], ids, True, detail)
        done.sent[sub["subscription_id"]] = len(ids)
    return done


def _post(url: str, payload: dict[str, Any]) -> None:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",  # noqa: S310 - http(s) checked at subscription
                                 headers={"Content-Type": "application/json", "User-Agent": f"segura/{__version__}"})
    with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310
        if not 200 <= resp.status < 300:
            raise ValueError(f"the webhook answered HTTP {resp.status}")


def _line(a: dict[str, Any], lang: str) -> str:
    sev = SEVERITY_WORDS[lang][a["severity"]]
    exp = "-" if a["expected"] is None else f"{a['expected']:.1f}"
    if lang == "es":
        return (f"- [{sev}] {a['territory_name']} ({a['territory']}), {a['period']}: {a['indicator']} "
                f"observado {a['observed']:.0f}, esperado {exp}; métodos: {', '.join(m['method'] for m in a['methods'])}")
    return (f"- [{sev}] {a['territory_name']} ({a['territory']}), {a['period']}: {a['indicator']} "
            f"observed {a['observed']:.0f}, expected {exp}; methods: {', '.join(m['method'] for m in a['methods'])}")


def _mail(folder: Path, sub: dict[str, Any], batch: list[dict[str, Any]], sender: str, portal: str) -> str:
    lang = sub["lang"]
    n = len(batch)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = sub["target"]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    if lang == "es":
        msg["Subject"] = f"[Segura] {n} alerta{'s' if n != 1 else ''} nueva{'s' if n != 1 else ''}"
        head = "La violencia se aparta de su patrón en estos territorios y periodos:"
        tail = "Para revisarlas, reconocerlas y anotarlas: "
    else:
        msg["Subject"] = f"[Segura] {n} new alert{'s' if n != 1 else ''}"
        head = "Violence departs from its pattern in these territories and periods:"
        tail = "To review, acknowledge and annotate them: "
    body = [head, "", *(_line(a, lang) for a in batch), "", tail + (f"{portal.rstrip('/')}/{lang}/alerts" if portal
                                                                     else f"/{lang}/alerts")]
    msg.set_content("\n".join(body) + "\n")
    folder.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(folder, create=True)  # makes folder/{tmp,new,cur} when folder does not exist
    for sub_dir in ("tmp", "new", "cur"):  # ... and nothing when it does: a folder made by hand
        (folder / sub_dir).mkdir(parents=True, exist_ok=True)
    return str(box.add(msg))
