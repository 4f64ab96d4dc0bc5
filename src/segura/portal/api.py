"""The REST API, /api/v1: the catalogue, values, the query modeler, territories, downloads,
DCAT, releases and health. Every answer names the release it comes from.

Answers to the same question of the same release never change, so they are kept (a bounded
LRU of encoded bodies) and carry an ETag; `?release=<id>` answers are cacheable for a year.
"""

from __future__ import annotations

import json
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from segura.indicators.query import Query as ModelQuery
from segura.portal import service
from segura.portal.diff import compare
from segura.portal.release import GRAINS, Release
from segura.portal.security import etag, matches
from segura.portal.service import Ask, RequestError

Lang = Literal["es", "en"]
Grain = Literal["year", "quarter", "month"]
Format = Literal["csv", "xlsx", "parquet", "sdmx-csv", "json"]
MEDIA = {"csv": "text/csv; charset=utf-8", "sdmx-csv": "application/vnd.sdmx.data+csv; version=2.0.0; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "parquet": "application/vnd.apache.parquet", "json": "application/json"}
EXT = {"csv": "csv", "sdmx-csv": "sdmx.csv", "xlsx": "xlsx", "parquet": "parquet", "json": "json"}
ID = r"^[a-z0-9_]{1,64}$"
CODE = r"^[A-Za-z0-9_.-]{1,32}$"
RELEASE = r"^\d{4}-\d{2}-\d{2}(-\d{1,3})?$"
DIM_VALUE = r"^[A-Za-z0-9_+.-]{1,64}$"
PERIOD = r"^\d{4}(-(0[1-9]|1[0-2]))?$"


class Problem(BaseModel):
    detail: str


class QueryBody(BaseModel):
    """The query modeler: an indicator broken down by dimensions, at a level and grain, filtered."""

    indicator: str = Field(pattern=ID, examples=["sdg_16_1_1"])
    by: list[Literal["territory", "sex", "age", "weapon_class", "relationship_class", "femicide_class",
                     "source", "reconciled"]] = Field(default=[], max_length=4)
    level: Literal["national", "admin1", "admin2"] | None = None
    grain: Grain = "year"
    where: dict[Literal["territory", "year", "from", "to", "sex", "age", "weapon_class", "relationship_class",
                        "femicide_class", "source", "reconciled"],
                list[Annotated[str, Field(pattern=DIM_VALUE)]]] = Field(default={}, examples=[{"year": ["2015"]}])
    lang: Lang = "en"
    release: str | None = Field(default=None, pattern=RELEASE)


PROBLEMS: dict[int | str, dict[str, Any]] = {400: {"model": Problem}, 404: {"model": Problem},
                                             422: {"model": Problem}, 429: {"model": Problem}}


class Cache:
    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._d: OrderedDict[Any, tuple[bytes, str]] = OrderedDict()

    def get(self, key: Any) -> tuple[bytes, str] | None:
        hit = self._d.get(key)
        if hit is not None:
            self._d.move_to_end(key)
        return hit

    def put(self, key: Any, body: bytes) -> tuple[bytes, str]:
        entry = (body, etag(body))
        self._d[key] = entry
        if len(self._d) > self.size:
            self._d.popitem(last=False)
        return entry


def release_doc(r: Release) -> dict[str, Any]:
    return {"id": r.id, "published_at": r.meta["published_at"], "as_published_on": r.published_date,
            "url": f"/api/v1/releases/{r.id}"}


def cached_response(request: Request, key: Any, make: Any, *, media: str = "application/json",
                    pinned: bool = False, filename: str | None = None) -> Response:
    cache: Cache = request.app.state.cache
    entry = cache.get(key)
    if entry is None:
        entry = cache.put(key, make())
    body, tag = entry
    headers = {"ETag": tag, "Cache-Control": "public, max-age=31536000, immutable" if pinned else "public, max-age=60"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


def _release(request: Request, release_id: str | None) -> Release:
    try:
        return request.app.state.releases.get(release_id)
    except KeyError:
        raise RequestError(f"no release {release_id!r}; see /api/v1/releases", 404) from None


def _limit(request: Request) -> None:
    wait = request.app.state.limiter.take(request.client.host if request.client else "-")
    if wait:
        raise RequestError(f"too many requests; try again in {wait:.0f} s", 429)


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _values_doc(release: Release, ask: Ask, lang: str) -> bytes:
    ans = service.answer(release, ask, lang)
    ind = release.indicators[ask.indicator][lang]
    return _dump({
        "release": release_doc(release),
        "indicator": {"id": ask.indicator, "name": ind["name"], "unit": ind["unit"], "kind": ind["kind"]},
        "query": {"by": list(ans.view.by), "level": ans.view.level, "grain": ans.view.grain,
                  "where": ask.filters, "view": ans.view.id},
        "disclosure_control": {"flag": "C", "meaning": "suppressed: the count is below the threshold, or would "
                               "let one be recovered", **release.meta["disclosure"]},
        "notes": ans.notes,
        "columns": list(ans.frame.columns),
        "data": service.records(ans.frame),
    })


router = APIRouter(prefix="/api/v1", responses=PROBLEMS)

TerritoryQ = Annotated[list[Annotated[str, Field(pattern=CODE)]] | None, Query(description="Territory codes; their descendants are kept.", max_length=50)]
YearQ = Annotated[list[Annotated[str, Field(pattern=r"^\d{4}$")]] | None, Query(description="Years (YYYY).", max_length=50)]
FromQ = Annotated[str | None, Query(alias="from", pattern=PERIOD, description="First month or year, ISO 8601 (2015 or 2015-03).")]
ToQ = Annotated[str | None, Query(pattern=PERIOD, description="Last month or year, ISO 8601.")]
DimQ = Annotated[list[Annotated[str, Field(pattern=DIM_VALUE)]] | None, Query(max_length=20)]
ByQ = Annotated[list[Literal["territory", "sex", "age", "weapon_class", "relationship_class", "femicide_class",
                             "source", "reconciled"]] | None,
                Query(description="Dimensions besides period (always included).", max_length=4)]
LevelQ = Annotated[Literal["national", "admin1", "admin2"] | None, Query(description="Territory level of the rows.")]
ReleaseQ = Annotated[str | None, Query(pattern=RELEASE, description="A release id; the latest when absent.")]
IndicatorP = Annotated[str, PathParam(pattern=ID)]


@router.get("/health", summary="Health: the server is up and serves a release")
def health(request: Request) -> dict[str, Any]:
    ids = request.app.state.releases.ids()
    return {"status": "ok" if ids else "no_release", "release": ids[-1] if ids else None, "releases": len(ids)}


@router.get("/releases", summary="Every release, newest first")
def releases(request: Request) -> dict[str, Any]:
    rs = request.app.state.releases
    return {"releases": [{**release_doc(rs.get(i)), "coverage": rs.get(i).meta["coverage"]}
                         for i in reversed(rs.ids())]}


@router.get("/releases/{release_id}", summary="A release's metadata: coverage, sources, disclosure, views, checksums")
def release_meta(request: Request, release_id: Annotated[str, PathParam(pattern=RELEASE)]) -> dict[str, Any]:
    r = _release(request, release_id)
    return {**r.meta, "as_published_on": r.published_date}


@router.get("/releases/{release_id}/compare/{other_id}", summary="What changed between two releases")
def release_compare(request: Request, release_id: Annotated[str, PathParam(pattern=RELEASE)],
                    other_id: Annotated[str, PathParam(pattern=RELEASE)]) -> dict[str, Any]:
    a, b = _release(request, release_id), _release(request, other_id)
    return {"from": release_doc(a), "to": release_doc(b),
            "indicators": [d.__dict__ for d in compare(a, b)]}


@router.get("/indicators", summary="The indicator catalogue, with the breakdowns each publishes")
def indicators(request: Request, lang: Lang = "en", release: ReleaseQ = None) -> Response:
    r = _release(request, release)

    def make() -> bytes:
        return _dump({"release": release_doc(r), "indicators": [
            {**doc[lang], "views": [v.id for v in r.views_of(i)],
             "values": f"/api/v1/indicators/{i}/values"} for i, doc in r.indicators.items()]})

    return cached_response(request, ("catalogue", r.id, lang), make, pinned=release is not None)


@router.get("/indicators/{indicator_id}", summary="An indicator's definition, method and breakdowns")
def indicator(request: Request, indicator_id: IndicatorP, lang: Lang = "en", release: ReleaseQ = None) -> dict[str, Any]:
    r = _release(request, release)
    if indicator_id not in r.indicators:
        raise RequestError(f"unknown indicator {indicator_id!r}; see /api/v1/indicators", 404)
    views = [{"view": v.id, "by": list(v.by), "level": v.level, "grain": v.grain} for v in r.views_of(indicator_id)]
    return {"release": release_doc(r), **r.indicators[indicator_id][lang], "views": views}


@dataclass(frozen=True)
class Slice:
    """What the values, query and download endpoints take besides the indicator: the breakdown and filters."""

    by: tuple[str, ...]
    level: str | None
    grain: str
    where: dict[str, list[str]]
    lang: str
    release: str | None

    def ask(self, indicator: str) -> Ask:
        return Ask.make(indicator, self.by, self.level, self.grain, self.where)


def slice_params(by: ByQ = None, level: LevelQ = None, grain: Grain = "year", territory: TerritoryQ = None,
                 year: YearQ = None, from_: FromQ = None, to: ToQ = None, sex: DimQ = None, age: DimQ = None,
                 weapon_class: DimQ = None, relationship_class: DimQ = None, femicide_class: DimQ = None,
                 source: DimQ = None, reconciled: DimQ = None, lang: Lang = "en", release: ReleaseQ = None) -> Slice:
    where: dict[str, list[str]] = {k: v for k, v in {
        "sex": sex, "age": age, "weapon_class": weapon_class, "relationship_class": relationship_class,
        "femicide_class": femicide_class, "source": source, "reconciled": reconciled,
        "territory": territory, "year": year, "from": [from_] if from_ else None, "to": [to] if to else None,
    }.items() if v}
    return Slice(tuple(by or ()), level, grain, where, lang, release)


SliceQ = Annotated[Slice, Depends(slice_params)]


def _values(request: Request, indicator: str, q: Slice) -> Response:
    r = _release(request, q.release)
    ask = q.ask(indicator)
    return cached_response(request, ("values", r.id, ask, q.lang), lambda: _values_doc(r, ask, q.lang),
                           pinned=q.release is not None)


@router.get("/indicators/{indicator_id}/values", summary="An indicator's values, broken down and filtered")
def values(request: Request, indicator_id: IndicatorP, q: SliceQ) -> Response:
    return _values(request, indicator_id, q)


@router.post("/query", summary="The query modeler: measure x dimensions x filters, from the published cubes")
def query(request: Request, body: Annotated[QueryBody, Body()]) -> Response:
    _limit(request)
    where = {str(k): v for k, v in body.where.items()}
    return _values(request, body.indicator, Slice(tuple(body.by), body.level, body.grain, where, body.lang, body.release))


@router.get("/query", summary="The query modeler, as a link (the same as POST /query)")
def query_get(request: Request, indicator: Annotated[str, Query(pattern=ID)], q: SliceQ) -> Response:
    _limit(request)
    return _values(request, indicator, q)


@router.get("/indicators/{indicator_id}/download", summary="Download values as CSV, XLSX, Parquet, SDMX-CSV or JSON",
            response_class=Response, responses={200: {"content": {m: {} for m in MEDIA.values()}}})
def download(request: Request, indicator_id: IndicatorP, q: SliceQ, format: Format = "csv") -> Response:  # noqa: A002
    _limit(request)
    r = _release(request, q.release)
    ask = q.ask(indicator_id)
    ans = service.answer(r, ask, q.lang)  # raises the 4xx before anything is cached
    name = f"{indicator_id}_{ans.view.id.replace('+', '-')}_{r.id}.{EXT[format]}"
    return cached_response(request, ("download", r.id, ask, q.lang, format),
                           lambda: export_bytes(ans, format, q.lang), media=MEDIA[format], pinned=q.release is not None,
                           filename=name)


def _layer(r: Release, layer: dict[str, Any] | None, key: str, what: str, indicator_id: str, absent: str) -> dict[str, Any]:
    """A published analysis layer of an indicator, or the 404 that says why there is none."""
    if not layer or key not in layer:
        why = layer.get("error") if layer else absent
        raise RequestError(f"no {what} layer for {indicator_id!r} in release {r.id}: {why}", 404)
    return layer


def _by_territory(r: Release, classes: dict[str, str], name: str) -> list[dict[str, str]]:
    return [{"territory": c, "territory_name": r.label("territory", c, "en"), name: k} for c, k in sorted(classes.items())]


@router.get("/indicators/{indicator_id}/hotspots",
            summary="Hot and cold spots (Gi*) or clusters (Local Moran) of the smoothed rate by territory")
def indicator_hotspots(request: Request, indicator_id: IndicatorP,
                       method: Literal["gi_star", "local_moran"] = "gi_star", release: ReleaseQ = None) -> dict[str, Any]:
    r = _release(request, release)
    layer = _layer(r, r.analysis.get("hotspots", {}).get(indicator_id, {}).get(method), "clusters", method,
                   indicator_id, "only rate indicators are analysed")
    return {"release": release_doc(r), "indicator": indicator_id, "method": method,
            "level": r.analysis["level"], "year": r.analysis["year"],
            "permutations": layer["permutations"], "alpha": layer["alpha"], "fdr": layer["fdr"],
            "counts": layer["counts"], "data": _by_territory(r, layer["clusters"], "cluster")}


@router.get("/indicators/{indicator_id}/emerging",
            summary="Emerging hot spots by territory (Gi* in space and time with a Mann-Kendall trend), by month")
def indicator_emerging(request: Request, indicator_id: IndicatorP, release: ReleaseQ = None) -> dict[str, Any]:
    r = _release(request, release)
    layer = _layer(r, r.analysis.get("emerging", {}).get(indicator_id), "categories", "emerging hot spot",
                   indicator_id, "not analysed in this release")
    return {"release": release_doc(r), "indicator": indicator_id, "level": r.analysis["level"],
            "periods": layer["periods"], "method": layer["method"],
            "data": _by_territory(r, layer["categories"], "category")}


@router.get("/indicators/{indicator_id}/deviance",
            summary="Positive deviance: territories much better or much worse than their conditions predict")
def indicator_deviance(request: Request, indicator_id: IndicatorP, release: ReleaseQ = None) -> dict[str, Any]:
    r = _release(request, release)
    layer = _layer(r, r.analysis.get("deviance", {}).get(indicator_id), "flags", "positive deviance", indicator_id,
                   "not modelled in this release (see the workspace's deviance.yaml)")
    return {"release": release_doc(r), "indicator": indicator_id, "level": r.analysis["level"],
            "year": r.analysis["year"], "covariates": layer["covariates"], "interval": layer["level"],
            "data": _by_territory(r, layer["flags"], "flag")}


@router.get("/points", summary="Grid hot spots of geolocated incidents (GeoJSON cells with their class) and the Knox test")
def points_layer(request: Request, release: ReleaseQ = None) -> dict[str, Any]:
    r = _release(request, release)
    layer = r.analysis.get("points")
    if not layer or "cells" not in layer:
        why = layer.get("error") if layer else "not analysed in this release"
        raise RequestError(f"no point analysis in release {r.id}: {why}", 404)
    return {"release": release_doc(r), **layer}


@router.get("/index", summary="The territorial prioritisation index: rank intervals and priority classes")
def priority_index(request: Request, release: ReleaseQ = None) -> dict[str, Any]:
    r = _release(request, release)
    idx = r.analysis.get("index")
    if not idx:
        raise RequestError(f"release {r.id} has no prioritisation index (the workspace has no index.yaml)", 404)
    return {"release": release_doc(r), "level": r.analysis["level"], "year": r.analysis["year"],
            "spec": idx["spec"], "data": idx["rows"]}


class ReleasedIndicator:
    """A released indicator as `export.write_result` reads an Indicator."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.id: str = doc["id"]

    def unit(self, lang: str) -> str:
        return str(self.doc[lang]["unit"])

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return dict(self.doc[lang])


def export_bytes(ans: service.Answer, fmt: str, lang: str) -> bytes:
    from segura.indicators.compute import Result
    from segura.indicators.export import write_result

    q = ModelQuery(ans.ask.indicator, ans.view.by, {k: tuple(v) for k, v in ans.ask.filters.items()},
                   level=None if ans.view.level == "national" else ans.view.level, grain=ans.view.grain)
    notes = [*ans.notes, f"as published on {ans.release.published_date} (release {ans.release.id})"]
    result = Result(ReleasedIndicator(ans.release.indicators[ans.ask.indicator]), q, ans.frame,  # type: ignore[arg-type]
                    list(ans.view.by), notes, protected=True, lang=lang)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"out.{fmt}"
        write_result(result, path, "sdmx-csv" if fmt == "sdmx-csv" else fmt)
        return path.read_bytes()


@router.get("/territories", summary="Territories of a level as GeoJSON, simplified for the map",
            response_class=Response, responses={200: {"content": {"application/geo+json": {}}}})
def territories(request: Request, level: Literal["admin1", "admin2"] = "admin2", release: ReleaseQ = None) -> Response:
    r = _release(request, release)
    try:
        body = r.geojson(level)
    except KeyError:
        raise RequestError(f"no boundaries for level {level!r} in release {r.id}", 404) from None
    return cached_response(request, ("geo", r.id, level), lambda: body, media="application/geo+json",
                           pinned=release is not None)


@router.get("/territories/{code}", summary="A territory: name, level, ISO 3166-2, parent and children")
def territory(request: Request, code: Annotated[str, PathParam(pattern=CODE)], release: ReleaseQ = None) -> dict[str, Any]:
    r = _release(request, release)
    t = r.territories
    hit = t[t.code == code]
    if hit.empty:
        raise RequestError(f"no territory {code!r} in release {r.id}", 404)
    row = hit.iloc[0]
    return {"release": release_doc(r), "code": code, "name": row["name"], "level": row["level"],
            "iso_3166_2": row["iso_3166_2"] or None, "parent_code": row["parent_code"] or None,
            "children": sorted(t.loc[t.parent_code == code, "code"].tolist())}


@router.get("/dcat", summary="The DCAT catalogue of the datasets (JSON-LD)",
            response_class=Response, responses={200: {"content": {"application/ld+json": {}}}})
def dcat(request: Request, release: ReleaseQ = None) -> Response:
    from segura.portal.dcat import catalogue

    r = _release(request, release)
    base = str(request.base_url).rstrip("/")
    return cached_response(request, ("dcat", r.id, base),
                           lambda: _dump(catalogue(r, base, request.app.state.settings)),
                           media="application/ld+json", pinned=release is not None)


def problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestError)
    headers = {"Retry-After": "60"} if exc.status == 429 else None
    if exc.status == 401:
        headers = {"WWW-Authenticate": 'Basic realm="Segura analysts", charset="UTF-8"'}
    return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)


__all__ = ["router", "problem", "Cache", "GRAINS"]
