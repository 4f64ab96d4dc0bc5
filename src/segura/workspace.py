"""A workspace: the folder an observatory's installation lives in (like a dbt project).

    my-observatory/
      segura.toml        settings
      sources/*.yaml     one mapping per institution extract
      inbox/             extract files as delivered
      warehouse.duckdb   the single database (one writer at a time)
      releases/<date>/   published snapshots
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from segura.errors import ConfigError, MappingError, WorkspaceError
from segura.settings import Settings, render_template
from segura.store import Warehouse, open_warehouse

if TYPE_CHECKING:
    from segura.indicators import Catalogue, Result
    from segura.ingest.mapping import SourceMapping
    from segura.ingest.report import LoadReport
    from segura.portal.release import PublishReport
    from segura.quality.checks import CheckResult
    from segura.reconcile.discrepancy import DiscrepancyReport
    from segura.reconcile.run import ReconcileResult

SETTINGS_FILE = "segura.toml"
# IANA time zone of the capital, for the countries Segura's users are in (a workspace may change it).
TIME_ZONES = {
    "MX": "America/Mexico_City", "GT": "America/Guatemala", "HN": "America/Tegucigalpa", "SV": "America/El_Salvador",
    "NI": "America/Managua", "CR": "America/Costa_Rica", "PA": "America/Panama", "BZ": "America/Belize",
    "DO": "America/Santo_Domingo", "CO": "America/Bogota", "EC": "America/Guayaquil", "PE": "America/Lima",
    "BO": "America/La_Paz", "CL": "America/Santiago", "AR": "America/Argentina/Buenos_Aires", "UY": "America/Montevideo",
    "PY": "America/Asuncion", "BR": "America/Sao_Paulo", "VE": "America/Caracas", "JM": "America/Jamaica",
    "TT": "America/Port_of_Spain", "HT": "America/Port-au-Prince", "CU": "America/Havana",
}
WAREHOUSE_FILE = "warehouse.duckdb"
FOLDERS = ("sources", "inbox", "releases")


def default_workspace_dir() -> Path:
    """`SEGURA_WORKSPACE` when set, else the current folder."""
    return Path(os.environ.get("SEGURA_WORKSPACE") or ".").resolve()


@dataclass(frozen=True)
class Workspace:
    root: Path
    settings: Settings

    @classmethod
    def init(cls, root: Path, *, name: str | None = None, country: str | None = None, settings: dict[str, Any] | None = None) -> Workspace:
        """Create the folder layout and a commented segura.toml (an existing one is kept)."""
        root = root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        for folder in FOLDERS:
            (root / folder).mkdir(exist_ok=True)
        toml = root / SETTINGS_FILE
        if not toml.exists():
            overrides: dict[str, Any] = dict(settings or {})
            if name:
                overrides["workspace.name"] = name
            if country:
                overrides["workspace.country"] = country.upper()
                if country.upper() in TIME_ZONES:
                    overrides["workspace.timezone"] = TIME_ZONES[country.upper()]
            toml.write_text(render_template(overrides), encoding="utf-8")
        ws = cls.open(root)
        ws.warehouse().close()  # creates the schema
        return ws

    @classmethod
    def open(cls, root: Path | None = None) -> Workspace:
        root = (root or default_workspace_dir()).resolve()
        toml = root / SETTINGS_FILE
        if not toml.is_file():
            raise WorkspaceError(
                f"{root} is not a Segura workspace (no {SETTINGS_FILE}); "
                f"create one with `segura init {root}` or pass --workspace DIR"
            )
        return cls(root=root, settings=Settings.load(toml))

    @property
    def warehouse_path(self) -> Path:
        return self.root / WAREHOUSE_FILE

    @property
    def sources_dir(self) -> Path:
        return self.root / "sources"

    def warehouse(self, *, read_only: bool = False) -> Warehouse:
        return open_warehouse(self.warehouse_path, self.settings, read_only=read_only)

    def mapping_path(self, source_id: str) -> Path:
        return self.sources_dir / f"{source_id}.yaml"

    def source_ids(self) -> list[str]:
        return sorted(p.stem for p in self.sources_dir.glob("*.yaml"))

    def mapping(self, source_id: str) -> SourceMapping:
        from segura.ingest.mapping import SourceMapping

        path = self.mapping_path(source_id)
        if not path.is_file():
            known = ", ".join(self.source_ids()) or "none yet"
            raise MappingError(
                f"no mapping for source {source_id!r} ({path} does not exist); known sources: {known}"
            )
        return SourceMapping.load(path)

    # -- stages, as methods of the one core object the CLI and the web app share --------------------

    def ingest(
        self, source_id: str, file: Path, *, period: str | None = None, reload: bool = False, on_step: Callable[[str], None] | None = None
    ) -> LoadReport:
        """Load one extract of `source_id`; returns its LoadReport."""
        from segura.ingest.load import load_extract, parse_period

        mapping = self.mapping(source_id)
        try:
            declared = parse_period(period) if period else None
        except ValueError as e:
            raise ConfigError(str(e)) from e
        with self.warehouse() as wh:
            return load_extract(
                wh,
                mapping,
                Path(file),
                period=declared,
                reload=reload,
                event_level=str(self.settings["territory.event_level"]),
                on_step=on_step,
            )

    def check(self) -> list[CheckResult]:
        """Run the warehouse integrity checks; returns a list of CheckResult."""
        from segura.quality import run_checks

        with self.warehouse() as wh:
            return run_checks(wh.con, self.settings)

    def export_quarantine(self, load_id: int, out: Path) -> int:
        """Write a load's quarantined rows (row, reasons, then the row's own columns) to CSV or XLSX."""
        import json

        from segura.store.export import write_table

        with self.warehouse(read_only=False) as wh:
            meta = wh.con.execute(
                "SELECT l.decisions, s.mapping_text FROM load l JOIN source s USING (source_id) WHERE load_id = ?", [load_id]
            ).fetchone()
            if meta is None:
                raise WorkspaceError(f"no load {load_id}; `segura status` lists the loads")
            columns = json.loads(meta[0]).get("columns", []) if meta[0] else []
            # Names and documents never leave the warehouse, not even in a quarantine export.
            from segura.ingest.mapping import SourceMapping
            from segura.ingest.readers import header_key
            from segura.model.fields import FIELD_BY_NAME

            mapping = SourceMapping.parse(meta[1])
            withheld = {header_key(c) for c, f in mapping.columns.items() if FIELD_BY_NAME[f].table == "identity"}
            rows = wh.con.execute("SELECT row_number, raw_record, errors FROM quarantine WHERE load_id = ? ORDER BY row_number", [load_id]).fetchall()
        out_rows = []
        for row_number, raw, errors in rows:
            values = json.loads(raw)
            values = values if isinstance(values, list) else [values]
            if len(values) == len(columns):
                values = ["[withheld]" if header_key(c) in withheld and v else v for c, v in zip(columns, values, strict=True)]
            else:  # a record the reader could not split: its raw line may hold names
                values = ["[withheld: unsplit record]"]
            reasons = "; ".join(f"{e.get('column') or ''}: {e['message']}" for e in json.loads(errors))
            out_rows.append([row_number, reasons, *values])
        return write_table(out, ["row", "reasons", *columns], out_rows)

    def reconcile(self, *, retrain: bool = False, truth: Path | None = None) -> ReconcileResult:
        """Link the current victim records across institutions; `truth` (a CSV of source, record_id,
        person_id) adds precision and recall to the result."""
        from segura.reconcile.evaluate import read_truth
        from segura.reconcile.run import reconcile

        with self.warehouse() as wh:
            return reconcile(wh, self.settings, root=self.root, retrain=retrain, truth=read_truth(truth) if truth else None)

    def indicators(self) -> Catalogue:
        """The indicator catalogue: Segura's, with this workspace's `indicators/*.yaml` on top."""
        from segura.indicators import load_catalogue

        return load_catalogue(self.root)

    def query(
        self,
        measure: str,
        *,
        by: Sequence[str] = (),
        where: Mapping[str, str | Sequence[str]] | None = None,
        level: str | None = None,
        period: str = "year",
        lang: str = "en",
        protect: bool = True,
    ) -> Result:
        """An indicator broken down `by` dimensions, filtered by `where` (e.g. {"year": "2015"}).

        With `protect` (the default) cells under the disclosure threshold, and the cells that would
        let someone recover them, are emptied and flagged as SDMX does.
        """
        from segura.indicators import Query, run_query

        filters = {k: (v,) if isinstance(v, str) else tuple(str(x) for x in v) for k, v in (where or {}).items()}
        q = Query(measure, tuple(by), filters, level=level, grain=period)
        with self.warehouse(read_only=True) as wh:
            return run_query(wh.con, self.settings, q, root=self.root, lang=lang, protect=protect)

    def compute_catalogue(self, out_dir: Path | None = None, *, lang: str = "en") -> list[dict[str, Any]]:
        """Every indicator, protected: headline figures, and each by territory x year as CSV in `out_dir`."""
        from segura.indicators import compute_catalogue

        with self.warehouse(read_only=True) as wh:
            return compute_catalogue(wh.con, self.settings, root=self.root, out_dir=out_dir, lang=lang)

    def publish(self, *, indicators: list[str] | None = None,
                on_step: Callable[[str, int, int], None] | None = None) -> PublishReport:
        """Write a new immutable, dated release of everything public to `releases/<date>/`."""
        from segura.portal.release import publish

        with self.warehouse(read_only=True) as wh:
            return publish(wh.con, self.settings, self.root, indicators=indicators, on_step=on_step)

    def discrepancies(self) -> DiscrepancyReport:
        """The latest reconciliation's discrepancy report (record ids only)."""
        from segura.reconcile.discrepancy import discrepancy_report

        with self.warehouse() as wh:
            return discrepancy_report(wh.con)

    def export_discrepancies(self, out_dir: Path) -> list[Path]:
        """Write the discrepancy report to `out_dir` as XLSX and CSV (formula payloads neutralised)."""
        from segura.reconcile.discrepancy import export_report

        return export_report(self.discrepancies(), out_dir)
