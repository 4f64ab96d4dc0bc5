"""The conflict registry in a release, on the portal and in the API, over the demo's Bolivian
conflict deaths (Ultimate Consequences): what the importer reported is what the release holds,
the pages show it in both languages with a timeline and a score whose parts add up, the filters
filter, and nothing the mapping forbids reaches a release."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, get_args

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from segura.conflicts import import_events, load_mapping
from segura.conflicts.importers import NAME_COLUMNS, ImportReport
from segura.conflicts.publication import PARTS, TABLES
from segura.conflicts.registry import (
    PHASES,
    Commitment,
    add_agreement,
    add_event,
    change_phase,
    create_conflict,
)
from segura.portal.app import create_app
from segura.portal.conflicts import PhaseName
from segura.portal.release import PublishReport, Release
from segura.sample import packaged_path
from segura.workspace import Workspace
from tests.portal.test_browser import Visit, base_url, browser, screenshots, visit  # noqa: F401 (fixtures)

CITATION = "Ultimate Consequences database (Carwil Bjork-James et al.)"
FORBIDDEN = NAME_COLUMNS | set(load_mapping("ucbo_deaths")["forbidden"])


@pytest.fixture(scope="module")
def reported() -> ImportReport:
    """What the importer reports for the shipped file (on a warehouse of its own)."""
    con = duckdb.connect()
    try:
        return import_events(con, packaged_path("bo_conflict_deaths.csv"), load_mapping("ucbo_deaths"))
    finally:
        con.close()


@pytest.fixture(scope="module")
def tables(release: PublishReport) -> dict[str, pd.DataFrame]:
    return {name: pq.read_table(release.path / "conflicts" / f"{name}.parquet").to_pandas() for name in TABLES}


@pytest.fixture(scope="module")
def about(release: PublishReport) -> dict[str, Any]:
    return dict(json.loads((release.path / "conflicts" / "registry.json").read_text(encoding="utf-8")))


class Page(HTMLParser):
    """What the tests read of a page: headings, tables (caption, header scopes, rows), SVGs (their
    title and desc, the timeline's marks) and the score parts' numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.h1 = 0
        self.tables: dict[str, dict[str, Any]] = {}
        self.svgs: list[dict[str, Any]] = []
        self.table: dict[str, Any] | None = None
        self.stack: list[str] = []
        self.cell: list[str] | None = None
        self.cell_class = ""
        self.row: list[tuple[str, str]] | None = None
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang")
        self.h1 += tag == "h1"
        if tag == "table":
            self.table = {"caption": "", "th": [], "rows": [], "id": a.get("id", "")}
            self.tables[a.get("id") or f"table-{len(self.tables)}"] = self.table
        if self.table is not None:
            if tag == "caption":
                self._capture = "caption"
            if tag == "tr":
                self.row = []
            if tag in ("td", "th"):
                self.cell, self.cell_class = [], a.get("class", "")
                if tag == "th":
                    self.table["th"].append(a.get("scope"))
        if tag == "svg" and a.get("role"):
            self.svgs.append({"class": a.get("class", ""), "role": a["role"], "title": "", "desc": "", "circles": 0,
                              "diamonds": 0, "links": 0, "labelledby": a.get("aria-labelledby", "")})
        if self.svgs and "svg" in self.stack:
            if tag in ("title", "desc") and self.stack[-1] == "svg":
                self._capture = f"svg-{tag}"
            svg = self.svgs[-1]
            svg["circles"] += tag == "circle"
            svg["diamonds"] += tag == "path" and a.get("fill") == "#b2182b"
            svg["links"] += tag == "a"
        # a decorative SVG (a legend's swatch, aria-hidden, no role) is not counted as part of a chart
        self.stack.append("swatch" if tag == "svg" and not a.get("role") else tag)

    def handle_endtag(self, tag: str) -> None:
        ends = ("svg", "swatch") if tag == "svg" else (tag,)
        while self.stack and self.stack.pop() not in ends:
            pass
        if tag in ("caption", "title", "desc"):
            self._capture = None
        if self.table is not None and tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append((" ".join("".join(self.cell).split()), self.cell_class))
            self.cell = None
        if self.table is not None and tag == "tr" and self.row is not None:
            self.table["rows"].append(self.row)
            self.row = None
        if tag == "table":
            self.table = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self._capture == "caption" and self.table is not None:
            self.table["caption"] += data
        elif self._capture == "svg-title":
            self.svgs[-1]["title"] += data
        elif self._capture == "svg-desc":
            self.svgs[-1]["desc"] += data


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    return p


def read_number(text: str) -> float:
    """A number as the portal writes it in either language: '0,600' or '0.600', '1 234' or '1,234'."""
    text = text.replace("\u2009", "").replace("×", "").strip()
    if "," in text and "." not in text and re.fullmatch(r"-?\d+,\d+", text):
        text = text.replace(",", ".")
    return float(text.replace(",", ""))


# --- the demo and the release ---------------------------------------------------------------------

def test_the_package_ships_only_the_columns_the_mapping_reads() -> None:
    header = packaged_path("bo_conflict_deaths.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert set(header) == set(load_mapping("ucbo_deaths")["columns"].values())
    assert not set(header) & FORBIDDEN


def test_the_release_holds_what_the_importer_reported(release: PublishReport, reported: ImportReport,
                                                      tables: dict[str, pd.DataFrame], about: dict[str, Any]) -> None:
    assert reported.rows_read == reported.rows_imported + reported.rows_rejected == 669
    r = Release(release.path)
    assert r.verify() == []
    assert {f"conflicts/{name}.parquet" for name in TABLES} | {"conflicts/registry.json"} <= set(r.meta["files"])
    assert len(tables["conflicts"]) == reported.conflicts == r.meta["conflicts"]["conflicts"] == 168
    assert len(tables["events"]) == reported.events == r.meta["conflicts"]["events"] == 209
    assert tables["events"]["deaths"].sum() == tables["conflicts"]["deaths"].sum() == reported.rows_imported
    assert len(tables["parts"]) == len(PARTS) * len(tables["conflicts"])
    (source,) = about["sources"]
    assert CITATION in source["citation"] and CITATION in r.meta["conflicts"]["sources"][0]
    assert (source["rows_read"], source["rows_imported"], source["rows_rejected"]) == \
        (reported.rows_read, reported.rows_imported, reported.rows_rejected)
    # scored as of the source's last event (not the publication date), recorded per row
    last = max(tables["events"]["occurred_on"])
    assert set(tables["conflicts"]["as_of"]) == {last} and source["as_of"] == last.isoformat()
    assert (tables["conflicts"]["score"] > 0).any()
    by_conflict = tables["parts"].groupby("conflict_id")["contribution"].sum()
    scores = tables["conflicts"].set_index("conflict_id")["score"]
    assert (by_conflict - scores).abs().max() < 1e-3
    assert sum(d["conflicts"] for d in about["indicators"]["by_demand"]) == 168


def test_nothing_the_mapping_forbids_reaches_a_release(release: PublishReport) -> None:
    """No column (Parquet, CSV) and no key (JSON) of any file of the release is a forbidden column;
    the events lose the row numbers of the source file."""
    seen: set[str] = set()

    def keys(doc: Any) -> None:
        if isinstance(doc, dict):
            seen.update(str(k) for k in doc)
            for v in doc.values():
                keys(v)
        elif isinstance(doc, list):
            for v in doc:
                keys(v)

    for p in release.path.rglob("*"):
        if p.suffix == ".parquet":
            seen.update(pq.read_schema(p).names)
        elif p.suffix == ".csv":
            seen.update(p.read_text(encoding="utf-8").splitlines()[0].split(","))
        elif p.suffix in (".json", ".geojson"):
            keys(json.loads(p.read_text(encoding="utf-8")))
    assert "event_title" not in seen and "source_rows" not in seen
    assert not seen & FORBIDDEN, seen & FORBIDDEN


# --- pages ----------------------------------------------------------------------------------------

def test_the_menu_leads_to_the_registry(client: TestClient) -> None:
    for lang, words in (("es", "Conflictos sociales"), ("en", "Social conflicts")):
        html = client.get(f"/{lang}/").text
        assert f'<a href="/{lang}/conflicts"' in html and words in html


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_registry_page(client: TestClient, lang: str, tables: dict[str, pd.DataFrame]) -> None:
    r = client.get(f"/{lang}/conflicts")
    assert r.status_code == 200 and r.headers["content-language"] == lang
    page = parse(r.text)
    assert page.lang == lang and page.h1 == 1
    listing = page.tables["conflict-table"]
    assert len(listing["rows"]) == 1 + len(tables["conflicts"])  # the header row and one per conflict
    # every table has a caption and its header cells a scope
    for table in page.tables.values():
        assert table["caption"].strip(), table["id"]
        assert all(scope in ("col", "row", "rowgroup") for scope in table["th"]), table["id"]
    # sorted by escalation score, highest first
    scores = [read_number(row[8][0]) for row in listing["rows"][1:]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    charts = [s for s in page.svgs if "chart" in s["class"]]
    assert len(charts) == 2 and all(s["title"].strip() and s["desc"].strip() for s in charts)
    assert CITATION in r.text
    words = {"es": ("Tasa de escalada", "Conflictos por tipo de demanda", "Puntuado al"),
             "en": ("Escalation rate", "Conflicts by demand type", "Scored as of")}[lang]
    assert all(w in r.text for w in words)
    assert "{" not in re.sub(r"<[^>]+>", "", r.text)  # no message left unformatted


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_conflicts_page_shows_its_timeline_and_its_score_with_parts(
        client: TestClient, lang: str, tables: dict[str, pd.DataFrame]) -> None:
    conflicts = tables["conflicts"]
    busiest = int(conflicts.sort_values("events", ascending=False)["conflict_id"].iloc[0])
    highest = int(conflicts.sort_values("score", ascending=False)["conflict_id"].iloc[0])
    for cid in (busiest, highest):
        row = conflicts[conflicts["conflict_id"] == cid].iloc[0]
        events = tables["events"][tables["events"]["conflict_id"] == cid]
        r = client.get(f"/{lang}/conflicts/{cid}")
        assert r.status_code == 200, r.text[:300]
        page = parse(r.text)
        assert page.h1 == 1 and page.lang == lang
        (svg,) = [s for s in page.svgs if "timeline" in s["class"]]
        assert svg["title"].strip() and svg["desc"].strip()
        assert svg["labelledby"] == "timeline-title"
        forceful = int(events["forceful"].sum())
        assert svg["diamonds"] == forceful and svg["circles"] == len(events) - forceful
        assert svg["links"] == len(events)  # every mark leads to its row
        assert len(page.tables["events-table"]["rows"]) == 1 + len(events)
        parts = page.tables["score-parts"]
        body = [row_ for row_ in parts["rows"][1:-1]]
        assert [cells[0][0] for cells in body] == [
            {"es": n_es, "en": n_en}[lang] for n_es, n_en in (("Actividad en aumento", "Rising activity"),
                                                              ("Confrontación", "Confrontation"),
                                                              ("Fuerza del Estado", "State force"),
                                                              ("Compromisos incumplidos", "Unmet commitments"))]
        shown = [read_number(cells[5][0]) for cells in body]
        total = read_number(parts["rows"][-1][-1][0])
        assert total == pytest.approx(row["score"], abs=5e-4)
        assert sum(shown) == pytest.approx(total, abs=2e-3)
        for cells in body:  # value x weight = contribution, as shown
            value, weight, contribution = (read_number(c[0]) for c in cells[3:6])
            assert value * weight == pytest.approx(contribution, abs=2e-3)
        assert row["as_of"].isoformat() in parts["caption"]
        quiet = (row["as_of"] - row["last_event_on"]).days >= 90
        assert ('id="score-quiet"' in r.text) == quiet  # a zero explained: nothing in the score's windows
    words = {"es": ("Línea de tiempo", "Respuesta del Estado", "Historia de fases", "enfrentamiento"),
             "en": ("Timeline", "State response", "Phase history", "clash")}[lang]
    assert all(w in r.text for w in words)


def test_filters(client: TestClient, tables: dict[str, pd.DataFrame]) -> None:
    c = tables["conflicts"]
    cases: list[tuple[dict[str, str], pd.Series]] = [
        ({"demand": "coca"}, c["demand_type"] == "coca"),
        ({"level": "high"}, c["level"] == "high"),
        ({"country": "BO", "phase": "escalation"}, (c["country"] == "BO") & (c["phase"] == "escalation")),
        ({"demand": "mining", "level": "low"}, (c["demand_type"] == "mining") & (c["level"] == "low")),
        ({"demand": "mining", "level": "high"}, (c["demand_type"] == "mining") & (c["level"] == "high")),
    ]
    for params, expected in cases:
        n = int(expected.sum())
        page = parse(client.get("/en/conflicts", params={"country": "", "phase": "", **params}).text)
        assert len(page.tables["conflict-table"]["rows"][1:] if n else []) == n, params
        api = client.get("/api/v1/conflicts", params=params).json()
        assert api["total"] == n and api["filters"] == params, params
        assert {d["conflict_id"] for d in api["data"]} == set(c.loc[expected, "conflict_id"]), params
    assert 0 < int(cases[0][1].sum()) < len(c)  # the filters do remove conflicts
    none = client.get("/es/conflicts?phase=resolved")
    assert none.status_code == 200 and 'id="no-match"' in none.text
    assert client.get("/en/conflicts?level=extreme").status_code == 422
    assert client.get("/api/v1/conflicts", params={"phase": "war"}).status_code == 422
    assert client.get("/api/v1/conflicts", params={"country": "bolivia"}).status_code == 422
    assert set(get_args(PhaseName)) == set(PHASES)  # the API's list of phases is the registry's


# --- API ------------------------------------------------------------------------------------------

def test_the_api(client: TestClient, release: PublishReport, tables: dict[str, pd.DataFrame]) -> None:
    listing = client.get("/api/v1/conflicts")
    assert listing.status_code == 200
    doc = listing.json()
    assert doc["release"]["id"] == release.release_id and doc["total"] == len(tables["conflicts"])
    assert CITATION in doc["sources"][0]["citation"]
    scores = [d["score"] for d in doc["data"]]
    assert scores == sorted(scores, reverse=True)
    tag = listing.headers["etag"]
    assert client.get("/api/v1/conflicts", headers={"If-None-Match": tag}).status_code == 304
    page2 = client.get("/api/v1/conflicts", params={"limit": 10, "offset": 10}).json()
    assert [d["conflict_id"] for d in page2["data"]] == [d["conflict_id"] for d in doc["data"][10:20]]

    cid = doc["data"][0]["conflict_id"]
    one = client.get(f"/api/v1/conflicts/{cid}", params={"lang": "es", "release": release.release_id})
    assert one.status_code == 200 and "immutable" in one.headers["cache-control"]
    c = one.json()
    assert c["release"]["id"] == release.release_id and c["conflict"]["conflict_id"] == cid
    assert [p["part"] for p in c["score"]["parts"]] == list(PARTS)
    assert sum(p["contribution"] for p in c["score"]["parts"]) == pytest.approx(c["score"]["score"], abs=1e-3)
    assert c["events"] and c["phases"] and c["source"]["citation"].startswith(CITATION)
    assert c["score"]["parts"][0]["measured"].startswith("eventos en los últimos 30 días")  # in the language asked

    missing = client.get("/api/v1/conflicts/999999")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no conflict 999999 in this release; the ids are listed at /api/v1/conflicts"
    assert client.get("/en/conflicts/999999").status_code == 404
    assert client.get("/api/v1/conflicts/0").status_code == 422
    assert client.get("/api/v1/conflicts", params={"release": "1999-01-01"}).status_code == 404

    ind = client.get("/api/v1/conflicts/indicators").json()
    assert ind["release"]["id"] == release.release_id
    assert ind["escalation_rate"]["conflicts"] == len(tables["conflicts"])
    assert sum(m["conflicts"] for m in ind["by_month"]) == len(tables["conflicts"])
    assert ind["overdue_agreements"] == [] and ind["resolved_by_agreement"]["resolved"] == 0


def test_the_registry_downloads(client: TestClient, release: PublishReport, tables: dict[str, pd.DataFrame]) -> None:
    """A journalist takes each table from the downloads page, in every format, and gets what the release holds."""
    import html
    import io

    from openpyxl import load_workbook

    page = client.get("/es/downloads").text
    section = page[page.index('id="conflict-downloads"'):]
    section = section[:section.index("</table>")]
    links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', section)]
    assert len(links) == 3 * len(TABLES)
    for href in links:
        r = client.get(href)
        assert r.status_code == 200, (href, r.text[:200])
        assert "attachment" in r.headers["content-disposition"] and "immutable" in r.headers["cache-control"]
        table = re.search(r"table=(\w+)", href).group(1)  # type: ignore[union-attr]
        fmt = re.search(r"format=(\w+)", href).group(1)  # type: ignore[union-attr]
        expected = tables[table]
        if fmt == "csv":
            got = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig", keep_default_na=False)
        elif fmt == "parquet":
            got = pq.read_table(io.BytesIO(r.content)).to_pandas()
            meta = json.loads(pq.read_schema(io.BytesIO(r.content)).metadata[b"segura"])
            assert meta["release"] == release.release_id and CITATION in meta["source 1"]
        else:
            wb = load_workbook(io.BytesIO(r.content), read_only=True)
            assert wb.sheetnames == [table, "about"]
            about = dict(wb["about"].iter_rows(min_row=2, values_only=True))
            assert about["release"] == release.release_id and CITATION in about["source 1"]
            assert about["licence"] == "https://creativecommons.org/licenses/by/4.0/"
            rows = list(wb[table].iter_rows(values_only=True))
            got = pd.DataFrame(rows[1:], columns=rows[0])
        assert list(got.columns) == list(expected.columns) and len(got) == len(expected), (table, fmt)
        if "conflict_id" in expected:
            assert sorted(got["conflict_id"].astype(int)) == sorted(expected["conflict_id"].astype(int))
    conflicts = pd.read_csv(io.BytesIO(client.get("/api/v1/conflicts/download").content), encoding="utf-8-sig")
    assert conflicts["conflict_id"].is_monotonic_increasing  # the registry's order, not the page's
    assert set(FORBIDDEN).isdisjoint(conflicts.columns)
    assert client.get("/api/v1/conflicts/download", params={"table": "conflict_source"}).status_code == 422
    assert client.get("/api/v1/conflicts/download", params={"format": "sdmx-csv"}).status_code == 422

    catalogue = client.get("/api/v1/dcat").json()
    (registry,) = [d for d in catalogue["dcat:dataset"] if d["dct:identifier"] == "conflict_registry"]
    assert registry["dct:spatial"] == [{"@id": "http://publications.europa.eu/resource/authority/country/BOL"}]
    assert any(CITATION in s for s in registry["dct:source"])
    urls = [d["dcat:downloadURL"]["@id"] for d in registry["dcat:distribution"]]
    assert len(urls) == 3 * len(TABLES)
    assert client.get(urls[0].replace("http://testserver", "")).status_code == 200


# --- a registry with actors and agreements, and a workspace without one ---------------------------------

@pytest.fixture(scope="module")
def other(demo: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the demo workspace whose registry is emptied (release 1), then holds one conflict
    entered by hand with actors, an agreement and its commitments (release 2)."""
    root = tmp_path_factory.mktemp("other") / "ws"
    shutil.copytree(demo.root, root, ignore=shutil.ignore_patterns("releases", "cache", "*.wal"))
    ws = Workspace.open(root)
    with ws.warehouse() as wh:
        for table in ("commitment", "agreement", "conflict_phase", "conflict_event", "conflict_actor", "conflict"):
            wh.con.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
    ws.publish(indicators=["homicide_victims"])
    with ws.warehouse() as wh:
        con = wh.con
        cid = create_conflict(con, "Water for San Isidro", demand_type="public_services", country="CR",
                              admin1="San José", started_on=dt.date(2024, 1, 10),
                              claimants=[("Vecinos de San Isidro", "neighbours")],
                              counterparts=[("AyA", "utility")])
        for day, kind, response in ((dt.date(2024, 1, 10), "declaration", "none"),
                                    (dt.date(2024, 3, 1), "march", "police_presence"),
                                    (dt.date(2024, 3, 20), "blockade", "eviction")):
            add_event(con, cid, day, kind, state_response=response, description=f"{kind} at the plant")
        change_phase(con, cid, "escalation", dt.date(2024, 3, 20), "blockade evicted")
        add_agreement(con, cid, dt.date(2024, 2, 1), [
            Commitment("Water trucks every day", deadline=dt.date(2024, 2, 15), responsible="AyA"),
            Commitment("Repair the main", deadline=dt.date(2024, 3, 1), responsible="AyA", fulfilled=True,
                       fulfilled_on=dt.date(2024, 2, 28))], description="Mesa de diálogo")
    ws.publish(indicators=["homicide_victims"])
    yield root


def test_a_release_without_a_registry(other: Path) -> None:
    first = Release(sorted((other / "releases").iterdir())[0])
    assert first.meta["conflicts"] is None and not (first.path / "conflicts").exists() and first.verify() == []
    with TestClient(create_app(other, rate_limit=0)) as c:
        page = c.get(f"/en/conflicts?release={first.id}")
        assert page.status_code == 200 and 'id="no-registry"' in page.text
        api = c.get("/api/v1/conflicts", params={"release": first.id})
        assert api.status_code == 404 and "has no conflict registry" in api.json()["detail"]
        assert c.get("/api/v1/conflicts/indicators", params={"release": first.id}).status_code == 404
        assert c.get("/api/v1/conflicts/download", params={"release": first.id}).status_code == 404
        assert 'id="conflict-downloads"' not in c.get(f"/en/downloads?release={first.id}").text
        catalogue = c.get("/api/v1/dcat", params={"release": first.id}).json()
        assert "conflict_registry" not in [d["dct:identifier"] for d in catalogue["dcat:dataset"]]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_conflict_with_actors_and_agreements(other: Path, lang: str) -> None:
    with TestClient(create_app(other, rate_limit=0)) as c:
        doc = c.get("/api/v1/conflicts").json()
        (row,) = doc["data"]
        assert row["as_of"] == "2024-03-20"  # its country's last event, not the publication date
        r = c.get(f"/{lang}/conflicts/{row['conflict_id']}")
        assert r.status_code == 200
        page = parse(r.text)
        assert "Vecinos de San Isidro" in r.text and "AyA" in r.text
        agreements = page.tables["agreements-table"]["rows"]
        assert len(agreements) == 3  # the header and two commitments
        overdue = {"es": "vencido hace", "en": "overdue by"}[lang]
        fulfilled = {"es": "cumplido el 2024-02-28", "en": "fulfilled on 2024-02-28"}[lang]
        assert overdue in r.text and fulfilled in r.text
        parts = {cells[0][0]: read_number(cells[3][0]) for cells in page.tables["score-parts"]["rows"][1:-1]}
        unmet = {"es": "Compromisos incumplidos", "en": "Unmet commitments"}[lang]
        assert parts[unmet] == pytest.approx(0.5)  # of two commitments due, one was not met
        assert len(page.tables["phases-table"]["rows"]) == 3
        listing = c.get(f"/{lang}/conflicts").text
        assert 'id="overdue-table"' in listing and "Water trucks every day" in listing


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["es", "en"])
def test_in_a_browser(visit: Visit, lang: str) -> None:  # noqa: F811 (the imported fixture)
    """The registry, filtered with the form, then a conflict whose timeline marks the keyboard
    reaches and follows to their rows; no console error (the Content-Security-Policy refuses
    inline styles), every control labelled, one h1, the language switch to the same page."""
    page = visit.page
    visit.goto(f"/{lang}/conflicts")
    visit.step("conflicts")
    page.select_option("#f-demand", "mining")
    page.locator("#conflict-filters button[type=submit]").click()
    page.wait_for_url("**/conflicts?*demand=mining*")
    visit.step("filtered")
    demands = page.locator("#conflict-table tbody td:nth-child(3)").all_inner_texts()
    assert demands and set(demands) == {{"es": "minería", "en": "mining"}[lang]}
    page.locator("#conflict-table tbody th a").first.click()
    page.wait_for_url(f"**/{lang}/conflicts/*")
    visit.step("conflict")
    mark = page.locator("svg.timeline a").first
    mark.focus()
    assert mark.evaluate("a => a === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url("**#event-*")
    target = page.evaluate("() => document.querySelector(':target') && document.querySelector(':target').id")
    assert target and target.startswith("event-")
    visit.check_offline_and_quiet()

