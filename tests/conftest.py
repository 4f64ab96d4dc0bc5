"""Shared fixtures: a fresh workspace with a small territory, and a helper that writes a
mapping and an extract, loads it, and reads back what the warehouse holds.

The territory is a tiny invented country ("CR"): two admin1 units and six municipalities
with square boundaries, written as CSV and GeoJSON by the fixture itself (not the sample
package). A template workspace is built once per session and copied for each test.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from segura import Workspace
from segura.ingest.report import LoadReport
from segura.ingest.territory import TerritoryOptions, import_territories
from segura.store import Warehouse, open_warehouse

COUNTRY = "CR"
DEPARTMENTS_CSV = """code,name,level,parent_code
01,San José,admin1,CR
02,Alajuela,admin1,CR
"""
# code, name, parent, (lon0, lat0) of a 0.1-degree square
MUNICIPALITIES = [
    ("0101", "Escazú", "01", (-84.2, 9.9)),
    ("0102", "Desamparados", "01", (-84.1, 9.9)),
    ("0103", "San Rafael", "01", (-84.0, 9.9)),
    ("0201", "San Ramón", "02", (-84.5, 10.1)),
    ("0202", "Grecia", "02", (-84.3, 10.1)),
    ("0203", "San Rafael", "02", (-84.2, 10.1)),
]

# The extract every test starts from; tests change what they need.
HEADER = [
    "folio",
    "fecha",
    "depto",
    "municipio",
    "sexo",
    "edad",
    "nombre",
    "delito",
    "observaciones",
]
BASE_MAPPING: dict[str, Any] = {
    "source": "police",
    "institution": {"es": "Policía de prueba", "en": "Test police"},
    "format": "csv",
    "encoding": "utf-8",
    "delimiter": ",",
    "columns": {
        "folio": "record_id",
        "fecha": "occurred_date",
        "sexo": "sex",
        "edad": "age",
        "nombre": "given_names",
        "delito": "offence_code",
    },
    "dates": {"occurred_date": ["%d/%m/%Y"]},
    "territory": {"by": "name", "columns": ["depto", "municipio"], "level": "admin2"},
    "codes": {"HOM": "0101", "LES": "0201"},
    "ignore_columns": ["observaciones"],
}


def geojson_squares(
    features: Iterable[tuple[str, str, str, tuple[float, float]]], size: float = 0.1
) -> str:
    out = []
    for code, name, parent, (x, y) in features:
        ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
        out.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "name": name,
                    "level": "admin2",
                    "parent_code": parent,
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": out}, ensure_ascii=False)


@pytest.fixture(scope="session")
def template_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("template")
    ws = Workspace.init(base / "obs", name="Observatorio de prueba", country=COUNTRY)
    (base / "departments.csv").write_text(DEPARTMENTS_CSV, encoding="utf-8")
    (base / "municipalities.geojson").write_text(geojson_squares(MUNICIPALITIES), encoding="utf-8")
    with ws.warehouse() as wh:
        for name in ("departments.csv", "municipalities.geojson"):
            report = import_territories(wh, base / name, ws.settings, TerritoryOptions())
            assert not report.errors, report.issues
    return ws.root


class _KeepOpen(Warehouse):
    """The test's one connection: `with ws.warehouse()` inside Workspace.ingest must not close it."""

    def close(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass


@dataclass
class _SharedWarehouse:
    """Opening a warehouse loads the spatial extension (~0.2 s); a test opens it once, lazily.

    `release()` closes it, for tests that hand the file to another process (DuckDB allows one
    process at a time) or that want the next open to start from the file alone."""

    ws: Workspace
    wh: _KeepOpen | None = None

    def get(self, *, read_only: bool = False) -> Warehouse:
        if self.wh is None:
            opened = open_warehouse(self.ws.warehouse_path, self.ws.settings)
            self.wh = _KeepOpen(con=opened.con, path=opened.path)
        return self.wh

    def release(self) -> None:
        if self.wh is not None:
            self.wh.con.close()
            self.wh = None


@pytest.fixture
def ws(template_workspace: Path, tmp_path: Path) -> Iterator[Workspace]:
    """A fresh workspace (country CR, 2 admin1 + 6 admin2 with boundaries) in tmp_path.

    Its `warehouse()` hands out one shared connection (see _SharedWarehouse); everything else,
    Workspace.ingest included, is the real code path. `ws.release()` closes the connection."""
    root = tmp_path / "obs"
    shutil.copytree(template_workspace, root)
    workspace = Workspace.open(root)
    shared = _SharedWarehouse(workspace)
    object.__setattr__(workspace, "warehouse", shared.get)  # frozen dataclass: shadow the method
    object.__setattr__(workspace, "release", shared.release)
    yield workspace
    shared.release()


def row(**values: Any) -> dict[str, str]:
    """A valid row of the base extract; keyword arguments replace its values."""
    base = {
        "folio": "1",
        "fecha": "15/03/2021",
        "depto": "San José",
        "municipio": "Escazú",
        "sexo": "F",
        "edad": "34",
        "nombre": "Ana",
        "delito": "HOM",
        "observaciones": "",
    }
    base.update({k: str(v) for k, v in values.items()})
    return base


def rows(n: int, start: int = 1, **values: Any) -> list[dict[str, str]]:
    return [row(folio=str(i), **values) for i in range(start, start + n)]


@dataclass
class Inbox:
    """Writes mappings and extracts into a workspace, loads them, and reads the warehouse back."""

    ws: Workspace

    # -- writing ------------------------------------------------------------------------------------

    def mapping(self, source: str = "police", **changes: Any) -> Path:
        """Write sources/<source>.yaml: the base mapping with top-level keys replaced (None removes)."""
        data = {**BASE_MAPPING, "source": source}
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        path = self.ws.mapping_path(source)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    def csv_text(
        self,
        records: Sequence[dict[str, str] | Sequence[str]],
        *,
        header: Sequence[str] | None = HEADER,
        delimiter: str = ",",
    ) -> str:
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
        if header is not None:
            writer.writerow(header)
        for r in records:
            writer.writerow(
                [r.get(h, "") for h in (header or HEADER)] if isinstance(r, dict) else r
            )
        return buf.getvalue()

    def csv(
        self,
        name: str,
        records: Sequence[dict[str, str] | Sequence[str]] = (),
        *,
        header: Sequence[str] | None = HEADER,
        delimiter: str = ",",
        encoding: str = "utf-8",
    ) -> Path:
        return self.write(
            name, self.csv_text(records, header=header, delimiter=delimiter).encode(encoding)
        )

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.ws.root / "inbox" / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    # -- loading ------------------------------------------------------------------------------------

    def ingest(self, path: Path, source: str = "police", **kwargs: Any) -> LoadReport:
        if not self.ws.mapping_path(source).exists():
            self.mapping(source)
        return self.ws.ingest(source, path, **kwargs)

    # -- reading back -------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.ws.warehouse(read_only=True) as wh:
            return wh.con.execute(sql, list(params)).fetchall()

    def release(self) -> None:
        """Close the test's connection, e.g. before another process opens the warehouse."""
        self.ws.release()  # type: ignore[attr-defined]

    def counts(self) -> dict[str, int]:
        """Row count of every table of the warehouse (and the value of the load sequence)."""
        with self.ws.warehouse(read_only=True) as wh:
            tables = [
                r[0]
                for r in wh.con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1"
                ).fetchall()
            ]
            out = {t: wh.con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
        return out

    def quarantine(self, load_id: int) -> dict[int, dict[str, Any]]:
        """row number -> {raw: [...] or the raw line, errors: [{rule, column, value, message}]}."""
        return {
            r[0]: {"raw": json.loads(r[1]), "errors": json.loads(r[2])}
            for r in self.query(
                "SELECT row_number, raw_record, errors FROM quarantine WHERE load_id = ? ORDER BY 1",
                [load_id],
            )
        }

    def issues(self, load_id: int, rule: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT row_number, rule, severity, column_name, value, message FROM load_issue WHERE load_id = ?"
        params: list[Any] = [load_id]
        if rule:
            sql += " AND rule = ?"
            params.append(rule)
        keys = ("row", "rule", "severity", "column", "value", "message")
        return [
            dict(zip(keys, r, strict=True))
            for r in self.query(sql + " ORDER BY row_number, rule", params)
        ]

    def loaded_rows(self, load_id: int) -> list[int]:
        return [
            r[0]
            for r in self.query(
                "SELECT row_number FROM person WHERE load_id = ? ORDER BY 1", [load_id]
            )
        ]

    def load_row(self, load_id: int) -> dict[str, Any]:
        with self.ws.warehouse(read_only=True) as wh:
            cur = wh.con.execute("SELECT * FROM load WHERE load_id = ?", [load_id])
            names = [d[0] for d in cur.description]
            values = cur.fetchone()
        assert values is not None, f"no load {load_id}"
        return dict(zip(names, values, strict=True))


@pytest.fixture
def inbox(ws: Workspace) -> Inbox:
    return Inbox(ws)


def assert_adds_up(report: LoadReport, inbox: Inbox) -> None:
    """rows read = loaded + quarantined, in the report and in the warehouse."""
    assert report.adds_up, report.to_dict()
    assert report.load_id is not None
    load = inbox.load_row(report.load_id)
    persons = inbox.query("SELECT count(*) FROM person WHERE load_id = ?", [report.load_id])[0][0]
    quarantined = inbox.query(
        "SELECT count(*) FROM quarantine WHERE load_id = ?", [report.load_id]
    )[0][0]
    assert (
        load["rows_read"] == load["rows_loaded"] + load["rows_quarantined"] == persons + quarantined
    )


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The sample observatory, loaded and reconciled once per session (no indicators computed).
    Tests read its warehouse; the portal tests add releases to it."""
    from segura.pipeline import run_demo

    root = tmp_path_factory.mktemp("sample") / "demo"
    return run_demo(root, indicators=False).workspace
