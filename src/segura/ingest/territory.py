"""Bring your own country: import territories (codes, names, levels, parents, boundaries) and population.

Territory files are CSV (code, name, level, parent_code[, iso_3166_2]) or any vector format
GDAL reads (GeoJSON, TopoJSON, Shapefile, GeoPackage) with those properties; options name
other property names. Every finding (duplicate codes, unknown parents, levels out of order,
invalid geometries) is reported with the file, row and value; errors stop the import and
nothing is written. Invalid geometries are repaired (shapely.make_valid) and reported,
unless repair is turned off.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import shapely

from segura.errors import TerritoryImportError
from segura.ingest.report import Issue
from segura.model.countries import COUNTRY_NAMES
from segura.model.names import fold
from segura.settings import Settings
from segura.store import Warehouse

VECTOR_SUFFIXES = (".geojson", ".json", ".topojson", ".shp", ".gpkg", ".zip")


@dataclass
class FieldNames:
    code: str = "code"
    name: str = "name"
    level: str = "level"
    parent: str = "parent_code"
    iso: str = "iso_3166_2"


@dataclass
class TerritoryOptions:
    fields: FieldNames = field(default_factory=FieldNames)
    level: str | None = None  # one level for every row, when the file has no level column
    parent: str | None = None  # one parent for every row
    parent_prefix: int | None = None  # parent code = first N characters of the code
    pad: int | None = None  # left-pad codes with zeros to this width
    exclude: tuple[str, ...] = ()  # codes to leave out (lakes, claimed areas)
    repair: bool = True
    source: str = ""


@dataclass
class TerritoryImportReport:
    file: str
    rows_read: int = 0
    imported: int = 0
    excluded: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    with_geometry: int = 0
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]


@dataclass
class _Row:
    row: int
    code: str
    name: str
    level: str
    parent: str | None
    iso: str | None
    wkb: bytes | None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_rows(path: Path, opts: TerritoryOptions) -> list[dict[str, object]]:
    if path.suffix.lower() == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows: list[dict[str, object]] = [dict(r) for r in csv.DictReader(fh)]
        except UnicodeDecodeError as e:
            raise TerritoryImportError(f"{path.name}: not UTF-8 text (byte {e.object[e.start]:#04x} at position {e.start:,}); save it as UTF-8") from e
        return rows
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise TerritoryImportError(f"{path.name}: unknown kind of file; expected .csv or a boundary file ({', '.join(VECTOR_SUFFIXES)})")
    import pyogrio

    try:
        meta, _fids, geometry, field_data = pyogrio.raw.read(path)
    except Exception as e:  # pyogrio raises DataSourceError and others
        raise TerritoryImportError(f"{path.name}: cannot read boundaries: {e}") from e
    crs = meta.get("crs")
    if crs and crs not in ("EPSG:4326", "OGC:CRS84"):
        geoms = shapely.from_wkb(geometry)
        from pyproj import Transformer

        tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        geometry = shapely.to_wkb(geoms)
    names = list(meta["fields"])
    out = []
    for i in range(len(geometry)):
        row: dict[str, object] = {n: field_data[j][i] for j, n in enumerate(names)}
        row["__wkb__"] = geometry[i]
        out.append(row)
    return out


def read_territories(path: Path, opts: TerritoryOptions, settings: Settings) -> tuple[list[_Row], TerritoryImportReport]:
    report = TerritoryImportReport(file=path.name)
    raw = _read_rows(path, opts)
    report.rows_read = len(raw)
    if not raw:
        raise TerritoryImportError(f"{path.name}: no rows")
    f = opts.fields
    columns = set(raw[0])
    needed = [f.code, f.name] + ([] if opts.level else [f.level])
    missing = [c for c in needed if c not in columns]
    if missing:
        raise TerritoryImportError(
            f"{path.name}: missing column(s) {', '.join(missing)}; the file has {', '.join(sorted(c for c in columns if c != '__wkb__'))}. "
            "Name them with --code-field, --name-field, or give --level."
        )
    levels = list(settings["territory.levels"])
    rows: list[_Row] = []
    first = 2 if path.suffix.lower() == ".csv" else 1
    for i, r in enumerate(raw, start=first):
        code = _text(r.get(f.code))
        if opts.pad and code:
            code = code.zfill(opts.pad)
        if code in opts.exclude or _text(r.get(f.code)) in opts.exclude:
            report.excluded += 1
            continue
        level = opts.level or _text(r.get(f.level))
        parent = opts.parent or _text(r.get(f.parent)) or None
        if opts.parent_prefix:
            parent = code[: opts.parent_prefix]
        name = _text(r.get(f.name))
        iso = _text(r.get(f.iso)) or None
        wkb = r.get("__wkb__")
        problem: tuple[str, str, str] | None = None
        if not code:
            problem = (f.code, code, "a code is required")
        elif not name:
            problem = (f.name, name, "a name is required")
        elif level not in levels:
            problem = (f.level, level, f"expected one of the workspace's levels {levels} (territory.levels in segura.toml)")
        if problem:
            report.issues.append(Issue("territory_row", "error", i, problem[0], problem[1], problem[2]))
            continue
        rows.append(_Row(i, code, name, level, parent, iso, wkb if isinstance(wkb, bytes) else None))
    _check(rows, report, levels, opts, path)
    return rows, report


def _check(rows: list[_Row], report: TerritoryImportReport, levels: list[str], opts: TerritoryOptions, path: Path) -> None:
    seen: dict[str, _Row] = {}
    unique: list[_Row] = []
    for r in rows:
        if r.code in seen:
            prior = seen[r.code]
            if (prior.name, prior.level, prior.parent) != (r.name, r.level, r.parent):
                report.issues.append(Issue("duplicate_code", "error", r.row, opts.fields.code, r.code, f"code {r.code!r} also on row {prior.row} with another name or parent ({prior.name!r})"))
            elif r.wkb is not None and prior.wkb is not None:
                report.issues.append(Issue("duplicate_code", "error", r.row, opts.fields.code, r.code, f"code {r.code!r} has a second boundary (first on row {prior.row})"))
            continue
        seen[r.code] = r
        unique.append(r)
    rows[:] = unique
    for r in rows:
        if r.wkb is None:
            continue
        geom = shapely.from_wkb(r.wkb)
        if geom is None or geom.is_empty:
            r.wkb = None
            continue
        if not shapely.is_valid(geom):
            reason = shapely.is_valid_reason(geom)
            if opts.repair:
                fixed = shapely.make_valid(geom)
                r.wkb = shapely.to_wkb(fixed)
                report.issues.append(Issue("invalid_geometry", "warning", r.row, "geometry", r.code, f"invalid boundary ({reason}); repaired with make_valid"))
            else:
                report.issues.append(Issue("invalid_geometry", "error", r.row, "geometry", r.code, f"invalid boundary ({reason})"))


def import_territories(wh: Warehouse, path: Path, settings: Settings, opts: TerritoryOptions | None = None) -> TerritoryImportReport:
    opts = opts or TerritoryOptions()
    rows, report = read_territories(path, opts, settings)
    con = wh.con
    levels = list(settings["territory.levels"])
    existing = {r[0]: r[1] for r in con.execute("SELECT code, level FROM territory").fetchall()}
    in_file = {r.code: r.level for r in rows}
    country = settings.country
    add_country = False
    for r in rows:
        if r.parent is None:
            if r.level != levels[0]:
                report.issues.append(Issue("unknown_parent", "error", r.row, opts.fields.parent, None, f"a {r.level} needs a parent of level {levels[levels.index(r.level) - 1]}"))
            continue
        parent_level = in_file.get(r.parent) or existing.get(r.parent)
        if parent_level is None and r.parent == country and levels.index(r.level) == 1:
            add_country = True
            parent_level = levels[0]
        if parent_level is None:
            report.issues.append(Issue("unknown_parent", "error", r.row, opts.fields.parent, r.parent, f"no territory with code {r.parent!r} in this file or the workspace; import the parents first"))
        elif levels.index(parent_level) != levels.index(r.level) - 1:
            report.issues.append(Issue("parent_level", "error", r.row, opts.fields.parent, r.parent, f"the parent of a {r.level} must be a {levels[levels.index(r.level) - 1]}, not a {parent_level}"))
    if report.errors:
        return report
    source = opts.source or path.name
    table = pa.table(
        {
            "code": [r.code for r in rows],
            "name": [r.name for r in rows],
            "level": [r.level for r in rows],
            "parent_code": [r.parent for r in rows],
            "iso_3166_2": [r.iso for r in rows],
            "name_key": [fold(r.name) for r in rows],
            "wkb": pa.array([r.wkb for r in rows], pa.binary()),
        }
    )
    with wh.transaction():
        if add_country and country not in existing:
            name = COUNTRY_NAMES.get(country, country)
            con.execute("INSERT INTO territory VALUES (?, ?, ?, NULL, ?, ?, NULL, ?)", [country, name, levels[0], country, fold(name), "settings"])
        con.register("_terr_in", table)
        con.execute(
            """
            INSERT INTO territory
            SELECT code, name, level, parent_code, iso_3166_2, name_key,
                   CASE WHEN wkb IS NULL THEN NULL ELSE ST_GeomFromWKB(wkb) END, ?
            FROM _terr_in
            ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                parent_code = excluded.parent_code, iso_3166_2 = excluded.iso_3166_2,
                name_key = excluded.name_key, geometry = coalesce(excluded.geometry, territory.geometry),
                source = excluded.source
            """,
            [source],
        )
        con.unregister("_terr_in")
    report.imported = len(rows)
    report.with_geometry = sum(r.wkb is not None for r in rows)
    for r in rows:
        report.by_level[r.level] = report.by_level.get(r.level, 0) + 1
    return report
