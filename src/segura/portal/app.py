"""The portal application: `create_app(workspace_root)` serves the workspace's releases.

It reads only `releases/` (and, for the signed-in administrators' page, the warehouse when no
load holds it), so loads and `segura publish` can run while it serves; a new release is
served as soon as it is complete.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from segura import __version__
from segura.portal import alerts, api, conflicts, pages
from segura.portal.auth import Sessions
from segura.portal.release import Releases
from segura.portal.security import RateLimiter, SecurityHeaders
from segura.portal.service import RequestError
from segura.workspace import Workspace

STATIC = Path(__file__).parent / "static"


@asynccontextmanager
async def warm(app: FastAPI) -> AsyncIterator[None]:
    """Pay the first-request costs (the latest release's metadata, the class-break library) at start."""
    import mapclassify  # noqa: F401

    if app.state.releases.ids():
        app.state.releases.get()
    # the imports leave ~220,000 long-lived objects; every full collection walked them all (~110 ms
    # pauses: the indicator endpoint's p99, bench/README.md). Freeze them out of the collector's sight.
    gc.collect()
    gc.freeze()
    yield


def create_app(root: Path, *, rate_limit: int | None = None) -> FastAPI:
    ws = Workspace.open(root)
    app = FastAPI(
        lifespan=warm,
        title="Segura open data API",
        version=__version__,
        description=("Citizen security indicators of the observatory, as published: every figure after disclosure "
                     "control, with the release it comes from. Spanish and English (lang=es|en)."),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; the portal documents the API on /{lang}/downloads
        redoc_url=None,
    )
    app.state.root = ws.root
    app.state.settings = ws.settings
    app.state.releases = Releases(ws.root)
    app.state.cache = api.Cache()
    app.state.sessions = Sessions(ws.root / "portal_sessions.sqlite", float(ws.settings["portal.session_hours"]))
    app.state.limiter = RateLimiter(int(ws.settings["portal.rate_limit"] if rate_limit is None else rate_limit))
    app.state.login_limiter = RateLimiter(10)
    app.include_router(api.router)
    app.include_router(alerts.api)  # before the pages: /api/v1/alerts.atom is not an indicator
    app.include_router(conflicts.api)
    app.include_router(pages.router)
    app.include_router(conflicts.pages)
    app.include_router(alerts.pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> Response:
        if request.url.path.startswith("/api/"):
            return api.problem(request, exc)
        lang = "es" if request.url.path.startswith("/es") else "en"
        resp = pages.render(request, lang, "error.html", status=exc.status, message=str(exc))
        if exc.status == 429:
            resp.headers["Retry-After"] = "60"
        return resp

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        lang = "es" if request.url.path.startswith("/es") else "en"
        return pages.render(request, lang, "error.html", status=exc.status_code, message=str(exc.detail))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml")

    @app.get("/robots.txt", include_in_schema=False, response_class=HTMLResponse)
    def robots() -> Response:
        return Response("User-agent: *\nDisallow: /es/admin\nDisallow: /en/admin\n", media_type="text/plain")

    # pages and GeoJSON compress ~5x: what a slow connection needs (only when the client asks for it)
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=6)  # 9 costs twice the time for 1% less
    app.add_middleware(SecurityHeaders)
    return app


def serve(root: Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    import uvicorn

    if workers > 1:
        import os

        os.environ["SEGURA_WORKSPACE"] = str(root)
        uvicorn.run("segura.portal.app:from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", access_log=False)
    else:
        uvicorn.run(create_app(root), host=host, port=port, log_level="warning", access_log=False)


def from_env() -> FastAPI:
    import os

    return create_app(Path(os.environ["SEGURA_WORKSPACE"]))
