"""The indicator catalogue as data: bases (what is counted) and indicators (how it is expressed).

The catalogue ships in `catalogue.yaml`; a workspace adds indicators, or replaces one by id,
with YAML files of the same shape in its `indicators/` folder. Everything is checked when the
catalogue is read, so a typo in a field or a value is reported with the file and a suggestion,
never at query time.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from segura.errors import SeguraError
from segura.indicators.dimensions import DIMENSIONS, FILTER_FIELDS, check_filter

KINDS = ("count", "rate", "share", "distribution")
SUBJECTS = ("victims", "records")


class CatalogueError(SeguraError):
    """An indicator file that cannot be used as it is."""

    exit_code = 2


@dataclass(frozen=True)
class Text:
    es: str
    en: str

    def __call__(self, lang: str) -> str:
        return self.es if lang == "es" else self.en


GRAINS = ("month", "quarter", "year")  # the finest period a public table goes down to


@dataclass(frozen=True)
class PublicTable:
    """A table the public can query: breakdowns `by`, crossed with territory down to `level` (None:
    the workspace's finest) and period down to `grain` ("month" includes rolling 12-month windows)."""

    by: tuple[str, ...]
    level: str | None = None
    grain: str = "month"


@dataclass(frozen=True)
class Base:
    """A count of reconciled victims (or institution records) that indicators are built from."""

    id: str
    subject: str
    name: Text
    where: dict[str, list[Any]]
    tables: tuple[PublicTable, ...]
    vaw_cells: dict[str, list[str]] | None = None  # None: no cell; {}: every cell
    vaw_all: bool = False


@dataclass(frozen=True)
class Indicator:
    id: str
    base: Base
    kind: str
    name: Text
    definition: Text
    unit: Text
    source: Text
    method: Text
    numerator: dict[str, list[Any]] = field(default_factory=dict)
    population: dict[str, Any] | None = None  # the denominator of a rate: {sex: F, age: [15, 29]}
    over: str | None = None  # the dimension a distribution spreads over
    multiplier: float = 1.0
    disaggregations: tuple[str, ...] = ()
    sdg: str | None = None
    vaw: bool = False
    origin: str = "segura"

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name(lang),
            "definition": self.definition(lang),
            "unit": self.unit(lang),
            "kind": self.kind,
            "base": self.base.id,
            "numerator": self.numerator,
            "denominator": {"population": self.population} if self.population is not None else (
                {"base": self.base.id} if self.kind in ("share", "distribution") else None
            ),
            "multiplier": self.multiplier,
            "over": self.over,
            "disaggregations": list(self.disaggregations),
            "sdg": self.sdg,
            "violence_against_women": self.vaw,
            "source": self.source(lang),
            "method": self.method(lang),
            "origin": self.origin,
        }


@dataclass(frozen=True)
class Catalogue:
    bases: dict[str, Base]
    indicators: dict[str, Indicator]

    def get(self, indicator_id: str) -> Indicator:
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise CatalogueError(f"no indicator {indicator_id!r}{_did_you_mean(indicator_id, self.indicators)}; "
                                 "`segura indicators list` shows them") from None


def load_catalogue(workspace_dir: Path | None = None) -> Catalogue:
    """The shipped catalogue, with the workspace's `indicators/*.yaml` added on top."""
    shipped = resources.files("segura.indicators") / "catalogue.yaml"
    docs: list[tuple[str, dict[str, Any]]] = [("segura", _read(shipped.read_text(encoding="utf-8"), "catalogue.yaml"))]
    if workspace_dir is not None and (workspace_dir / "indicators").is_dir():
        for path in sorted((workspace_dir / "indicators").glob("*.y*ml")):
            docs.append((path.name, _read(path.read_text(encoding="utf-8"), str(path))))
    bases: dict[str, Base] = {}
    indicators: dict[str, Indicator] = {}
    for origin, doc in docs:
        for base_id, spec in (doc.get("bases") or {}).items():
            bases[base_id] = _base(base_id, spec, origin)
        for spec in doc.get("indicators") or []:
            ind = _indicator(spec, bases, origin)
            indicators[ind.id] = ind
    return Catalogue(bases, indicators)


def _read(text: str, origin: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise CatalogueError(f"{origin}: not valid YAML: {e}") from e
    if not isinstance(doc, dict):
        raise CatalogueError(f"{origin}: expected a mapping with 'bases' and/or 'indicators'")
    unknown = set(doc) - {"version", "bases", "indicators"}
    if unknown:
        raise CatalogueError(f"{origin}: unknown top-level keys {sorted(unknown)}; expected bases, indicators")
    return doc


def _text(value: Any, where: str) -> Text:
    # exactly es and en: a comma inside an unquoted YAML flow mapping would otherwise split a text
    if isinstance(value, dict) and set(value) == {"es", "en"} and all(isinstance(v, str) for v in value.values()):
        return Text(value["es"], value["en"])
    raise CatalogueError(f"{where}: expected a text in Spanish and English, like {{es: ..., en: ...}}, found {value!r}")


def _filters(value: Any, subject: str, where: str) -> dict[str, list[Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CatalogueError(f"{where}: expected a mapping of field -> values, found {value!r}")
    out: dict[str, list[Any]] = {}
    for key, values in value.items():
        if key not in FILTER_FIELDS[subject]:
            raise CatalogueError(f"{where}: unknown field {key!r}{_did_you_mean(key, FILTER_FIELDS[subject])}; "
                                 f"fields: {', '.join(FILTER_FIELDS[subject])}")
        values = values if isinstance(values, list) else [values]
        problem = check_filter(key, values)
        if problem:
            raise CatalogueError(f"{where}: {problem}")
        out[key] = values
    return out


def _base(base_id: str, spec: dict[str, Any], origin: str) -> Base:
    where = f"{origin}: base {base_id}"
    subject = spec.get("subject")
    if subject not in SUBJECTS:
        raise CatalogueError(f"{where}: subject must be one of {SUBJECTS}, found {subject!r}")
    tables = [_public_table(t, subject, f"{where}.tables[{i}]") for i, t in enumerate(spec.get("tables") or [[]])]
    vaw = spec.get("vaw_cells")
    return Base(
        id=base_id,
        subject=subject,
        name=_text(spec.get("name"), f"{where}.name"),
        where=_filters(spec.get("where"), subject, f"{where}.where"),
        tables=tuple(tables),
        vaw_cells=_vaw_cells(vaw, f"{where}.vaw_cells"),
        vaw_all=vaw == "all",
    )


def _public_table(spec: Any, subject: str, where: str) -> PublicTable:
    """`[sex, age]` (every territory level, every period grain) or `{by: [...], territory: admin1, period: year}`."""
    if isinstance(spec, list):
        spec = {"by": spec}
    if not isinstance(spec, dict) or set(spec) - {"by", "territory", "period"}:
        raise CatalogueError(f"{where}: expected a list of breakdowns or a mapping with by, territory, period; "
                             f"found {spec!r}")
    dims = spec.get("by") or []
    for d in dims:
        if d not in DIMENSIONS or d in ("territory", "period") or subject not in DIMENSIONS[d].subjects:
            raise CatalogueError(f"{where}: {d!r} cannot be a breakdown of {subject}{_did_you_mean(d, DIMENSIONS)}")
    level = spec.get("territory")
    if level is not None and not isinstance(level, str):
        raise CatalogueError(f"{where}.territory: expected the name of a territory level, found {level!r}")
    grain = spec.get("period", "month")
    if grain not in GRAINS:
        raise CatalogueError(f"{where}.period: expected one of {', '.join(GRAINS)}, found {grain!r}")
    return PublicTable(tuple(dims), level, grain)


def _vaw_cells(value: Any, where: str) -> dict[str, list[str]] | None:
    if value is None or value == "all":
        return None
    if not isinstance(value, dict) or any(k not in DIMENSIONS for k in value):
        raise CatalogueError(f"{where}: expected 'all' or a mapping of breakdown -> values, found {value!r}")
    return {k: [str(v) for v in (vs if isinstance(vs, list) else [vs])] for k, vs in value.items()}


def _indicator(spec: dict[str, Any], bases: dict[str, Base], origin: str) -> Indicator:
    ind_id = spec.get("id")
    if not isinstance(ind_id, str) or not ind_id.isidentifier():
        raise CatalogueError(f"{origin}: every indicator needs an id made of letters, digits and _, found {ind_id!r}")
    where = f"{origin}: indicator {ind_id}"
    known = {"id", "base", "kind", "name", "definition", "unit", "numerator", "denominator", "multiplier",
             "disaggregations", "sdg", "vaw", "source", "method", "over"}
    unknown = set(spec) - known
    if unknown:
        key = sorted(unknown)[0]
        raise CatalogueError(f"{where}: unknown key {key!r}{_did_you_mean(key, known)}")
    base_id = spec.get("base")
    if base_id not in bases:
        raise CatalogueError(f"{where}: unknown base {base_id!r}{_did_you_mean(str(base_id), bases)}")
    base = bases[base_id]
    kind = spec.get("kind")
    if kind not in KINDS:
        raise CatalogueError(f"{where}: kind must be one of {KINDS}, found {kind!r}")
    numerator = _filters(spec.get("numerator"), base.subject, f"{where}.numerator")
    denominator = spec.get("denominator") or {}
    population = denominator.get("population") if isinstance(denominator, dict) else None
    if kind == "rate":
        if population is None:
            population = {}
        unknown_pop = set(population) - {"sex", "age"}
        if unknown_pop:
            raise CatalogueError(f"{where}: a population denominator takes sex and age, not {sorted(unknown_pop)}")
    elif population is not None:
        raise CatalogueError(f"{where}: only a rate has a population denominator (kind is {kind})")
    over = spec.get("over")
    disaggregations = tuple(spec.get("disaggregations") or [])
    published = {d for table in base.tables for d in table.by}
    for d in disaggregations:
        if d not in published:
            raise CatalogueError(f"{where}: {d!r} is not a breakdown that base {base_id} publishes "
                                 f"({', '.join(sorted(published)) or 'none'})")
    if kind == "distribution" and (over is None or over not in disaggregations):
        raise CatalogueError(f"{where}: a distribution needs `over:` naming one of its disaggregations")
    return Indicator(
        id=ind_id,
        base=base,
        kind=kind,
        name=_text(spec.get("name"), f"{where}.name"),
        definition=_text(spec.get("definition"), f"{where}.definition"),
        unit=_text(spec.get("unit"), f"{where}.unit"),
        source=_text(spec.get("source"), f"{where}.source"),
        method=_text(spec.get("method"), f"{where}.method"),
        numerator=numerator,
        population=population,
        over=over,
        multiplier=float(spec.get("multiplier", 1)),
        disaggregations=disaggregations,
        sdg=str(spec["sdg"]) if spec.get("sdg") is not None else None,
        vaw=bool(spec.get("vaw", False)),
        origin=origin,
    )


def _did_you_mean(value: str, options: Any) -> str:
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
