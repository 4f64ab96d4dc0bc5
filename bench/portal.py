"""Benchmark: the portal under load, side by side with Datasette serving the same table, in one run.

Servers, each a subprocess on a free loopback port, started afresh in every round and interleaved
(segura --workers 1, datasette, segura --workers 2, the experiment; reversed in odd rounds):

  segura-w1, segura-w2  `segura serve -w WORKSPACE --workers K` (the workspace must have
                        `[portal] rate_limit = 0`, or the query runs get 429s)
  datasette             `datasette serve -i portal.db`: the published view
                        sdg_16_1_1/territory+period.admin2.year.parquet as one SQLite table
  segura-w1-freeze      an experiment, not the product: `create_app` under uvicorn as `serve` runs
                        it, with mapclassify imported and `gc.freeze()` called before serving, so
                        that full collections no longer walk the ~220,000 objects of the imports

Loads, all `wrk -t2 -c16 --timeout 30s` for --duration seconds (a Lua script reports the
percentiles and the non-2xx answers):

  indicator  segura: /api/v1/indicators/sdg_16_1_1/values?by=territory&level=admin2&year=2015;
             datasette: the same 79 rows, by the table API (?period=2015&_shape=array&_size=max)
             and by SQL (select * ... where period = '2015')
  indicator_gzip  the same with `Accept-Encoding: gzip`, as browsers ask (segura only)
  query      /api/v1/query over 20 valid queries of several indicators, rotated; each is asked
             once in sequence first ("first pass", timed: view read and answer computed), then a
             2 s unrecorded wrk run warms every worker, then the recorded run (answers cached)
  uncached   /api/v1/query over thousands of distinct valid queries, none asked twice: every
             answer is computed (the modeler's own cost, not the answer cache's)
  page       /es/indicators/sdg_16_1_1 in Debian's chromium (Playwright), a fresh browser context
             each time: from goto() until `svg.map a.area` is visible; "cold" is the first request
             a freshly started server answers, "warm" one after 16 loads by 4 clients (so that
             every worker has drawn the page once)

Usage:   .venv/bin/python bench/portal.py --workspace /tmp/bench-portal-ws --duration 10 --repeat 3
Results: printed as Markdown tables; written to bench/results/portal.json if that folder exists.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
INDICATOR = "sdg_16_1_1"
VIEW = "territory+period.admin2.year"
INDICATOR_PATH = f"/api/v1/indicators/{INDICATOR}/values?by=territory&level=admin2&year=2015"
DATASETTE_TABLE_PATH = f"/portal/{INDICATOR}.json?period=2015&_shape=array&_size=max"
SQL = "select * from sdg_16_1_1 where period = '2015'"  # noqa: S608 (a fixed statement, for Datasette's ?sql=)
DATASETTE_SQL_PATH = "/portal.json?" + urlencode({"sql": SQL, "_shape": "array"})
PAGE_PATH = f"/es/indicators/{INDICATOR}"
MAP_AREA = "svg.map a.area"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]

WRK_LUA = r"""
-- Rotates through the paths in the file named by WRK_PATHS (one a line), thread i taking i, i+T, i+2T ...;
-- with no file, asks wrk's own URL. Prints one JSON line of results when done.
local paths, idx, step = {}, 0, 1
local started = 0
function setup(thread)
  thread:set("offset", started)
  started = started + 1
end
function init(args)
  local list = os.getenv("WRK_PATHS")
  if list and list ~= "" then
    for line in io.lines(list) do paths[#paths + 1] = line end
  end
  idx = offset or 0
  step = tonumber(os.getenv("WRK_THREADS") or "1")
end
function request()
  if #paths == 0 then return wrk.format() end
  local p = paths[(idx % #paths) + 1]
  idx = idx + step
  return wrk.format("GET", p)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


# -- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (loopback only)
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@contextlib.contextmanager
def running(cmd: list[str], ready: str, log: Path) -> Iterator[str]:
    """Start `cmd` in its own process group, wait until GET `ready` answers 200, yield the base URL."""
    port = free_port()
    cmd = [c.replace("{port}", str(port)) for c in cmd]
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}; see {log}")
            with contextlib.suppress(OSError):
                if get(base + ready, timeout=2)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(cmd)} not ready after 60 s; see {log}")
            time.sleep(0.1)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the group this script started: uvicorn's workers too
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def segura_cmd(workspace: Path, workers: int) -> list[str]:
    return [str(BIN / "segura"), "serve", "-w", str(workspace), "--port", "{port}", "--workers", str(workers)]


FREEZE = """
import gc, sys
from pathlib import Path
import mapclassify, uvicorn
from segura.portal.app import create_app
app = create_app(Path(sys.argv[1]))
gc.collect()
gc.freeze()
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def freeze_cmd(workspace: Path) -> list[str]:
    return [sys.executable, "-c", FREEZE, str(workspace), "{port}"]


def datasette_cmd(db: Path) -> list[str]:
    return [str(BIN / "datasette"), "serve", "-i", str(db), "--host", "127.0.0.1", "--port", "{port}"]


def write_sqlite(parquet: Path, db: Path) -> int:
    """The published view as one SQLite table (pandas' to_sql on the stdlib sqlite3), indexed on period."""
    import pandas as pd

    frame = pd.read_parquet(parquet)
    db.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(db)) as con:
        frame.to_sql(INDICATOR, con, index=False)
        con.execute(f"CREATE INDEX period_idx ON {INDICATOR} (period)")
        con.commit()
    return len(frame)


# -- the query mixes ------------------------------------------------------------------------------


def catalogue(base: str) -> dict[str, list[str]]:
    status, body = get(base + "/api/v1/indicators")
    assert status == 200, status
    return {i["id"]: i["views"] for i in json.loads(body)["indicators"]}


def territory_codes(workspace: Path) -> dict[str, list[str]]:
    import pandas as pd

    release = sorted(p for p in (workspace / "releases").iterdir() if (p / "release.json").is_file())[-1]
    t = pd.read_csv(release / "territories.csv", dtype=str, keep_default_na=False)
    return {str(level): sorted(g.code) for level, g in t.groupby("level")}


def query_path(indicator: str, view: str, **filters: str) -> str:
    by, level, grain = view.split(".")
    params = [("indicator", indicator)] + [("by", b) for b in by.split("+") if b != "period"]
    if level != "national":
        params.append(("level", level))
    params.append(("grain", grain))
    params += [(k, v) for k, v in filters.items() if v]
    return "/api/v1/query?" + urlencode(params)


PERIODS = ["2014", "2015", "2016", "2014-06", "2015-01", "2015-07", "2016-03"]


def query_mix(views: dict[str, list[str]], codes: dict[str, list[str]], n: int = 20) -> list[str]:
    """`n` different valid queries over every indicator: views of each level and grain, some filtered
    by a state, some by a period range."""
    rng = random.Random(20261205)
    pool = [(i, v) for i, vs in views.items() for v in vs]
    rng.shuffle(pool)
    out = []
    for k, (ind, view) in enumerate(pool[:n]):
        level = view.split(".")[1]
        f: dict[str, str] = {}
        if k % 3 == 1 and level != "national":
            f["territory"] = rng.choice(codes["admin1"])
        if k % 3 == 2:
            f["from"] = "2015"
            f["to"] = "2016-06"
        if k % 2:
            f["lang"] = "es"
        out.append(query_path(ind, view, **f))
    return out


def uncached_mix(views: dict[str, list[str]], codes: dict[str, list[str]], n: int = 40000) -> list[str]:
    """Up to `n` distinct valid queries (shuffled): every view, every territory at or above the view's
    level, several period ranges, both languages."""
    out = []
    for ind, vs in views.items():
        for view in vs:
            level = view.split(".")[1]
            terr = [""] + (codes["admin1"] if level != "national" else []) + (codes["admin2"] if level == "admin2" else [])
            for code in terr:
                for lo in ["", *PERIODS]:
                    for hi in ["", "2016", "2015-12"]:
                        for lang in ("en", "es"):
                            out.append(query_path(ind, view, territory=code, **{"from": lo}, to=hi, lang=lang))
    random.Random(7).shuffle(out)
    return out[:n]


def check_paths(base: str, paths: list[str]) -> list[str]:
    bad = [(p, s) for p in paths for s in [get(base + p)[0]] if s != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} query path(s) do not answer 200, e.g. {bad[:3]}")
    return paths


# -- measurements ---------------------------------------------------------------------------------


def run_wrk(base: str, path: str, lua: Path, duration: int, connections: int, threads: int,
            paths_file: Path | None = None, headers: tuple[str, ...] = ()) -> dict[str, Any]:
    env = {**os.environ, "WRK_PATHS": str(paths_file or ""), "WRK_THREADS": str(threads)}
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "-s", str(lua),
           *[a for h in headers for a in ("-H", h)], base + path]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    r = json.loads(line.removeprefix("WRKJSON "))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


class Browser:
    """Debian's chromium through Playwright; one browser, a fresh context for every page load."""

    def __enter__(self) -> Browser:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        return self

    def __exit__(self, *exc: object) -> None:
        self.browser.close()
        self._pw.stop()

    def load(self, url: str) -> dict[str, float]:
        """Seconds from goto() until the first map area is visible, with the browser's own timings."""
        context = self.browser.new_context()
        try:
            page = context.new_page()
            t = time.perf_counter()
            page.goto(url, wait_until="commit")
            page.wait_for_selector(MAP_AREA, state="visible", timeout=30000)
            wall = time.perf_counter() - t
            nav = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
                return {ttfb: n.responseStart, response_end: n.responseEnd, dcl: n.domContentLoadedEventEnd,
                        bytes: n.transferSize}; }""")
            return {"wall_s": wall, "ttfb_ms": nav["ttfb"], "response_end_ms": nav["response_end"],
                    "dcl_ms": nav["dcl"], "html_bytes": nav["bytes"]}
        finally:
            context.close()


def first_pass(base: str, paths: list[str]) -> dict[str, float]:
    """Each path asked once, in sequence, of a server that has not answered it yet (ms)."""
    ms = []
    for p in paths:
        t = time.perf_counter()
        status, _ = get(base + p)
        ms.append((time.perf_counter() - t) * 1000)
        assert status == 200, (status, p)
    return {"median_ms": statistics.median(ms), "max_ms": max(ms), "total_ms": sum(ms)}


def bench_segura(base: str, opts: argparse.Namespace, lua: Path, browser: Browser | None,
                 mix: Path, mix_paths: list[str], uncached: Path) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    out: dict[str, Any] = {}
    if browser is not None:
        out["page_cold"] = browser.load(base + PAGE_PATH)  # the first request this server answers
        with ThreadPoolExecutor(4) as pool:  # every worker draws the page once
            assert all(s == 200 for s, _ in pool.map(lambda _: get(base + PAGE_PATH), range(16)))
        out["page_warm"] = browser.load(base + PAGE_PATH)
    status, body = get(base + INDICATOR_PATH)
    assert status == 200 and len(json.loads(body)["data"]) == 79, status
    w = (opts.duration, opts.connections, opts.threads)
    out["indicator"] = run_wrk(base, INDICATOR_PATH, lua, *w)
    out["indicator_gzip"] = run_wrk(base, INDICATOR_PATH, lua, *w, headers=("Accept-Encoding: gzip",))
    out["query_first_pass"] = first_pass(base, mix_paths)
    run_wrk(base, "/", lua, 2, opts.connections, opts.threads, mix)  # warm-up, not recorded
    out["query"] = run_wrk(base, "/", lua, *w, mix)
    out["uncached"] = run_wrk(base, "/", lua, *w, uncached)
    return out


def bench_datasette(base: str, opts: argparse.Namespace, lua: Path) -> dict[str, Any]:
    out = {}
    for name, path in (("indicator", DATASETTE_TABLE_PATH), ("indicator_sql", DATASETTE_SQL_PATH)):
        status, body = get(base + path)
        assert status == 200 and len(json.loads(body)) == 79, (status, body[:200])
        out[name] = run_wrk(base, path, lua, opts.duration, opts.connections, opts.threads)
    return out


# -- report ---------------------------------------------------------------------------------------


def med(rounds: list[dict[str, Any]], *keys: str) -> float:
    vals = []
    for r in rounds:
        v: Any = r
        for k in keys:
            v = v[k]
        vals.append(float(v))
    return statistics.median(vals)


def report(results: dict[str, list[dict[str, Any]]], paths: dict[str, int]) -> str:
    lines = ["| server | load | runs | req/s | p50 ms | p99 ms | max ms | non-2xx |", "|---|---|---|---|---|---|---|---|"]
    for server, rounds in results.items():
        for load in ("indicator", "indicator_gzip", "indicator_sql", "query", "uncached"):
            if load not in rounds[0]:
                continue
            bad = sum(r[load]["non2xx"] + r[load]["timeout"] for r in rounds)
            lines.append(f"| {server} | {load} | {len(rounds)} | {med(rounds, load, 'rps'):,.0f} | "
                         f"{med(rounds, load, 'p50_us') / 1000:.1f} | {med(rounds, load, 'p99_us') / 1000:.1f} | "
                         f"{med(rounds, load, 'max_us') / 1000:.0f} | {bad} |")
    lines += ["", "| server | page load | runs | median s | min s | max s | TTFB ms | DOMContentLoaded ms |",
              "|---|---|---|---|---|---|---|---|"]
    for server, rounds in results.items():
        for kind in ("page_cold", "page_warm"):
            if kind not in rounds[0]:
                continue
            walls = [r[kind]["wall_s"] for r in rounds]
            lines.append(f"| {server} | {kind.removeprefix('page_')} | {len(rounds)} | {statistics.median(walls):.3f} | "
                         f"{min(walls):.3f} | {max(walls):.3f} | {med(rounds, kind, 'ttfb_ms'):.0f} | "
                         f"{med(rounds, kind, 'dcl_ms'):.0f} |")
    ds = results.get("datasette")
    if ds:
        lines += ["", "| segura / datasette (indicator, medians) | req/s | p99 |", "|---|---|---|"]
        for server in (s for s in results if s.startswith("segura")):
            for load in ("indicator", "indicator_sql"):
                lines.append(f"| {server} / datasette {'table API' if load == 'indicator' else 'SQL'} | "
                             f"{med(results[server], 'indicator', 'rps') / med(ds, load, 'rps'):.2f}x | "
                             f"{med(results[server], 'indicator', 'p99_us') / med(ds, load, 'p99_us'):.2f}x |")
    lines += ["", "| server | query first pass | runs | median ms | max ms | all 20 ms |", "|---|---|---|---|---|---|"]
    for server, rounds in results.items():
        if "query_first_pass" in rounds[0]:
            lines.append(f"| {server} | sequential, cold | {len(rounds)} | {med(rounds, 'query_first_pass', 'median_ms'):.0f} | "
                         f"{med(rounds, 'query_first_pass', 'max_ms'):.0f} | {med(rounds, 'query_first_pass', 'total_ms'):.0f} |")
    lines += ["", f"query mix: {paths['query']} paths; uncached mix: {paths['uncached']} distinct paths "
              "(uncached requests per run, median: "
              + ", ".join(f"{s} {med(r, 'uncached', 'requests'):,.0f}" for s, r in results.items() if "uncached" in r[0])
              + ")"]
    return "\n".join(lines)


def revision() -> str:
    """The commit measured, and whether src/ differs from it."""
    root = HERE.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=root, capture_output=True, text=True,
                               check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    changed = [d for d in dirty if d.startswith("src/")]
    return f"segura at {head}" + (f" with uncommitted changes to {', '.join(changed)}" if changed else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspace", type=Path, required=True, help="A published workspace (rate_limit = 0).")
    ap.add_argument("--duration", type=int, default=10, help="Seconds of each wrk run.")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads.")
    ap.add_argument("--repeat", type=int, default=3, help="Rounds; each starts every server afresh.")
    ap.add_argument("--workers", default="1,2", help="segura serve --workers values, comma separated.")
    ap.add_argument("--no-browser", action="store_true", help="Skip the page loads.")
    ap.add_argument("--no-experiment", action="store_true", help="Skip segura-w1-freeze.")
    ap.add_argument("--keep", action="store_true", help="Keep the scratch folder (SQLite file, paths, server log).")
    opts = ap.parse_args()
    ws = opts.workspace.resolve()
    release = sorted(p for p in (ws / "releases").iterdir() if (p / "release.json").is_file())[-1]
    tmp = Path(tempfile.mkdtemp(prefix="segura-bench-portal-"))
    log = tmp / "servers.log"
    lua = tmp / "bench.lua"
    lua.write_text(WRK_LUA)
    db = tmp / "portal.db"
    rows = write_sqlite(release / "views" / INDICATOR / f"{VIEW}.parquet", db)
    print(f"release {release.name}; {VIEW}: {rows} rows -> {db}; logs {log}", file=sys.stderr)

    with running(segura_cmd(ws, 1), "/api/v1/health", log) as base:
        views, codes = catalogue(base), territory_codes(ws)
        mix_paths = check_paths(base, query_mix(views, codes))
        many = uncached_mix(views, codes)
        check_paths(base, many[:200])
    mix, uncached = tmp / "query.txt", tmp / "uncached.txt"
    mix.write_text("\n".join(mix_paths) + "\n")
    uncached.write_text("\n".join(many) + "\n")

    servers: list[tuple[str, list[str]]] = [(f"segura-w{w}", segura_cmd(ws, int(w))) for w in opts.workers.split(",")]
    servers.insert(1, ("datasette", datasette_cmd(db)))
    if not opts.no_experiment:
        servers.append(("segura-w1-freeze", freeze_cmd(ws)))
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in servers}
    with contextlib.ExitStack() as stack:
        browser = None if opts.no_browser else stack.enter_context(Browser())
        for rnd in range(opts.repeat):
            order = servers if rnd % 2 == 0 else list(reversed(servers))
            for name, cmd in order:
                ready = "/-/versions.json" if name == "datasette" else "/api/v1/health"
                with running(cmd, ready, log) as base:
                    if name == "datasette":
                        res = bench_datasette(base, opts, lua)
                    else:
                        res = bench_segura(base, opts, lua, browser, mix, mix_paths, uncached)
                results[name].append(res)
                summary = {k: (f"{v['rps']:.0f} req/s p99 {v['p99_us'] / 1000:.1f} ms" if "rps" in v
                               else f"{v['wall_s']:.3f} s" if "wall_s" in v else f"{v['total_ms']:.0f} ms")
                           for k, v in res.items()}
                print(f"round {rnd + 1} {name}: {summary}", file=sys.stderr)

    paths = {"query": len(mix_paths), "uncached": len(many)}
    print(report(results, paths))
    print(f"\n{revision()}; {os.cpu_count()} CPUs; wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s")
    doc = {"settings": {"duration": opts.duration, "connections": opts.connections, "threads": opts.threads,
                        "repeat": opts.repeat, "cpus": os.cpu_count(), "release": release.name,
                        "revision": revision()},
           "paths": {"query": mix_paths, "uncached_count": len(many)}, "results": results}
    results_dir = HERE / "results"
    if results_dir.is_dir():
        (results_dir / "portal.json").write_text(json.dumps(doc, indent=1))
        print(f"written {results_dir / 'portal.json'}", file=sys.stderr)
    if not opts.keep:
        shutil.rmtree(tmp)  # kept when a run fails, for its servers.log


if __name__ == "__main__":
    main()
