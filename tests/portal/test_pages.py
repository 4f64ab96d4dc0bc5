"""The pages, in process: both languages, what each page must show, offline, and the administrators' login."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from segura.portal.auth import users_path
from segura.portal.i18n import number
from tests.portal.conftest import ADMIN, ANALYST


class Links(HTMLParser):
    """Every address a page asks the browser to fetch or follow."""

    def __init__(self) -> None:
        super().__init__()
        self.fetch: list[str] = []
        self.follow: list[str] = []
        self.h1 = 0
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "h1":
            self.h1 += 1
        if tag in ("script", "img") and a.get("src"):
            self.fetch.append(str(a["src"]))
        if tag == "link" and a.get("href"):
            self.fetch.append(str(a["href"]))
        if tag == "a" and a.get("href"):
            self.follow.append(str(a["href"]))


def parse(html: str) -> Links:
    p = Links()
    p.feed(html)
    return p


PAGES = ["/{lang}/", "/{lang}/indicators/sdg_16_1_1", "/{lang}/indicators/femicide_rate?period=2014",
         "/{lang}/territories/11003", "/{lang}/territories/17", "/{lang}/query?indicator=sdg_16_1_1&by=sex",
         "/{lang}/quality", "/{lang}/downloads", "/{lang}/releases", "/{lang}/admin/login"]


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_its_language_offline(client: TestClient, lang: str, page: str) -> None:
    r = client.get(page.format(lang=lang))
    assert r.status_code == 200, r.text[:500]
    links = parse(r.text)
    assert links.lang == lang and links.h1 == 1
    # nothing fetched from elsewhere: no CDN, no fonts, no tiles
    assert all(u.startswith("/") for u in links.fetch), links.fetch
    outside = [u for u in links.follow if u.startswith("http") and "creativecommons.org" not in u]
    assert not outside
    assert "<script>" not in r.text and " style=" not in r.text  # the CSP forbids inline code and styles
    other = "en" if lang == "es" else "es"
    assert any(u.startswith(f"/{other}/") for u in links.follow)  # the language switch


def test_the_root_sends_each_reader_to_their_language(client: TestClient) -> None:
    assert client.get("/", headers={"Accept-Language": "en-GB,en"}, follow_redirects=False).headers["location"] == "/en/"
    assert client.get("/", headers={"Accept-Language": "es-MX"}, follow_redirects=False).headers["location"] == "/es/"


def test_home_compares_last_year_with_this_year(client: TestClient) -> None:
    es = client.get("/es/").text
    en = client.get("/en/").text
    assert "Cómo estaba el año pasado y cómo está hoy (2014 → 2015)" in es
    assert "How it looked last year and how it looks today (2014 → 2015)" in en
    # numbers as each language writes them: 1 445 victims in 2015 (thin space) / 1,445
    victims = client.get("/api/v1/indicators/homicide_victims/values").json()["data"]
    n2015 = int(next(r for r in victims if r["period"] == "2015")["value"])
    assert f"{n2015:,}".replace(",", "\u2009") in es
    assert f"{n2015:,}" in en


def test_indicator_page_map_chart_table_and_method(client: TestClient) -> None:
    html = client.get("/en/indicators/sdg_16_1_1?period=2015").text
    areas = re.findall(r'<a href="/en/territories/(\d+)" class="area" data-code="\d+" data-value="([^"]*)"', html)
    assert len(areas) == 79  # every municipality is a link to its profile
    data = {r["territory"]: r for r in client.get(
        "/api/v1/indicators/sdg_16_1_1/values", params={"by": "territory", "level": "admin2", "year": "2015"}).json()["data"]}
    for code, shown in areas:
        row = data[code]
        if row["conf_status"] == "C":
            assert shown == "C"
        else:
            assert shown == number(row["value"], "en")  # the release's value, as English writes it
    assert 'class="chart"' in html and "<polyline" in html
    assert "Legend" in html and "Confidential (C)" in html
    assert "exact Poisson 95% interval" in html  # the method
    assert 'id="h-sex"' in html and 'id="h-age"' in html  # disaggregation by sex and age


def test_territory_profile_against_state_and_country(client: TestClient) -> None:
    html = client.get("/es/territories/11020").text  # León, Guanajuato
    assert "León" in html and "Guanajuato" in html and "México" in html
    assert html.count('<tr><th scope="row"><a href="/es/indicators/') >= 4


def test_query_builder_shows_a_table_a_chart_and_downloads(client: TestClient) -> None:
    html = client.get("/en/query", params={"indicator": "homicide_victims", "by": "sex", "grain": "year"}).text
    assert 'id="result-table"' in html and 'class="chart"' in html
    downloads = re.findall(r'class="download" href="([^"]+)"', html)
    assert len(downloads) == 4
    for href in downloads:
        r = client.get(href.replace("&amp;", "&"))
        assert r.status_code == 200 and len(r.content) > 100
    refused = client.get("/en/query", params={"indicator": "femicide_rate", "by": ["territory", "age"],
                                              "level": "admin2"}).text
    assert "This breakdown is not published" in refused


def test_quality_page_counts_each_institution_against_the_reconciled(client: TestClient, demo) -> None:  # noqa: ANN001
    html = client.get("/en/quality").text
    for source in ("police", "forensic", "prosecutors"):
        assert f"Records: {source}" in html
    assert html.count('<tr><th scope="row">20') == 25  # 2014-01 .. 2016-01
    with demo.warehouse(read_only=True) as wh:
        police = wh.con.execute("SELECT count(*) FROM person_current WHERE source_id = 'police'").fetchone()[0]
    rows = client.get("/api/v1/indicators/records_reconciled_share/values",
                      params={"by": "source", "grain": "month", "source": "police"}).json()["data"]
    shown = sum(r["denominator"] for r in rows if r["denominator"] is not None)
    assert shown <= police  # suppressed months are left out, never made up


def test_release_comparison_page(client: TestClient, release) -> None:  # noqa: ANN001
    html = client.get("/es/releases", params={"a": release.release_id, "b": release.release_id}).text
    assert f"Cambios entre {release.release_id} y {release.release_id}" in html


# --- administration -------------------------------------------------------------------------------

def _login(c: TestClient, user: str, password: str) -> int:
    form = c.get("/es/admin/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    return c.post("/es/admin/login", data={"username": user, "password": password, "csrf": token},
                  follow_redirects=False).status_code


def test_admin_pages_need_a_login(client: TestClient) -> None:
    r = client.get("/es/admin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/es/admin/login"


def test_passwords_are_stored_as_argon2_hashes(portal_root: Path) -> None:
    users = json.loads(users_path(portal_root).read_text(encoding="utf-8"))
    assert users[ADMIN[0]]["hash"].startswith("$argon2id$")
    assert ADMIN[1] not in users_path(portal_root).read_text(encoding="utf-8")


def test_wrong_password_and_missing_csrf_are_refused(client: TestClient) -> None:
    assert _login(client, ADMIN[0], "not the password") == 401
    assert _login(client, "nobody", "whatever-it-is") == 401
    r = client.post("/es/admin/login", data={"username": ADMIN[0], "password": ADMIN[1], "csrf": "forged"})
    assert r.status_code == 403
    assert client.get("/es/admin", follow_redirects=False).status_code == 303


def test_an_analyst_sees_loads_and_the_review_queue_not_the_users(client: TestClient) -> None:
    assert _login(client, ANALYST[0], ANALYST[1]) == 303
    cookie = client.cookies.get("segura_session")
    assert cookie
    html = client.get("/es/admin").text
    assert 'id="loads"' in html and "police_2014_2015.csv" in html
    assert 'id="queue"' in html
    assert 'id="users"' not in html


def test_an_admin_sees_the_users_and_signs_out_with_csrf(client: TestClient) -> None:
    assert _login(client, ADMIN[0], ADMIN[1]) == 303
    html = client.get("/en/admin").text
    assert 'id="users"' in html and ANALYST[0] in html
    assert client.post("/en/admin/logout", data={"csrf": "forged"}).status_code == 403
    token = re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert client.post("/en/admin/logout", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get("/en/admin", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_httponly_and_strict(client: TestClient) -> None:
    form = client.get("/es/admin/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    r = client.post("/es/admin/login", data={"username": ADMIN[0], "password": ADMIN[1], "csrf": token},
                    follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_a_session_is_known_to_every_worker(portal_root: Path, client: TestClient) -> None:
    """`segura serve --workers 2`: a sign-in answered by one process holds on the other."""
    from segura.portal.app import create_app

    assert _login(client, ADMIN[0], ADMIN[1]) == 303
    with TestClient(create_app(portal_root, rate_limit=0)) as other:
        other.cookies.set("segura_session", client.cookies.get("segura_session") or "")
        assert other.get("/en/admin", follow_redirects=False).status_code == 200
    stored = (portal_root / "portal_sessions.sqlite").read_bytes()
    assert (client.cookies.get("segura_session") or "").encode() not in stored  # only its SHA-256
