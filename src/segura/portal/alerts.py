"""The alerts on the portal: a page with a map, an alert's page where analysts acknowledge it and
write notes, a JSON API and an Atom feed.

Alerts are computed from the warehouse without disclosure control (a municipality's month of 2
homicides against an expected 0.3 is exactly what an analyst must see), so every route here
requires the analyst role: the pages a signed-in session, the API and the feed a session or HTTP
Basic credentials (what feed readers send). The open portal shows none of it. The state lives in
the workspace's alerts.sqlite (segura.warning.store), shared with `segura alerts`.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import time
import xml.etree.ElementTree as ET
from base64 import b64decode
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi import Path as PathParam
from fastapi import Query as Q
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import HTTPConnection

from segura.portal.auth import RANK, authenticate, same
from segura.portal.i18n import t
from segura.portal.pages import LangP, _session, render
from segura.portal.service import RequestError
from segura.portal.svg import category_map
from segura.warning.store import SEVERITIES, STATUSES, AlertError, AlertStore

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["alerts"])


class _Basic(HTTPBasic):
    """HTTP Basic credentials decoded as UTF-8 (RFC 7617's charset="UTF-8", which the challenge
    announces): FastAPI's own decodes ASCII only and refuses "contraseña". Undecodable or
    malformed credentials count as none, so the answer is the same 401 as a wrong password."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, param = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "basic":
            return None
        try:
            username, sep, password = b64decode(param, validate=True).decode("utf-8").partition(":")
        except (ValueError, binascii.Error):
            return None
        return HTTPBasicCredentials(username=username, password=password) if sep else None


basic = _Basic(auto_error=False, description="An analyst's user name and password (segura users add), UTF-8.")
AlertIdP = Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$")]
StatusQ = Annotated[str | None, Q(pattern="^(open|acknowledged|closed)$", description="Alert status.")]
SeverityQ = Annotated[str | None, Q(pattern="^(low|medium|high)$", description="At least this severity.")]
IndicatorQ = Annotated[str | None, Q(pattern=r"^[a-z0-9_]{1,64}$", description="Only this indicator's alerts.")]
UNAUTHORISED: dict[int | str, dict[str, Any]] = {
    401: {"description": "An analyst's session or HTTP Basic credentials are required."},
    429: {"description": "Too many sign-in attempts from this client: wait the seconds the message says."}}
ATOM = "http://www.w3.org/2005/Atom"
VERIFIED_S = 300.0
_verified: dict[str, float] = {}  # sha256(user, password) -> until when it stands verified


def _store(request: Request) -> AlertStore:
    return AlertStore.of(request.app.state.root)


def analyst(request: Request, credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)]) -> str:
    """The signed-in analyst's name (a portal session, or HTTP Basic); 401 otherwise."""
    s = _session(request)
    if s is not None:
        return str(s.user)
    if credentials is not None:
        key = hashlib.sha256(f"{credentials.username}\0{credentials.password}".encode()).hexdigest()
        known = _verified.get(key)
        if known is not None and known > time.monotonic():
            return credentials.username
        # every verification (argon2, ~50 ms) costs a sign-in attempt; verified credentials are
        # remembered for a while so that a feed reader or a script polling does not run out of them
        wait = request.app.state.login_limiter.take(request.client.host if request.client else "-")
        if wait:
            raise RequestError(f"too many sign-in attempts; try again in {wait:.0f} s", 429)
        role = authenticate(request.app.state.root, credentials.username, credentials.password)
        if role is not None and RANK.get(role, 0) >= RANK["analyst"]:
            if len(_verified) > 256:
                _verified.clear()
            _verified[key] = time.monotonic() + VERIFIED_S
            return credentials.username
    raise _Unauthorised()


class _Unauthorised(RequestError):
    def __init__(self) -> None:
        super().__init__("alerts are for the observatory's analysts: sign in, or send HTTP Basic credentials", 401)


def _indicator_name(request: Request, indicator: str, lang: str) -> str:
    rs = request.app.state.releases
    if rs.ids():
        entry = rs.get().indicators.get(indicator)
        if entry:
            return str(entry[lang]["name"])
    return indicator


# --- pages --------------------------------------------------------------------------------------

@pages.get("/{lang}/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, lang: LangP, status: StatusQ = "open", severity: SeverityQ = None,
                indicator: IndicatorQ = None,
                territory: Annotated[str | None, Q(pattern=r"^[A-Za-z0-9_.-]{1,32}$")] = None) -> Response:
    s = _session(request)
    if s is None:
        return RedirectResponse(f"/{lang}/admin/login", status_code=303)
    rows = _store(request).alerts(status=status, severity_at_least=severity, indicator=indicator, limit=500)
    map_svg: str | None = None
    legend: list[tuple[str, str]] = []
    rs = request.app.state.releases
    levels = {a["level"] for a in rows}
    if rows and len(levels) == 1 and rs.ids():
        try:
            geo = rs.get().geojson(levels.pop())
        except KeyError:
            geo = None
        if geo is not None:
            worst: dict[str, str] = {}  # the worst severity of each territory's listed alerts
            for a in rows:
                if SEVERITIES.index(a["severity"]) >= SEVERITIES.index(worst.get(a["territory"], "low")):
                    worst[a["territory"]] = a["severity"]
            map_svg, legend = category_map(geo, {k: f"alert_{v}" for k, v in worst.items()}, href=lambda c: f"/{lang}/alerts?territory={c}",
                                           label=lambda c: t(f"severity_{c[6:]}", lang), no_data=t("no_alert", lang),
                                           title=t("alerts_map", lang))
    if territory:
        rows = [a for a in rows if a["territory"] == territory]
    names = {a["indicator"]: _indicator_name(request, a["indicator"], lang) for a in rows}
    return render(request, lang, "alerts.html", rows=rows, names=names, map_svg=map_svg, legend=legend,
                  chosen_status=status, severity=severity, indicator=indicator, statuses=STATUSES, severities=SEVERITIES,
                  request_territory=territory, feed=f"/api/v1/alerts.atom?lang={lang}")


@pages.get("/{lang}/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, lang: LangP, alert_id: AlertIdP) -> Response:
    s = _session(request)
    if s is None:
        return RedirectResponse(f"/{lang}/admin/login", status_code=303)
    try:
        a = _store(request).get(alert_id)
    except AlertError as e:
        raise RequestError(str(e), 404) from e
    return render(request, lang, "alert.html", a=a, name=_indicator_name(request, a["indicator"], lang), csrf=s.csrf)


@pages.post("/{lang}/alerts/{alert_id}/{action}")
def alert_action(request: Request, lang: LangP, alert_id: AlertIdP,
                 action: Annotated[str, PathParam(pattern="^(ack|close|note)$")],
                 csrf: Annotated[str, Form(max_length=128)],
                 note: Annotated[str, Form(max_length=4000)] = "") -> Response:
    """Acknowledge, close or annotate an alert (analysts; the form carries the session's CSRF token)."""
    s = _session(request)
    if s is None or not same(csrf, s.csrf):
        return render(request, lang, "error.html", status=403, message="CSRF")
    store = _store(request)
    try:
        if action == "ack":
            store.acknowledge(alert_id, s.user, note or None)
        elif action == "close":
            store.close(alert_id, s.user, note or None)
        else:
            store.add_note(alert_id, s.user, note)
    except AlertError as e:
        raise RequestError(str(e), 404 if "no such alert" in str(e) else 400) from e
    return RedirectResponse(f"/{lang}/alerts/{alert_id}", status_code=303)


# --- API and feed -------------------------------------------------------------------------------

@api.get("/alerts", responses=UNAUTHORISED)
def alerts_json(request: Request, user: Annotated[str, Depends(analyst)], status: StatusQ = None,
                severity: SeverityQ = None, indicator: IndicatorQ = None,
                limit: Annotated[int, Q(ge=1, le=5000)] = 1000) -> JSONResponse:
    """The stored alerts (analysts): newest month first, then by severity; each with observed,
    expected, threshold, score and the methods that flagged it."""
    rows = _store(request).alerts(status=status, severity_at_least=severity, indicator=indicator, limit=limit)
    return JSONResponse({"data": rows, "count": len(rows)}, headers={"Cache-Control": "private, no-store"})


@api.get("/alerts/{alert_id}", responses={**UNAUTHORISED, 404: {"description": "No such alert."}})
def alert_json(request: Request, user: Annotated[str, Depends(analyst)], alert_id: AlertIdP) -> JSONResponse:
    """One alert with every method's figures and the analysts' notes."""
    try:
        a = _store(request).get(alert_id)
    except AlertError as e:
        raise RequestError(str(e), 404) from e
    return JSONResponse(a, headers={"Cache-Control": "private, no-store"})


@api.get("/alerts.atom", responses={**UNAUTHORISED, 200: {"content": {"application/atom+xml": {}},
                                                          "description": "An Atom 1.0 feed (RFC 4287)."}})
def alerts_feed(request: Request, user: Annotated[str, Depends(analyst)],
                lang: Annotated[str, Q(pattern="^(es|en)$")] = "es", severity: SeverityQ = None,
                indicator: IndicatorQ = None) -> Response:
    """The open alerts as an Atom feed, newest first (analysts)."""
    rows = _store(request).alerts(status="open", severity_at_least=severity, indicator=indicator, limit=200)
    return Response(atom(request, rows, lang), media_type="application/atom+xml",
                    headers={"Cache-Control": "private, no-store"})


def atom(request: Request, rows: list[dict[str, Any]], lang: str) -> bytes:
    """An Atom 1.0 document (RFC 4287). Written with the standard library's ElementTree: one small
    fixed structure, which does not justify a feed library and its lxml dependency."""
    base = str(request.base_url).rstrip("/")
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    sub(feed, "id", f"{base}/{lang}/alerts")
    sub(feed, "title", t("alerts_title", lang) + " · " + str(request.app.state.settings["workspace.name"]))
    stamp = max((a["last_detected"] for a in rows), default=None) or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    sub(feed, "updated", stamp)
    sub(feed, "link", rel="self", href=f"{base}/api/v1/alerts.atom?lang={lang}")
    sub(feed, "link", rel="alternate", href=f"{base}/{lang}/alerts", type="text/html")
    author = sub(feed, "author")
    sub(author, "name", str(request.app.state.settings["workspace.name"]))
    sub(feed, "generator", "Segura")
    for a in rows:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:segura:alert:{a['alert_id']}")
        sub(entry, "title", t("alert_entry", lang, severity=t(f"severity_{a['severity']}", lang),
                              territory=a["territory_name"], period=a["period"],
                              indicator=_indicator_name(request, a["indicator"], lang)))
        sub(entry, "updated", a["last_detected"])
        sub(entry, "published", a["first_detected"])
        sub(entry, "link", rel="alternate", href=f"{base}/{lang}/alerts/{a['alert_id']}", type="text/html")
        sub(entry, "category", term=a["severity"])
        expected = "-" if a["expected"] is None else f"{a['expected']:.1f}"
        sub(entry, "summary", t("alert_summary", lang, observed=f"{a['observed']:.0f}", expected=expected,
                                methods=", ".join(m["method"] for m in a["methods"]), code=a["territory"]))
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))
