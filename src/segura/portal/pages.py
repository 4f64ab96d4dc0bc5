"""The portal's pages, rendered on the server in Spanish (/es/...) and English (/en/...).

Every page works without JavaScript (forms are GET links, maps and charts are SVG); the one
script served (static/segura.js) adds a tooltip that follows the pointer on the map.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from segura.portal import service
from segura.portal.auth import RANK, authenticate, same
from segura.portal.dcat import main_view
from segura.portal.diff import compare
from segura.portal.i18n import number, t
from segura.portal.release import NATIONAL, Release
from segura.portal.service import Ask, RequestError
from segura.portal.svg import PALETTE, category_map, choropleth, line_chart, sparkline

HERE = Path(__file__).parent
env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
router = APIRouter(include_in_schema=False)
LangP = Annotated[str, PathParam(pattern="^(es|en)$")]
Point = tuple[str, float | None, float | None, float | None]
SESSION = "segura_session"
LOGIN_CSRF = "segura_login_csrf"


def _v(x: Any) -> float | None:
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def render(request: Request, lang: str, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    rs = request.app.state.releases
    release: Release | None = ctx.pop("release", None)
    if release is None and rs.ids():
        release = rs.get()
    other = "en" if lang == "es" else "es"
    path = request.url.path
    switch = f"/{other}{path[3:]}" + (f"?{request.url.query}" if request.url.query else "")
    session = request.app.state.sessions.get(request.cookies.get(SESSION))
    ids = rs.ids()
    pinned = request.query_params.get("release") if release is not None and release.id in ids else None
    html = env.get_template(template).render(
        lang=lang, other=other, switch=switch, path=path, release=release, pinned=pinned,
        latest=ids[-1] if ids else None,
        t=lambda key, **kw: t(key, lang, **kw), num=lambda v, d=None: number(_v(v), lang, d),
        session=session, license=request.app.state.settings["portal.license"],
        license_name=request.app.state.settings["portal.license_name"], **ctx)
    return HTMLResponse(html, status_code=status, headers={"Content-Language": lang, "Cache-Control": "no-cache"})


def _release(request: Request, release_id: str | None) -> Release:
    try:
        return request.app.state.releases.get(release_id or None)
    except KeyError:
        raise RequestError(f"no release {release_id!r}", 404) from None


def _safe(r: Release, ask: Ask, lang: str) -> service.Answer | None:
    try:
        return service.answer(r, ask, lang)
    except RequestError:
        return None


def _series(ans: service.Answer | None) -> list[Point]:
    if ans is None:
        return []
    # partial periods (P) are left out of lines: a year with one month in it would look like a fall
    return [(str(row["period"]), _v(row["value"]), _v(row["ci_low"]), _v(row["ci_high"]))
            for row in ans.frame.to_dict(orient="records") if row.get("obs_status") != "P"]


def headline_year(r: Release) -> int | None:
    full = r.meta.get("full_years") or []
    return int(full[-1]) if full else None


@router.get("/", response_class=HTMLResponse)
def root(request: Request) -> RedirectResponse:
    accept = request.headers.get("accept-language", "")
    lang = "en" if accept.lower().startswith("en") else "es"
    return RedirectResponse(f"/{lang}/", status_code=307)


@router.get("/{lang}/", response_class=HTMLResponse)
def home(request: Request, lang: LangP, release: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    r = _release(request, release)
    year = headline_year(r)
    cards = []
    for ind, doc in r.indicators.items():
        over = doc[lang].get("over") if doc[lang]["kind"] == "distribution" else None
        if over:  # a distribution: its categories this year, largest first
            dist = _safe(r, Ask.make(ind, [over], None, "year", {"year": [str(year)]} if year else {}), lang)
            if dist is not None and not dist.frame.empty:
                parts = dist.frame.sort_values("value", ascending=False, na_position="last").to_dict(orient="records")
                cards.append({"id": ind, "name": doc[lang]["name"], "unit": doc[lang]["unit"], "year": year,
                              "parts": [(p[f"{over}_label"], p) for p in parts]})
            continue
        ans = _safe(r, Ask.make(ind, [], None, "year"), lang)
        if ans is None or ans.frame.empty or "value" not in ans.frame:
            continue
        rows = {str(p): rec for p, rec in zip(ans.frame["period"], ans.frame.to_dict(orient="records"), strict=True)}
        now = rows.get(str(year)) if year else None
        before = rows.get(str(year - 1)) if year else None
        cards.append({"id": ind, "name": doc[lang]["name"], "unit": doc[lang]["unit"],
                      "now": now, "before": before, "year": year,
                      "spark": sparkline([v for _, v, _, _ in _series(ans)]),
                      "p": _v(now.get("p_previous")) if now else None,
                      "change": _v(now.get("change_previous_pct")) if now else None})
    return render(request, lang, "home.html", release=r, cards=cards, year=year)


@router.get("/{lang}/indicators", response_class=HTMLResponse)
def indicator_list(request: Request, lang: LangP) -> RedirectResponse:
    return RedirectResponse(f"/{lang}/#indicators", status_code=307)


@router.get("/{lang}/indicators/{indicator_id}", response_class=HTMLResponse)
def indicator_page(request: Request, lang: LangP, indicator_id: Annotated[str, PathParam(pattern=r"^[a-z0-9_]{1,64}$")],
                   period: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
                   grain: Annotated[str, Query(pattern="^(year|quarter|month)$")] = "year",
                   layer: Annotated[str, Query(pattern="^(value|gi_star|local_moran|emerging|deviance)$")] = "value",
                   release: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    r = _release(request, release)
    if indicator_id not in r.indicators:
        raise RequestError(f"unknown indicator {indicator_id!r}", 404)
    doc = r.indicators[indicator_id][lang]
    levels = r.meta["levels"]
    over = doc.get("over") if doc["kind"] == "distribution" else None
    dims = [over] if over else []
    national = _safe(r, Ask.make(indicator_id, dims, None, grain), lang)
    if national is None and grain != "year":
        grain = "year"
        national = _safe(r, Ask.make(indicator_id, dims, None, grain), lang)
    series: list[tuple[str, list[Point]]] = []
    if over and national is not None:  # a distribution: one line per category
        for code in national.frame[over].unique():
            sub = national.frame[national.frame[over] == code]
            series.append((r.label(over, code, lang), [(str(p), _v(v), None, None) for p, v, s in
                                                       zip(sub["period"], sub["value"], sub["obs_status"], strict=True)
                                                       if s != "P"]))
    else:
        series.append((t("national", lang), _series(national)))
        states = _safe(r, Ask.make(indicator_id, ["territory"], levels[1], grain), lang)
        if states is not None:
            for code in states.frame["territory"].unique():
                if str(code).endswith("_U"):
                    continue
                sub = states.frame[states.frame["territory"] == code]
                series.append((r.label("territory", code, lang),
                               [(str(p), _v(v), None, None) for p, v, s in
                                zip(sub["period"], sub["value"], sub["obs_status"], strict=True) if s != "P"]))
    fmt = lambda v: number(_v(v), lang)  # noqa: E731
    chart = line_chart(series, fmt=fmt, title=f"{doc['name']} ({doc['unit']})") if any(pts for _, pts in series) else ""
    years = sorted({str(p)[:4] for p in (national.frame["period"] if national is not None else [])})
    chosen = period if period in years else (str(headline_year(r)) if str(headline_year(r)) in years
                                             else (years[-1] if years else None))
    map_svg, table, map_level = "", [], None
    available_layers: list[str] = ["value"]
    legend: list[tuple[str, str]] = []
    for level in reversed(levels[1:]):
        ans = _safe(r, Ask.make(indicator_id, ["territory"], level, "year", {"year": [chosen]} if chosen else {}), lang)
        if ans is None:
            continue
        map_level = level
        values = {str(row["territory"]): row for row in ans.frame.to_dict(orient="records")}
        try:
            geo = r.geojson(level)
        except KeyError:
            geo = None
        layers = dict(r.analysis.get("hotspots", {}).get(indicator_id, {}))
        em = r.analysis.get("emerging", {}).get(indicator_id, {})
        if em.get("categories"):
            layers["emerging"] = {"clusters": em["categories"]}
        dev = r.analysis.get("deviance", {}).get(indicator_id, {})
        if dev.get("flags"):
            layers["deviance"] = {"clusters": {c: f for c, f in dev["flags"].items() if f != "not_modelled"}}
        cluster_layer = layers.get(layer, {}) if layer != "value" else {}
        if geo is not None and cluster_layer.get("clusters") and level == r.analysis.get("level") \
                and layer in ("emerging", "deviance"):
            from segura.territorial.deviance import FLAG_LABELS
            from segura.territorial.emerging import CATEGORY_LABELS

            names: dict[str, dict[str, str]] = CATEGORY_LABELS if layer == "emerging" else FLAG_LABELS

            def label(c: str, names: dict[str, dict[str, str]] = names) -> str:
                return names.get(c, {}).get(lang, c)

            map_svg, legend = category_map(
                geo, cluster_layer["clusters"], href=lambda c: f"/{lang}/territories/{c}",
                label=label, no_data=t("no_data", lang),
                title=t(f"layer_{layer}", lang, year=r.analysis.get("year")))
        elif geo is not None and cluster_layer.get("clusters") and level == r.analysis.get("level"):
            map_svg, legend = category_map(
                geo, cluster_layer["clusters"], href=lambda c: f"/{lang}/territories/{c}",
                label=lambda c: t(f"cluster_{c}", lang), no_data=t("no_data", lang),
                title=t(f"layer_{layer}", lang, year=r.analysis.get("year")))
        elif geo is not None:
            layer = "value"
            map_svg, legend = choropleth(
                geo, values, href=lambda c: f"/{lang}/territories/{c}", fmt=fmt,
                labels={"suppressed": "C", "no_data": t("no_data", lang)},
                title=t("map_title", lang, period=chosen or ""))
        available_layers = ["value", *[m for m in ("gi_star", "local_moran", "emerging", "deviance")
                                       if layers.get(m, {}).get("clusters")]] \
            if level == r.analysis.get("level") else ["value"]
        table = ans.frame.to_dict(orient="records")
        break
    disaggregations = []
    for dim in ["sex", "age", *[d for d in doc["disaggregations"] if d not in ("sex", "age")]]:
        ans = _safe(r, Ask.make(indicator_id, list(dict.fromkeys([*dims, dim])), None, "year",
                                {"year": [chosen]} if chosen else {}), lang)
        if ans is not None and not ans.frame.empty:
            disaggregations.append((r.dimensions.get(dim, {}).get(lang, dim), dim, ans.frame.to_dict(orient="records")))
    return render(request, lang, "indicator.html", release=r, ind=doc, indicator_id=indicator_id, chart=chart,
                  map_svg=map_svg, legend=legend, table=table, years=years, chosen=chosen, grain=grain,
                  map_level=map_level, disaggregations=disaggregations, palette=PALETTE, layer=layer,
                  layers=available_layers, analysis_year=r.analysis.get("year"),
                  notes=national.notes if national else [])


@router.get("/{lang}/territories/{code}", response_class=HTMLResponse)
def territory_page(request: Request, lang: LangP, code: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.-]{1,32}$")],
                   release: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    r = _release(request, release)
    terr = r.territories
    hit = terr[terr.code == code]
    if hit.empty:
        raise RequestError(f"no territory {code!r}", 404)
    row = hit.iloc[0]
    level, parent = row["level"], row["parent_code"] or None
    year = headline_year(r)
    chain = [code]
    p = parent
    while p:
        chain.append(p)
        up = terr[terr.code == p]
        p = up.iloc[0]["parent_code"] if not up.empty and up.iloc[0]["parent_code"] else None
    columns = [(c, r.label("territory", c, lang)) for c in chain]
    rows = []
    for ind, doc in r.indicators.items():
        cells = []
        spark = ""
        for i, c in enumerate(chain):
            ans = _safe(r, Ask.make(ind, [], None, "year", {"territory": [c]}), lang)
            if ans is not None and "territory" in ans.frame:
                ans.frame = ans.frame[ans.frame["territory"] == c]
            rec = None
            if ans is not None and not ans.frame.empty:
                recs = {str(pp): x for pp, x in zip(ans.frame["period"], ans.frame.to_dict(orient="records"), strict=True)}
                rec = recs.get(str(year))
                if i == 0:
                    spark = sparkline([v for _, v, _, _ in _series(ans)])
            cells.append(rec)
        if any(cells):
            rows.append({"id": ind, "name": doc[lang]["name"], "unit": doc[lang]["unit"], "cells": cells, "spark": spark})
    return render(request, lang, "territory.html", release=r, code=code, name=row["name"], level=level,
                  columns=columns, rows=rows, year=year, parent=parent)


@router.get("/{lang}/query", response_class=HTMLResponse)
def query_page(request: Request, lang: LangP,
               indicator: Annotated[str | None, Query(pattern=r"^[a-z0-9_]{1,64}$")] = None,
               by: Annotated[list[str] | None, Query(max_length=4)] = None,
               level: Annotated[str | None, Query(pattern="^(national|admin1|admin2)?$")] = None,
               grain: Annotated[str, Query(pattern="^(year|quarter|month)$")] = "year",
               territory: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.-]{0,32}$")] = None,
               from_: Annotated[str | None, Query(alias="from", pattern=r"^(\d{4}(-\d{2})?)?$")] = None,
               to: Annotated[str | None, Query(pattern=r"^(\d{4}(-\d{2})?)?$")] = None,
               sex: Annotated[str | None, Query(pattern=r"^[A-Za-z_]{0,4}$")] = None,
               release: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    r = _release(request, release)
    dims = ["territory", "sex", "age", "weapon_class", "relationship_class", "femicide_class", "source"]
    by = [b for b in (by or []) if b in dims]
    error, ans, chart, downloads = None, None, "", []
    if indicator:
        where: dict[str, list[str]] = {}
        if territory:
            where["territory"] = [territory]
        if from_:
            where["from"] = [from_]
        if to:
            where["to"] = [to]
        if sex:
            where["sex"] = [sex]
        if sex and "sex" not in by:
            by.append("sex")
        ask = Ask.make(indicator, by, level or None, grain, where)
        try:
            ans = service.answer(r, ask, lang)
        except RequestError as e:
            error = str(e)
        if ans is not None:
            fmt = lambda v: number(_v(v), lang)  # noqa: E731
            keys = [k for k in ans.view.by if k != "period"]
            groups: dict[str, list[tuple[str, float | None, float | None, float | None]]] = {}
            for rec in ans.frame.to_dict(orient="records"):
                name = " · ".join(str(rec.get(f"{k}_label") or rec.get("territory_name") or rec[k]) if k != "territory"
                                  else str(rec["territory_name"]) for k in keys) or t("total", lang)
                if rec.get("obs_status") != "P":
                    groups.setdefault(name, []).append((str(rec["period"]), _v(rec["value"]), _v(rec["ci_low"]),
                                                        _v(rec["ci_high"])))
            if 0 < len(groups) <= 8:
                chart = line_chart(list(groups.items()), fmt=fmt, title=r.indicators[indicator][lang]["name"])
            params: list[tuple[str, str]] = [("by", b) for b in ans.view.by if b != "period"]
            if ans.view.level != NATIONAL:
                params.append(("level", ans.view.level))
            params += [("grain", ans.view.grain), ("lang", lang), ("release", r.id)]
            for k, vs in ans.ask.where:
                params += [(k, v) for v in vs]
            for f, label in (("csv", "CSV"), ("xlsx", "XLSX"), ("parquet", "Parquet"), ("sdmx-csv", "SDMX-CSV")):
                downloads.append((label, f"/api/v1/indicators/{indicator}/download?" + urlencode([("format", f), *params])))
    terr = r.territories
    territories = terr[terr.level != r.meta["levels"][0]].sort_values(["level", "code"]).to_dict(orient="records")
    return render(request, lang, "query.html", release=r, indicator=indicator, by=by, level=level or "", grain=grain,
                  territory=territory or "", from_=from_ or "", to=to or "", sex=sex or "", error=error, ans=ans,
                  rows=ans.frame.head(1000).to_dict(orient="records") if ans is not None else [],
                  total=len(ans.frame) if ans is not None else 0, chart=chart, downloads=downloads, dims=dims,
                  territories=territories)


@router.get("/{lang}/quality", response_class=HTMLResponse)
def quality_page(request: Request, lang: LangP, release: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    r = _release(request, release)
    months: dict[str, dict[str, Any]] = {}
    sources = list(r.meta["sources"])
    recs = _safe(r, Ask.make("records_reconciled_share", ["source"], None, "month"), lang) \
        if "records_reconciled_share" in r.indicators else None
    if recs is not None:
        for rec in recs.frame.to_dict(orient="records"):
            m = months.setdefault(str(rec["period"]), {})
            m[f"records:{rec['source']}"] = rec
    victims = _safe(r, Ask.make("homicide_victims", [], None, "month"), lang) if "homicide_victims" in r.indicators else None
    if victims is not None:
        for rec in victims.frame.to_dict(orient="records"):
            months.setdefault(str(rec["period"]), {})["reconciled"] = rec
    fmt = lambda v: number(_v(v), lang)  # noqa: E731
    series: list[tuple[str, list[Point]]] = [(t("reconciled", lang), [(m, _v((v.get("reconciled") or {}).get("value")), None, None)
                                       for m, v in sorted(months.items())])]
    for s in sources:
        series.append((t("records_of", lang, source=s),
                       [(m, _v((v.get(f"records:{s}") or {}).get("denominator")), None, None) for m, v in sorted(months.items())]))
    chart = line_chart(series, fmt=fmt, title=t("quality", lang)) if months else ""
    return render(request, lang, "quality.html", release=r, months=sorted(months.items()), sources=sources, chart=chart)


@router.get("/{lang}/ranking", response_class=HTMLResponse)
def ranking_page(request: Request, lang: LangP, release: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    r = _release(request, release)
    idx = r.analysis.get("index")
    map_svg = ""
    legend: list[tuple[str, str]] = []
    if idx:
        level = r.analysis["level"]
        try:
            geo = r.geojson(level)
        except KeyError:
            geo = None
        if geo is not None:
            map_svg, legend = category_map(
                geo, {row["code"]: row["class"] for row in idx["rows"]}, href=lambda c: f"/{lang}/territories/{c}",
                label=lambda c: t(f"class_{c}", lang), no_data=t("no_data", lang), title=t("ranking", lang))
    return render(request, lang, "ranking.html", release=r, idx=idx, map_svg=map_svg, legend=legend,
                  year=r.analysis.get("year"))


@router.get("/{lang}/points", response_class=HTMLResponse)
def points_page(request: Request, lang: LangP, release: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    import json

    r = _release(request, release)
    layer = r.analysis.get("points") or {}
    map_svg = ""
    legend: list[tuple[str, str]] = []
    if layer.get("cells"):
        cells = layer["cells"]
        map_svg, legend = category_map(
            json.dumps(cells).encode(), {f["properties"]["code"]: f["properties"]["name"] for f in cells["features"]},
            href=lambda c: f"#cell-{c}", label=lambda c: t(f"cluster_{c}", lang), no_data=t("no_data", lang),
            title=t("points", lang))
    return render(request, lang, "points.html", release=r, layer=layer, map_svg=map_svg, legend=legend)


@router.get("/{lang}/downloads", response_class=HTMLResponse)
def downloads_page(request: Request, lang: LangP, release: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    r = _release(request, release)
    items = []
    for ind, doc in r.indicators.items():
        view = main_view(r, ind)
        if view is None:
            continue
        by, level, grain = view.split(".")
        params = [("by", b) for b in by.split("+") if b != "period"] + \
            ([("level", level)] if level != NATIONAL else []) + [("grain", grain), ("lang", lang), ("release", r.id)]
        links = [(label, f"/api/v1/indicators/{ind}/download?" + urlencode([("format", f), *params]))
                 for f, label in (("csv", "CSV"), ("xlsx", "XLSX"), ("parquet", "Parquet"), ("sdmx-csv", "SDMX-CSV"))]
        items.append({"id": ind, "name": doc[lang]["name"], "view": view, "links": links})
    schema = request.app.openapi()
    endpoints = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            fields = [(p["name"], p.get("in", ""), p.get("description", "")) for p in op.get("parameters", [])]
            endpoints.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""), "params": fields})
    return render(request, lang, "downloads.html", release=r, items=items, endpoints=endpoints,
                  conflict_tables=_conflict_tables(r, lang))


def _conflict_tables(r: Release, lang: str) -> list[dict[str, Any]]:
    """The conflict registry's tables with their download links (none when the release has no registry)."""
    from segura.conflicts.publication import TABLES
    from segura.portal.conflicts import (  # the conflict pages import this module
        TABLE_MEDIA,
        registry_of,
    )

    if registry_of(r) is None:
        return []
    return [{"id": table, "name": t(f"conflict_table_{table}", lang),
             "links": [(f.upper(), "/api/v1/conflicts/download?" + urlencode([("table", table), ("format", f), ("release", r.id)]))
                       for f in TABLE_MEDIA]}
            for table in TABLES]


@router.get("/{lang}/releases", response_class=HTMLResponse)
def releases_page(request: Request, lang: LangP, a: Annotated[str | None, Query(max_length=20)] = None,
                  b: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    rs = request.app.state.releases
    all_ = [rs.get(i) for i in reversed(rs.ids())]
    diff = None
    if a and b:
        ra, rb = _release(request, a), _release(request, b)
        diff = (ra, rb, compare(ra, rb))
    return render(request, lang, "releases.html", releases=all_, diff=diff, a=a or "", b=b or "")


# --- administration -------------------------------------------------------------------------

def _session(request: Request, need: str = "analyst") -> Any:
    s = request.app.state.sessions.get(request.cookies.get(SESSION))
    return s if s is not None and RANK.get(s.role, 0) >= RANK[need] else None


@router.get("/{lang}/admin/login", response_class=HTMLResponse)
def login_form(request: Request, lang: LangP) -> HTMLResponse:
    import secrets

    token = secrets.token_urlsafe(32)
    resp = render(request, lang, "login.html", csrf=token, failed=False)
    resp.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path=f"/{lang}/admin")
    return resp


@router.post("/{lang}/admin/login", response_class=HTMLResponse)
def login(request: Request, lang: LangP, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)], csrf: Annotated[str, Form(max_length=128)]) -> Response:
    if not same(csrf, request.cookies.get(LOGIN_CSRF)):
        return render(request, lang, "error.html", status=403, message="CSRF")
    wait = request.app.state.login_limiter.take(request.client.host if request.client else "-")
    if wait:
        raise RequestError(f"too many sign-in attempts; try again in {wait:.0f} s", 429)
    role = authenticate(request.app.state.root, username, password)
    if role is None:
        return render(request, lang, "login.html", status=401, csrf=csrf, failed=True)
    token = request.app.state.sessions.create(username, role)
    resp: Response = RedirectResponse(f"/{lang}/admin", status_code=303)
    resp.set_cookie(SESSION, token, httponly=True, samesite="strict", path="/",
                    secure=request.url.scheme == "https", max_age=int(request.app.state.sessions.hours * 3600))
    resp.delete_cookie(LOGIN_CSRF, path=f"/{lang}/admin")
    return resp


@router.post("/{lang}/admin/logout")
def logout(request: Request, lang: LangP, csrf: Annotated[str, Form(max_length=128)]) -> Response:
    s = _session(request)
    if s is None or not same(csrf, s.csrf):
        return render(request, lang, "error.html", status=403, message="CSRF")
    request.app.state.sessions.end(request.cookies.get(SESSION))
    resp = RedirectResponse(f"/{lang}/", status_code=303)
    resp.delete_cookie(SESSION, path="/")
    return resp


@router.get("/{lang}/admin", response_class=HTMLResponse)
def admin_page(request: Request, lang: LangP) -> Response:
    s = _session(request)
    if s is None:
        return RedirectResponse(f"/{lang}/admin/login", status_code=303)
    r = request.app.state.releases.get() if request.app.state.releases.ids() else None
    loads, queue, busy = _live_status(request.app.state.root)
    if loads is None and r is not None:
        import json

        loads = json.loads((r.path / "loads.json").read_text(encoding="utf-8"))
    users = None
    if RANK[s.role] >= RANK["admin"]:
        from segura.portal.auth import list_users

        users = list_users(request.app.state.root)
    return render(request, lang, "admin.html", release=r, loads=loads or [], queue=queue, busy=busy, users=users,
                  now=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())


def _live_status(root: Path) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None, bool]:
    """The warehouse's loads and review queue, read when no load holds it (record ids only, no names)."""
    import duckdb

    from segura.portal.release import _loads
    from segura.reconcile.review import review_queue
    from segura.workspace import Workspace

    try:
        ws = Workspace.open(root)
        con = duckdb.connect(str(ws.warehouse_path), read_only=True)
    except Exception:  # noqa: BLE001 - a writer holds the file (DuckDB: one writer, no readers)
        return None, None, True
    try:
        lo, hi = ws.settings["reconcile.review_band"]
        pairs = review_queue(con, float(lo), float(hi), 50)
        return _loads(con), [{"a": p.person_id_l, "b": p.person_id_r, "p": p.match_probability, "linked": p.linked}
                             for p in pairs], False
    finally:
        con.close()

