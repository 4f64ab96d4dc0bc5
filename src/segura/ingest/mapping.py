"""Source mappings: one YAML file per institution extract, parsed and checked here.

A mapping says how to read the file (format, encoding, delimiter, header row), which
column fills which canonical field, how to translate the institution's values into
code lists (sex, weapon, offence codes -> ICCS, municipality names -> territory codes),
which date formats to accept, and which rows are totals or footers. Every key is
explained in docs/guide.md.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from segura.errors import MappingError
from segura.model.fields import FIELD_BY_NAME, TERRITORY_TARGET

Format = Literal["csv", "xlsx", "parquet"]
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "auto")
SEVERITIES = ("error", "warning", "off")
SOURCE_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

TOP_KEYS = {
    "source": "id of the source: lower case letters, digits and _ (the file name)",
    "institution": "{es: ..., en: ...} name of the institution",
    "description": "free text",
    "format": "csv, xlsx or parquet",
    "encoding": "utf-8, utf-8-sig, cp1252, latin-1 or auto (csv only)",
    "delimiter": "field separator (csv)",
    "quote": "quote character (csv)",
    "decimal": "decimal mark: '.' or ','",
    "header_row": "1-based row of the header",
    "sheet": "sheet name (xlsx); default the first",
    "period": "date field whose month assigns each row to a period",
    "columns": "source column -> canonical field",
    "dates": "field -> list of strptime formats",
    "territory": "how to find the territory code",
    "values": "field -> {raw value: code}",
    "codes": "national offence code -> ICCS code",
    "femicide_codes": "national offence codes that legally classify the death as femicide",
    "defaults": "field -> constant value",
    "skip_rows": "list of {column, pattern} for total or footer rows",
    "required": "fields that must have a value",
    "rules": "rule -> error | warning | off",
    "ignore_columns": "columns present in the file that are not used",
}

DEFAULT_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
DEFAULT_TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


class _MappingLoader(yaml.SafeLoader):
    """YAML with YAML 1.2 scalars: `0101` stays text (not the octal number 65) and
    `NO`, `off`, `si` stay text (not booleans); only true/false are booleans."""


_MappingLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_MappingLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_MappingLoader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789"))

# Rules that protect the model itself: a mapping cannot lower them.
FIXED_RULES = {
    "duplicate_record_id": "two rows with the same record id would become one person twice",
    "csv_structure": "a row that cannot be split into fields cannot be loaded",
    "encoding": "bytes that are not text cannot be loaded",
    "xlsx_structure": "a value outside the sheet's columns cannot be loaded",
}


@dataclass(frozen=True)
class TerritorySpec:
    by: Literal["name", "code"]
    columns: tuple[str, ...]
    level: str | None  # None: the workspace's territory.event_level
    pad: tuple[int, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # raw name -> territory code


@dataclass(frozen=True)
class SkipRule:
    column: str
    pattern: str


@dataclass(frozen=True)
class SourceMapping:
    source: str
    path: Path | None
    text: str
    institution_es: str
    institution_en: str
    format: Format
    encoding: str
    delimiter: str
    quote: str
    decimal: str
    header_row: int
    sheet: str | None
    period: str
    columns: dict[str, str]  # source column -> canonical field
    dates: dict[str, list[str]]
    territory: TerritorySpec | None
    values: dict[str, dict[str, str]]
    codes: dict[str, str]
    femicide_codes: tuple[str, ...]
    defaults: dict[str, str]
    skip_rows: tuple[SkipRule, ...]
    required: tuple[str, ...]
    rules: dict[str, str]
    ignore_columns: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def field_columns(self) -> dict[str, str]:
        """canonical field -> source column."""
        return {f: c for c, f in self.columns.items()}

    def expected_columns(self) -> list[str]:
        cols = list(self.columns)
        if self.territory:
            cols += [c for c in self.territory.columns if c not in cols]
        return cols

    def formats_for(self, field_name: str) -> list[str]:
        kind = FIELD_BY_NAME[field_name].kind
        default = DEFAULT_TIME_FORMATS if kind == "time" else DEFAULT_DATE_FORMATS
        return self.dates.get(field_name, default)

    def severity(self, rule: str, default: str) -> str:
        return self.rules.get(rule, default)

    @classmethod
    def load(cls, path: Path) -> SourceMapping:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise MappingError(f"{path}: a mapping must be UTF-8 text ({e})") from e
        return cls.parse(text, path=path)

    @classmethod
    def parse(cls, text: str, *, path: Path | None = None) -> SourceMapping:
        where = str(path) if path else "<mapping>"
        try:
            data = yaml.load(text, Loader=_MappingLoader)  # noqa: S506 (a SafeLoader subclass)
        except yaml.YAMLError as e:
            raise MappingError(f"{where}: not valid YAML: {e}") from e
        if not isinstance(data, dict):
            raise MappingError(f"{where}: expected a mapping of keys (source, format, columns, ...)")
        return _build(data, text, path, where)


def _err(where: str, msg: str) -> MappingError:
    return MappingError(f"{where}: {msg}")


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _str_map(where: str, key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _err(where, f"{key} must be a mapping of key: value")
    return {str(k): str(v) for k, v in value.items()}


def _build(data: dict[str, Any], text: str, path: Path | None, where: str) -> SourceMapping:
    for key in data:
        if key not in TOP_KEYS:
            raise _err(where, f"unknown key {key!r}{_suggest(key, TOP_KEYS)}")
    source = str(data.get("source") or (path.stem if path else ""))
    if not SOURCE_ID.match(source):
        raise _err(where, f"source {source!r} must be lower case letters, digits and _ (e.g. police)")
    if path is not None and path.stem != source:
        raise _err(where, f"source {source!r} must match the file name {path.name!r}")
    inst = data.get("institution") or {}
    if isinstance(inst, str):
        inst = {"es": inst, "en": inst}
    fmt = str(data.get("format", "csv")).lower()
    if fmt not in ("csv", "xlsx", "parquet"):
        raise _err(where, f"format {fmt!r} is not supported; expected csv, xlsx or parquet")
    encoding = str(data.get("encoding", "utf-8")).lower().replace("_", "-")
    encoding = {"utf8": "utf-8", "windows-1252": "cp1252", "latin1": "latin-1", "iso-8859-1": "latin-1"}.get(
        encoding, encoding
    )
    if encoding not in ENCODINGS:
        raise _err(where, f"encoding {encoding!r} is not supported; expected one of {', '.join(ENCODINGS)}")
    delimiter = str(data.get("delimiter", ","))
    quote = str(data.get("quote", '"'))
    decimal = str(data.get("decimal", "."))
    if len(delimiter) != 1 or len(quote) != 1:
        raise _err(where, "delimiter and quote must be one character each")
    if decimal not in (".", ","):
        raise _err(where, f"decimal {decimal!r} must be '.' or ','")
    if decimal == delimiter:
        raise _err(where, "decimal mark and delimiter cannot both be ','")
    header_row = data.get("header_row", 1)
    if not isinstance(header_row, int) or header_row < 1:
        raise _err(where, f"header_row {header_row!r} must be a whole number >= 1")

    columns = _str_map(where, "columns", data.get("columns"))
    if not columns:
        raise _err(where, "columns is empty: name at least the column that holds record_id")
    seen: dict[str, str] = {}
    for col, target in columns.items():
        if target not in FIELD_BY_NAME:
            raise _err(where, f"column {col!r} maps to unknown field {target!r}{_suggest(target, FIELD_BY_NAME)}")
        if target in seen:
            raise _err(where, f"field {target!r} is filled by two columns: {seen[target]!r} and {col!r}")
        seen[target] = col
    if "record_id" not in seen:
        raise _err(where, "no column maps to record_id: every row needs the institution's record id")

    dates_raw = data.get("dates") or {}
    if not isinstance(dates_raw, dict):
        raise _err(where, "dates must be a mapping of field: [formats]")
    dates: dict[str, list[str]] = {}
    for fname, fmts in dates_raw.items():
        if fname not in FIELD_BY_NAME or FIELD_BY_NAME[fname].kind not in ("date", "time"):
            raise _err(where, f"dates.{fname}: not a date or time field{_suggest(fname, FIELD_BY_NAME)}")
        fmts = [fmts] if isinstance(fmts, str) else fmts
        if not isinstance(fmts, list) or not fmts or not all(isinstance(f, str) and "%" in f for f in fmts):
            raise _err(where, f"dates.{fname} must be a list of strptime formats such as '%d/%m/%Y'")
        dates[fname] = list(fmts)

    territory = _territory(where, data.get("territory"))

    values_raw = data.get("values") or {}
    if not isinstance(values_raw, dict):
        raise _err(where, "values must be a mapping of field: {raw: code}")
    values = {}
    for fname, vmap in values_raw.items():
        if fname not in FIELD_BY_NAME:
            raise _err(where, f"values.{fname}: unknown field{_suggest(fname, FIELD_BY_NAME)}")
        if FIELD_BY_NAME[fname].kind != "code":
            coded = ", ".join(f.name for f in FIELD_BY_NAME.values() if f.kind == "code")
            raise _err(where, f"values.{fname}: {fname} has no code list, so values cannot apply; coded fields are {coded}")
        values[fname] = _str_map(where, f"values.{fname}", vmap)
    codes = _str_map(where, "codes", data.get("codes"))
    defaults = _str_map(where, "defaults", data.get("defaults"))
    for fname in defaults:
        if fname not in FIELD_BY_NAME:
            raise _err(where, f"defaults.{fname}: unknown field{_suggest(fname, FIELD_BY_NAME)}")

    skips = []
    for i, rule in enumerate(data.get("skip_rows") or []):
        if not isinstance(rule, dict) or set(rule) != {"column", "pattern"}:
            raise _err(where, f"skip_rows[{i}] must be {{column: NAME, pattern: REGEX}}")
        try:
            re.compile(str(rule["pattern"]))
        except re.error as e:
            raise _err(where, f"skip_rows[{i}].pattern is not a valid regular expression: {e}") from e
        skips.append(SkipRule(str(rule["column"]), str(rule["pattern"])))

    period = str(data.get("period", "occurred_date"))
    if period not in seen:
        raise _err(
            where,
            f"period {period!r} must be a date field mapped in columns "
            f"(mapped: {', '.join(sorted(seen))})",
        )
    if FIELD_BY_NAME[period].kind != "date":
        raise _err(where, f"period {period!r} is not a date field")

    required = tuple(str(r) for r in (data.get("required") or ["record_id", period]))
    for r in required:
        if r not in FIELD_BY_NAME and r != TERRITORY_TARGET:
            raise _err(where, f"required: unknown field {r!r}{_suggest(r, FIELD_BY_NAME)}")
        if r not in seen and r not in defaults and not (r == TERRITORY_TARGET and territory):
            raise _err(where, f"required field {r!r} is not filled by any column or default")
    for always in ("record_id", period):
        if always not in required:
            required = (*required, always)

    rules = _str_map(where, "rules", data.get("rules"))
    from segura.ingest.rules import RULE_NAMES  # noqa: PLC0415  (rules import mapping types)

    for rule, sev in rules.items():
        if rule not in RULE_NAMES:
            raise _err(where, f"rules.{rule}: unknown rule{_suggest(rule, RULE_NAMES)}")
        if sev not in SEVERITIES:
            raise _err(where, f"rules.{rule}: severity {sev!r}; expected error, warning or off")
        if rule in FIXED_RULES and sev != "error":
            raise _err(where, f"rules.{rule} is always an error: {FIXED_RULES[rule]}")

    return SourceMapping(
        source=source,
        path=path,
        text=text,
        institution_es=str(inst.get("es", source)),
        institution_en=str(inst.get("en", inst.get("es", source))),
        format=fmt,  # type: ignore[arg-type]
        encoding=encoding,
        delimiter=delimiter,
        quote=quote,
        decimal=decimal,
        header_row=header_row,
        sheet=str(data["sheet"]) if data.get("sheet") is not None else None,
        period=period,
        columns=columns,
        dates=dates,
        territory=territory,
        values=values,
        codes=codes,
        femicide_codes=tuple(str(c) for c in data.get("femicide_codes") or []),
        defaults=defaults,
        skip_rows=tuple(skips),
        required=required,
        rules=rules,
        ignore_columns=tuple(str(c) for c in data.get("ignore_columns") or []),
    )


def _territory(where: str, raw: Any) -> TerritorySpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _err(where, "territory must be a mapping with by, columns and level")
    unknown = set(raw) - {"by", "columns", "level", "pad", "aliases"}
    if unknown:
        raise _err(where, f"territory: unknown key {sorted(unknown)[0]!r}")
    by = str(raw.get("by", "name"))
    if by not in ("name", "code"):
        raise _err(where, f"territory.by {by!r}: expected name or code")
    cols = raw.get("columns")
    cols = [cols] if isinstance(cols, str) else cols
    if not cols or not isinstance(cols, list):
        raise _err(where, "territory.columns must list the column(s): [parent name, name] or [code]")
    if by == "name" and len(cols) > 2:
        raise _err(where, "territory.columns for names: [name] or [parent name, name]")
    pad = raw.get("pad") or []
    pad = [pad] if isinstance(pad, int) else pad
    if pad and len(pad) != len(cols):
        raise _err(where, "territory.pad needs one width per column")
    aliases = _str_map(where, "territory.aliases", raw.get("aliases"))
    return TerritorySpec(
        by=by,  # type: ignore[arg-type]
        columns=tuple(str(c) for c in cols),
        level=str(raw["level"]) if raw.get("level") else None,
        pad=tuple(int(p) for p in pad),
        aliases=aliases,
    )
