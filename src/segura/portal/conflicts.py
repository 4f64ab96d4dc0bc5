"""The social conflict registry on the portal and in the API.

- /{lang}/conflicts: the registry, filtered by country, phase, demand type and escalation level,
  highest escalation score first, with the registry's indicators and its sources' citations;
- /{lang}/conflicts/{id}: a conflict's actors, timeline of events (SVG), events, agreements and
  commitments, phase history, and its escalation score with every part shown;
- /api/v1/conflicts, /api/v1/conflicts/indicators, /api/v1/conflicts/{id}: the same as JSON.

Everything comes from the release's conflicts/ folder (written by `segura publish` through
segura.conflicts.publication), never from the warehouse. A release without a registry answers
the pages with a sentence and the API with a 404 that says why.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import pandas as pd
import pyarrow.parquet as pq
from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from segura.conflicts.publication import PARTS, TABLES, PublicRegistry
from segura.conflicts.registry import EVENT_TYPES, PHASES
from segura.portal.api import (
    PROBLEMS,
    Lang,
    ReleaseQ,
    _dump,
    _release,
    cached_response,
    release_doc,
)
from segura.portal.i18n import MESSAGES, number, t
from segura.portal.pages import LangP, render
from segura.portal.pages import _release as _page_release
from segura.portal.release import Release
from segura.portal.service import RequestError
from segura.portal.svg import Mark, bar_chart, month_columns, timeline

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["conflicts"], responses=PROBLEMS)

LEVELS = ("high", "medium", "low")
DEMAND = r"[A-Za-z0-9_.-]{1,64}"
PhaseName = Literal["latent", "emergence", "escalation", "crisis", "de-escalation", "resolved"]
CountryQ = Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code (BO).")]
PhaseQ = Annotated[PhaseName | None, Query(description="The conflict's current phase.")]
DemandQ = Annotated[str | None, Query(pattern=f"^{DEMAND}$", description="Demand type code (coca, labour ...).")]
LevelQ = Annotated[Literal["low", "medium", "high"] | None, Query(description="Escalation level.")]
# the pages' form sends empty values for "all"
PageCountryQ = Annotated[str | None, Query(pattern=r"^([A-Z]{2})?$")]
PagePhaseQ = Annotated[str | None, Query(pattern=f"^({'|'.join(PHASES)})?$")]
PageDemandQ = Annotated[str | None, Query(pattern=f"^({DEMAND})?$")]
PageLevelQ = Annotated[str | None, Query(pattern=f"^({'|'.join(LEVELS)})?$")]
PageReleaseQ = Annotated[str | None, Query(max_length=20)]
ConflictP = Annotated[int, PathParam(ge=1, le=2_147_483_647, description="Conflict id (see /api/v1/conflicts).")]


# --- reading a release's registry ---------------------------------------------------------------

class Registry(PublicRegistry):
    """A release's conflicts/ folder read back: the same tables (conflicts highest score first,
    then the most recent), with the look-ups the pages need."""

    def source(self, source_id: Any) -> dict[str, Any] | None:
        return next((s for s in self.about["sources"] if s["source_id"] == source_id), None)

    def of(self, table: str, conflict_id: int) -> pd.DataFrame:
        frame: pd.DataFrame = getattr(self, table)
        return frame[frame["conflict_id"] == conflict_id] if len(frame) else frame


@lru_cache(maxsize=8)
def _read(path: Path) -> Registry | None:
    folder = path / "conflicts"
    if not (folder / "registry.json").is_file():
        return None
    frames = {name: pq.read_table(folder / f"{name}.parquet").to_pandas() for name in TABLES}
    c = frames["conflicts"]
    recent = c["last_event_on"].map(lambda d: d.toordinal() if isinstance(d, dt.date) else 0)
    order = c.assign(_recent=recent).sort_values(["score", "_recent", "conflict_id"], ascending=[False, False, True])
    frames["conflicts"] = order.drop(columns="_recent").reset_index(drop=True)
    return Registry(**frames, about=json.loads((folder / "registry.json").read_text(encoding="utf-8")))


def registry_of(r: Release) -> Registry | None:
    """The release's registry (read once per release: releases never change), or None."""
    return _read(r.path)


def _require(r: Release) -> Registry:
    reg = registry_of(r)
    if reg is None:
        raise RequestError(f"release {r.id} has no conflict registry: the workspace had none when it was "
                           "published (import events with `segura conflicts import`, then `segura publish`)", 404)
    return reg


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values: None for missing, dates as ISO 8601 strings."""
    out = []
    for rec in frame.astype(object).where(frame.notna(), None).to_dict(orient="records"):
        out.append({k: v.isoformat() if isinstance(v, dt.date) else v for k, v in rec.items()})
    return out


@dataclass(frozen=True)
class Filters:
    country: str | None = None
    phase: str | None = None
    demand: str | None = None
    level: str | None = None

    @classmethod
    def of(cls, *values: str | None) -> Filters:
        return cls(*(v or None for v in values))

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        for column, value in (("country", self.country), ("phase", self.phase), ("demand_type", self.demand),
                              ("level", self.level)):
            if value is not None:
                frame = frame[frame[column] == value]
        return frame

    def given(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


# --- words ----------------------------------------------------------------------------------------

def label(kind: str, code: Any, lang: str, fallback: str | None = None) -> str:
    """A code's words (`conflict_<kind>_<code>` in i18n), else the fallback or the code itself."""
    key = f"conflict_{kind}_{code}"
    return t(key, lang) if key in MESSAGES else (fallback or str(code))


def demand_label(reg: Registry, code: Any, lang: str) -> str:
    return label("demand", code, lang, reg.about["demand_types"].get(str(code))) if code else "–"


def when(day: Any, precision: str | None = "day") -> str:
    """A date as precise as the source knew it: 2003-10-12, 2003-10 or 2003."""
    if not isinstance(day, dt.date):
        return "–"
    return f"{day:%Y}" if precision == "year" else f"{day:%Y-%m}" if precision == "month" else day.isoformat()


def measured(part: str, facts: dict[str, Any], on: str, lang: str) -> str:
    """What a score part measured on its date, in words, from the counts behind it."""
    def n(v: Any, d: int | None = None) -> str:
        return number(v, lang, d)

    if part == "rising":
        return t("conflict_fact_rising", lang, n=n(facts["recent"]), b=n(facts["baseline"], 1),
                 recent=facts["recent_days"], baseline=facts["baseline_days"])
    if part == "confrontation":
        return t("conflict_fact_confrontation", lang, r=n(100 * facts["recent_share"], 0),
                 p=n(100 * facts["before_share"], 0))
    if part == "state_force":
        return t("conflict_fact_state_force", lang, forced=n(facts["forced"]), n=n(facts["recent"]))
    return t("conflict_fact_unmet_commitments", lang, unmet=n(facts["unmet"]), due=n(facts["due"]), on=on)


def score_parts(reg: Registry, conflict_id: int, lang: str) -> list[dict[str, Any]]:
    """The parts of a conflict's score with their definition and what they measured, in `lang`."""
    out = []
    for p in records(reg.of("parts", conflict_id)):
        facts = json.loads(p["facts"])
        out.append({"part": p["part"], "name": t(f"conflict_part_{p['part']}", lang),
                    "definition": t(f"conflict_part_{p['part']}_def", lang, **_windows(reg)),
                    "measured": measured(p["part"], facts, p["on"], lang),
                    "value": p["value"], "weight": p["weight"], "contribution": p["contribution"], "facts": facts})
    order = {name: i for i, name in enumerate(PARTS)}
    return sorted(out, key=lambda p: order.get(p["part"], len(order)))


def _windows(reg: Registry) -> dict[str, Any]:
    s = reg.about["score"]
    return {"recent": s["recent_days"], "baseline": s["baseline_days"]}


# --- pages ----------------------------------------------------------------------------------------

@pages.get("/{lang}/conflicts", response_class=HTMLResponse)
def conflicts_page(request: Request, lang: LangP, country: PageCountryQ = None, phase: PagePhaseQ = None,
                   demand: PageDemandQ = None, level: PageLevelQ = None,
                   release: PageReleaseQ = None) -> HTMLResponse:
    r = _page_release(request, release)
    reg = registry_of(r)
    if reg is None:
        return render(request, lang, "conflicts.html", release=r, reg=None)
    filters = Filters.of(country, phase, demand, level)
    all_ = reg.conflicts
    rows = [conflict_row(reg, row, lang) for row in records(filters.apply(all_))]
    ind = reg.about["indicators"]
    fmt = lambda v: number(v, lang)  # noqa: E731
    pin = {"release": r.id} if release else {}
    by_demand = [(demand_label(reg, d["demand"], lang), float(d["conflicts"]),
                  f"/{lang}/conflicts?" + urlencode({"demand": d["demand"], **pin}))
                 for d in ind["by_demand"] if d["demand"]]
    demand_chart = bar_chart(by_demand, fmt=fmt, title=t("conflict_by_demand", lang),
                             desc=t("conflict_by_demand_desc", lang, n=len(by_demand)), ident="by-demand")
    months = {str(m["month"]): float(m["conflicts"]) for m in ind["by_month"] if m["month"]}
    month_chart = month_columns(months, fmt=fmt, title=t("conflict_by_month", lang),
                                desc=t("conflict_by_month_desc", lang, start=min(months, default="–"),
                                       end=max(months, default="–")), ident="by-month")
    options = {
        "country": [(c, label("country", c, lang)) for c in sorted(all_["country"].dropna().unique())],
        "phase": [(p, label("phase", p, lang)) for p in PHASES if p in set(all_["phase"])],
        "demand": sorted(((str(d), demand_label(reg, d, lang)) for d in all_["demand_type"].dropna().unique()),
                         key=lambda o: o[1].lower()),
        "level": [(v, label("level", v, lang)) for v in LEVELS],
    }
    return render(request, lang, "conflicts.html", release=r, reg=reg, rows=rows, total=len(all_),
                  filters=filters, options=options, ind=ind, demand_chart=demand_chart, month_chart=month_chart,
                  by_demand=by_demand, months=sorted(months.items()), label=label,
                  api=f"/api/v1/conflicts?release={r.id}")


@pages.get("/{lang}/conflicts/{conflict_id}", response_class=HTMLResponse)
def conflict_page(request: Request, lang: LangP, conflict_id: ConflictP,
                  release: PageReleaseQ = None) -> HTMLResponse:
    r = _page_release(request, release)
    reg = _require(r)
    doc = conflict_doc(reg, conflict_id, lang)
    c = doc["conflict"]
    lanes = [(e, label("type", e, lang)) for e in EVENT_TYPES if any(ev["event_type"] == e for ev in doc["events"])]
    marks = [Mark(day=dt.date.fromisoformat(e["occurred_on"]), lane=e["event_type"],
                  text=_event_text(e, lang), forceful=bool(e["forceful"]), size=float(e["deaths"] or 0),
                  href=f"#event-{e['event_id']}") for e in doc["events"]]
    rules = [(dt.date.fromisoformat(a["signed_on"]), t("conflict_agreement_signed", lang, date=a["signed_on"]))
             for a in doc["agreements"]]
    svg = timeline(lanes, marks, rules=rules, ident="timeline", title=t("conflict_timeline_title", lang, title=c["title"]),
                   desc=t("conflict_timeline_desc", lang, n=len(marks),
                          first=doc["events"][0]["occurred_on"] if marks else "–",
                          last=doc["events"][-1]["occurred_on"] if marks else "–",
                          forceful=sum(1 for e in doc["events"] if e["forceful"]), agreements=len(rules)),
                   key=(t("conflict_key_event", lang), t("conflict_key_forceful", lang), t("conflict_key_agreement", lang)))
    return render(request, lang, "conflict.html", release=r, reg=reg, doc=doc, c=c, svg=svg, label=label,
                  api=f"/api/v1/conflicts/{conflict_id}?release={r.id}&lang={lang}")


def _event_text(e: dict[str, Any], lang: str) -> str:
    parts = [e["date"], e["event_type_label"],
             t("conflict_response_is", lang, response=e["state_response_label"])]
    if e["deaths"]:
        parts.append(t("conflict_deaths_n", lang, n=e["deaths"]))
    if e["description"]:
        parts.append(str(e["description"]))
    return " · ".join(parts)


# --- the documents (shared by pages and API) --------------------------------------------------------

def conflict_row(reg: Registry, row: dict[str, Any], lang: str) -> dict[str, Any]:
    return {**row, "demand_name": demand_label(reg, row["demand_type"], lang),
            "phase_label": label("phase", row["phase"], lang), "level_label": label("level", row["level"], lang),
            "url": f"/api/v1/conflicts/{row['conflict_id']}"}


def conflict_doc(reg: Registry, conflict_id: int, lang: str) -> dict[str, Any]:
    """A conflict with its actors, events, agreements (commitments nested), phases, score parts and source."""
    hit = reg.conflicts[reg.conflicts["conflict_id"] == conflict_id]
    if hit.empty:
        raise RequestError(f"no conflict {conflict_id} in this release; the ids are listed at /api/v1/conflicts", 404)
    c = conflict_row(reg, records(hit)[0], lang)
    events = [{**e, "date": when(dt.date.fromisoformat(e["occurred_on"]), e["date_precision"]),
               "event_type_label": label("type", e["event_type"], lang),
               "state_response_label": label("response", e["state_response"], lang)}
              for e in records(reg.of("events", conflict_id))]
    agreements: dict[Any, dict[str, Any]] = {}
    for a in records(reg.of("agreements", conflict_id)):
        entry = agreements.setdefault(a["agreement_id"], {k: a[k] for k in ("agreement_id", "signed_on", "description")}
                                      | {"commitments": []})
        if a["commitment_id"] is not None:
            entry["commitments"].append({k: a[k] for k in ("commitment_id", "commitment", "responsible", "deadline",
                                                           "fulfilled", "fulfilled_on", "overdue_days")})
    actors = records(reg.of("actors", conflict_id))
    phases = [{**p, "from_label": label("phase", p["phase_from"], lang) if p["phase_from"] else None,
               "to_label": label("phase", p["phase_to"], lang)} for p in records(reg.of("phases", conflict_id))]
    parts = score_parts(reg, conflict_id, lang)
    return {
        "conflict": c,
        "score": {"as_of": c["as_of"], "score": c["score"], "level": c["level"], "level_label": c["level_label"],
                  "parts": parts, "rule": reg.about["score"], "quiet": _quiet(c, reg.about["score"])},
        "claimants": [a for a in actors if a["role"] == "claimant"],
        "counterparts": [a for a in actors if a["role"] == "counterpart"],
        "events": events,
        "agreements": list(agreements.values()),
        "phases": phases,
        "source": reg.source(c["source_id"]),
        "overdue_on": reg.about["indicators"]["on"],
    }


def _quiet(c: dict[str, Any], rule: dict[str, Any]) -> bool:
    """Whether the conflict's last event falls before the windows the score measures (so it is 0)."""
    if not c["last_event_on"]:
        return True
    gap = dt.date.fromisoformat(c["as_of"]) - dt.date.fromisoformat(c["last_event_on"])
    return gap.days >= int(rule["recent_days"]) + int(rule["baseline_days"])


# --- API ------------------------------------------------------------------------------------------

@api.get("/conflicts", summary="The social conflict registry: conflicts with their escalation score, filtered")
def conflicts_api(request: Request, country: CountryQ = None, phase: PhaseQ = None, demand: DemandQ = None,
                  level: LevelQ = None, lang: Lang = "en", release: ReleaseQ = None,
                  limit: Annotated[int, Query(ge=1, le=5000, description="At most this many conflicts.")] = 1000,
                  offset: Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many first.")] = 0) -> Response:
    r = _release(request, release)
    reg = _require(r)
    filters = Filters(country, phase, demand, level)

    def make() -> bytes:
        chosen = filters.apply(reg.conflicts)
        return _dump({
            "release": release_doc(r), "sources": reg.about["sources"], "score": reg.about["score"],
            "filters": filters.given(), "order": "escalation score, highest first; then the latest event",
            "total": len(chosen), "offset": offset, "limit": limit,
            "data": [conflict_row(reg, row, lang) for row in records(chosen.iloc[offset:offset + limit])],
        })

    return cached_response(request, ("conflicts", r.id, filters, lang, limit, offset), make,
                           pinned=release is not None)


@api.get("/conflicts/indicators", summary="The conflict registry's indicators: by demand, actor, territory and "
         "month, escalation rate, share resolved by agreement, agreements past their deadline")
def conflict_indicators_api(request: Request, release: ReleaseQ = None) -> Response:
    r = _release(request, release)
    reg = _require(r)
    return cached_response(request, ("conflict-indicators", r.id),
                           lambda: _dump({"release": release_doc(r), "sources": reg.about["sources"],
                                          "counts": reg.about["counts"], **reg.about["indicators"]}),
                           pinned=release is not None)


TableQ = Annotated[Literal[TABLES], Query(description="Which table: conflicts (one row each, with the escalation score), "  # type: ignore[valid-type]
                                          "parts (the score's parts), events, actors, agreements (one row per "
                                          "commitment) or phases (the phase history).")]
TableFormat = Literal["csv", "xlsx", "parquet"]
TABLE_MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def about_rows(reg: Registry, r: Release, table: str, licence: str) -> list[tuple[str, str]]:
    """What a downloaded table says about itself: release, sources with their citations, the score."""
    rows = [("table", table), ("release", r.id), ("published_on", str(reg.about["published_on"])),
            ("licence", licence)]
    rows += [(f"source {s['source_id']}", f"{s['citation'] or s['name']} (as of {s['as_of']}; {s['rows_imported']} "
                                           f"of {s['rows_read']} rows imported)") for s in reg.about["sources"]]
    rows += [("score", json.dumps(reg.about["score"], ensure_ascii=False, default=str))]
    return rows


def table_bytes(reg: Registry, r: Release, table: str, fmt: str, licence: str) -> bytes:
    """One registry table as CSV (UTF-8 with BOM), XLSX (with an 'about' sheet) or Parquet (about in metadata)."""
    import tempfile

    import pyarrow as pa

    from segura.store.export import write_csv, write_xlsx_sheets

    frame: pd.DataFrame = getattr(reg, table)
    if table == "conflicts":  # the registry's own order, not the page's
        frame = frame.sort_values("conflict_id")
    header = [str(c) for c in frame.columns]
    data = [[rec[h] for h in header] for rec in records(frame)]
    about = about_rows(reg, r, table, licence)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"out.{fmt}"
        if fmt == "csv":
            write_csv(path, header, data)
        elif fmt == "xlsx":
            write_xlsx_sheets(path, [(table, header, data), ("about", ["field", "value"], about)])
        else:
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            meta = {"segura": json.dumps(dict(about), ensure_ascii=False)}
            pq.write_table(arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **meta}), path)
        return path.read_bytes()


@api.get("/conflicts/download", summary="Download a table of the conflict registry as CSV, XLSX or Parquet",
         response_class=Response, responses={200: {"content": {m: {} for m in TABLE_MEDIA.values()}}})
def conflicts_download(request: Request, table: TableQ = "conflicts", format: TableFormat = "csv",  # noqa: A002
                       release: ReleaseQ = None) -> Response:
    r = _release(request, release)
    reg = _require(r)
    return cached_response(request, ("conflicts-download", r.id, table, format),
                           lambda: table_bytes(reg, r, table, format, request.app.state.settings["portal.license"]),
                           media=TABLE_MEDIA[format],
                           pinned=release is not None, filename=f"conflicts_{table}_{r.id}.{format}")


@api.get("/conflicts/{conflict_id}", summary="A conflict: actors, timeline of events, agreements and commitments, "
         "phase history, and its escalation score with every part")
def conflict_api(request: Request, conflict_id: ConflictP, lang: Lang = "en", release: ReleaseQ = None) -> Response:
    r = _release(request, release)
    reg = _require(r)
    doc = conflict_doc(reg, conflict_id, lang)  # the 404 before anything is cached
    return cached_response(request, ("conflict", r.id, conflict_id, lang),
                           lambda: _dump({"release": release_doc(r), **doc}), pinned=release is not None)
