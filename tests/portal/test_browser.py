"""The portal in a real browser (Playwright driving Debian's chromium) against a real server.

A reader's journey in both languages: home -> an indicator's chart and map (tooltip on hover)
-> a municipality's profile -> the query builder -> its CSV download -> the language switch.
On every page: nothing is fetched from another host (no CDN, no tiles), no console error (the
Content-Security-Policy forbids inline scripts and styles, and a violation is a console error),
exactly one h1, html[lang], and a label for every form control. The keyboard reaches the skip
link first and the map's municipalities.

Screenshots of every step go to $SEGURA_SCREENSHOTS, else to a pytest temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect, sync_playwright

from segura.portal.app import create_app
from segura.workspace import Workspace

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
HOST = "127.0.0.1"
INDICATOR = "sdg_16_1_1"
OTHER = {"es": "en", "en": "es"}
NAV = ["/", "/query", "/quality", "/downloads", "/releases", "/admin"]  # the menu, in its order

# the form controls that have no label: neither <label for=id> nor a wrapping <label> (both
# fill `control.labels`), nor aria-label / aria-labelledby
UNLABELLED = """() => [...document.querySelectorAll('select, input:not([type=hidden]), textarea')]
    .filter(c => c.labels.length === 0 && !c.getAttribute('aria-label') && !c.getAttribute('aria-labelledby'))
    .map(c => c.outerHTML.slice(0, 120))"""

# the first municipality with a figure (not C, not "no data") whose own shape is under the centre
# of its box, so that hovering and clicking the link's centre land on it; scrolled into view
HITTABLE_AREA = """areas => {
    for (const a of areas) {
        if (!/\\d/.test(a.dataset.value)) continue;
        a.scrollIntoView({block: 'center', inline: 'center'});
        const r = a.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (hit && hit.closest('a.area') === a) return a.dataset.code;
    }
    return null;
}"""


@pytest.fixture(scope="module")
def base_url(portal_root: Path) -> Iterator[str]:
    """The portal served by uvicorn on a free port of 127.0.0.1, in a background thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(portal_root), log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the portal's server did not start on {HOST}:{port}")
        time.sleep(0.05)
    yield f"http://{HOST}:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium for the module. Missing chromium fails (CI installs it), it does not skip."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need chromium at {CHROMIUM}: run `sudo apt-get install chromium` "
            "(Playwright cannot download its own browser here)",
            pytrace=False,
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def screenshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("SEGURA_SCREENSHOTS")
    folder = Path(env) if env else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nbrowser screenshots: {folder}")
    return folder


@dataclass
class Visit:
    """A page in one language that records what it fetched and what it complained about, and
    checks the basics of every page it reaches (`step`), saving a screenshot of each."""

    page: Page
    lang: str
    base_url: str
    folder: Path
    name: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    steps: int = 0

    def __post_init__(self) -> None:
        self.page.on("request", self._request)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _request(self, req: Request) -> None:
        self.requests.append(req.url)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(f"console error on {self.page.url}: {msg.text}")

    def goto(self, path: str) -> None:
        resp = self.page.goto(self.base_url + path)
        assert resp is not None and resp.ok, f"GET {path}: {resp.status if resp else 'no response'}"

    def step(self, label: str, lang: str | None = None) -> None:
        lang = lang or self.lang
        self.steps += 1
        self.page.screenshot(
            path=self.folder / f"{self.name}-{self.steps:02d}-{label}.png", full_page=True
        )
        where = self.page.url
        assert self.page.locator("html").get_attribute("lang") == lang, where
        assert self.page.locator("h1").count() == 1, (
            f"{where}: {self.page.locator('h1').all_inner_texts()}"
        )
        assert self.page.evaluate(UNLABELLED) == [], f"{where}: form controls without a label"
        here = urlsplit(where)
        same_page = f"/{OTHER[lang]}{here.path[3:]}" + (f"?{here.query}" if here.query else "")
        assert self.page.locator("#lang-switch").get_attribute("href") == same_page, where

    def check_offline_and_quiet(self) -> None:
        """Nothing fetched from another host than the portal's, no console or page error."""
        elsewhere = [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname != HOST
        ]
        assert elsewhere == [], f"requests to other hosts: {elsewhere}"
        assert self.errors == [], "\n".join(self.errors)


@pytest.fixture()
def visit(
    browser: Browser, base_url: str, screenshots: Path, request: pytest.FixtureRequest
) -> Iterator[Visit]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")
    lang = request.node.callspec.params["lang"]
    try:
        yield Visit(page, lang, base_url, screenshots, name)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_reader_journey(visit: Visit, lang: str) -> None:
    page = visit.page
    visit.goto(f"/{lang}/")
    visit.step("home")

    page.locator(f".cards a[href='/{lang}/indicators/{INDICATOR}']").click()
    page.wait_for_url(f"**/{lang}/indicators/{INDICATOR}")
    expect(page.locator("svg.chart polyline").first).to_be_visible()
    areas = page.locator("svg.map a.area")
    assert areas.count() > 0, "the map has no municipalities"
    visit.step("indicator")

    code = areas.evaluate_all(HITTABLE_AREA)
    assert code, "no municipality with a figure can be pointed at on the map"
    area = page.locator(f"svg.map a.area[data-code='{code}']")
    label, value = area.get_attribute("aria-label"), area.get_attribute("data-value")
    assert label and value
    name = label.rsplit(": ", 1)[0]
    area.hover()
    tip = page.locator("#tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(name)
    expect(tip).to_contain_text(value)
    visit.step("tooltip")

    area.click()
    page.wait_for_url(f"**/{lang}/territories/{code}")
    assert page.locator("#profile tbody tr").count() > 0, "the territory profile has no rows"
    expect(page.locator("h1")).to_contain_text(name)
    visit.step("territory")

    page.locator(f"header nav a[href='/{lang}/query']").click()
    page.wait_for_url(f"**/{lang}/query")
    visit.step("query-form")
    page.locator("#q-indicator").select_option(INDICATOR)
    page.locator("#by-sex").check()
    page.locator("#run").click()
    page.wait_for_url(re.compile(rf"/{lang}/query\?.*indicator={INDICATOR}.*"))
    result = page.locator("#result-table tbody tr")
    assert result.count() > 0, "the query returned no rows"
    assert "by=sex" in page.url and page.locator("#by-sex").is_checked()
    visit.step("query-result")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    saved = visit.folder / f"{visit.name}-{download.value.suggested_filename}"
    download.value.save_as(saved)
    body = saved.read_bytes()
    assert body.startswith(b"\xef\xbb\xbfindicator,"), body[:80]
    lines = body.decode("utf-8-sig").splitlines()
    assert len(lines) - 1 == result.count(), (
        f"{len(lines) - 1} rows in the CSV, {result.count()} on the page"
    )
    assert all(line.startswith(INDICATOR + ",") for line in lines[1:]), lines[:3]

    before = urlsplit(page.url)
    page.locator("#lang-switch").click()
    other = OTHER[lang]
    page.wait_for_url(f"**/{other}/query?**")
    after = urlsplit(page.url)
    assert after.path == f"/{other}{before.path[3:]}" and after.query == before.query
    assert page.locator("#result-table tbody tr").count() == result.count()
    visit.step("language-switch", other)

    visit.check_offline_and_quiet()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_keyboard(visit: Visit, lang: str) -> None:
    page = visit.page
    visit.goto(f"/{lang}/indicators/{INDICATOR}")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.getAttribute('href')]"
    )
    assert focused == ["skip", "#main"], f"the first Tab stop is {focused}, not the skip link"
    expect(page.locator("a.skip")).to_be_visible()  # hidden until focused
    visit.step("skip-link")

    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('svg.map a.area')"):
            break
    else:
        pytest.fail("60 Tab presses did not reach a municipality on the map")
    label = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    expect(page.locator("#tip")).to_have_text(label)
    visit.step("map-focus")

    # a given municipality, focused directly, shows its tooltip; Enter follows its link
    area = page.locator("svg.map a.area").last
    code, label = area.get_attribute("data-code"), area.get_attribute("aria-label")
    area.focus()
    assert area.evaluate("a => a === document.activeElement")
    expect(page.locator("#tip")).to_have_text(label or "")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{lang}/territories/{code}")
    visit.step("map-enter")

    visit.check_offline_and_quiet()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page(visit: Visit, lang: str) -> None:
    """The pages of the menu (the last one leads to the sign-in form) and every published
    indicator's page pass the same checks as the journey."""
    for path in NAV:
        visit.goto(f"/{lang}{path}")
        visit.step(path.strip("/") or "home")
    visit.goto(f"/{lang}/query")
    indicators = visit.page.locator("#q-indicator option").evaluate_all(
        "os => os.map(o => o.value)"
    )
    assert INDICATOR in indicators
    for ind in indicators:
        visit.goto(f"/{lang}/indicators/{ind}")
        visit.step(ind)
    visit.check_offline_and_quiet()


@pytest.mark.parametrize("lang", ["en"])
def test_the_checks_see_a_policy_violation(visit: Visit, lang: str) -> None:
    """The console watch is not blind: an inline script, which the Content-Security-Policy
    refuses, fails `check_offline_and_quiet`."""
    visit.goto(f"/{lang}/")
    with visit.page.expect_console_message(lambda m: m.type == "error"):
        visit.page.evaluate("""() => {
            const s = document.createElement('script');
            s.textContent = 'window.inline = 1';
            document.body.append(s);
        }""")
    assert visit.page.evaluate("() => window.inline") is None
    with pytest.raises(AssertionError, match="Content Security Policy"):
        visit.check_offline_and_quiet()


# --- what these tests once found wrong (zero as 0.00, labels cut at the chart's edge, distribution pages) ---


@pytest.mark.parametrize("lang", ["es", "en"])
def test_counts_read_as_whole_numbers(visit: Visit, lang: str) -> None:
    visit.goto(f"/{lang}/query?indicator={INDICATOR}&by=sex")
    header = visit.page.locator("#result-table thead th").all_inner_texts()
    column = header.index({"es": "Casos", "en": "Count"}[lang]) + 1
    counts = visit.page.locator(f"#result-table tbody td:nth-child({column})").all_inner_texts()
    whole = re.compile(r"^(\d{1,3}([\u2009,]\d{3})*|C|–)$")
    assert counts, "the query returned no rows"
    assert [c for c in counts if not whole.match(c.strip())] == []


@pytest.mark.parametrize("lang", ["es", "en"])
def test_chart_labels_fit_in_the_chart(visit: Visit, lang: str) -> None:
    visit.goto(f"/{lang}/indicators/{INDICATOR}")
    outside = visit.page.locator("svg.chart").first.evaluate("""svg => {
        const w = svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBBox()])
            .filter(([, b]) => b.x < 0 || b.x + b.width > w).map(([text]) => text);
    }""")
    assert outside == []


@pytest.mark.parametrize("lang", ["es", "en"])
def test_distribution_indicator_page(visit: Visit, lang: str) -> None:
    visit.goto(f"/{lang}/indicators/victim_perpetrator_relationship")
    visit.step("page")
    assert visit.page.locator("#period option").count() > 0, "no period to choose"
    headings = visit.page.locator("h2").all_inner_texts()
    assert [h for h in headings if h.endswith("None")] == []


# --- the analyst's alerts ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["es", "en"])
def test_analyst_acknowledges_an_alert(visit: Visit, lang: str, demo: Workspace) -> None:
    """Sign in as an analyst, find the alerts in the menu, read the map and the list, open an alert,
    write a note and acknowledge it; the page says so and the alert leaves the open list."""
    from segura.warning.run import detect_alerts
    from tests.portal.conftest import ANALYST

    detect_alerts(demo, ["homicide_victims"], last=6, deliver=False)
    page = visit.page
    visit.goto(f"/{lang}/admin/login")
    page.fill("#username", ANALYST[0])
    page.fill("#password", ANALYST[1])
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(f"**/{lang}/admin")
    page.locator(f"nav a[href='/{lang}/alerts']").click()
    page.wait_for_url(f"**/{lang}/alerts")
    visit.step("alerts")
    expect(page.locator("svg.map a.area").first).to_be_attached()
    rows = page.locator("#alerts tbody tr")
    before = rows.count()
    assert before > 0
    link = rows.nth(before - 1).locator("td a").first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_url(f"**{href}")
    visit.step("alert")
    note = {"es": "Revisado con la fiscalía", "en": "Checked with the prosecutor"}[lang]
    page.fill("#note", note)
    page.locator("#note-form button").click()
    expect(page.locator("#notes")).to_contain_text(note)
    page.locator("#ack").click()
    expect(page.locator("#status")).to_have_text({"es": "reconocida", "en": "acknowledged"}[lang])
    visit.step("acknowledged")
    visit.goto(f"/{lang}/alerts")
    assert page.locator("#alerts tbody tr").count() == before - 1
    visit.check_offline_and_quiet()
