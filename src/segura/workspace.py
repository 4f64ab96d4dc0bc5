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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from segura.errors import MappingError, WorkspaceError
from segura.settings import Settings, render_template
from segura.store import Warehouse, open_warehouse

if TYPE_CHECKING:
    from segura.ingest.mapping import SourceMapping

SETTINGS_FILE = "segura.toml"
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
    def init(cls, root: Path, *, name: str | None = None, country: str | None = None) -> Workspace:
        """Create the folder layout and a commented segura.toml (an existing one is kept)."""
        root = root.resolve()
        root.mkdir(parents=True, exist_ok=True)
        for folder in FOLDERS:
            (root / folder).mkdir(exist_ok=True)
        toml = root / SETTINGS_FILE
        if not toml.exists():
            overrides = {}
            if name:
                overrides["workspace.name"] = name
            if country:
                overrides["workspace.country"] = country.upper()
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

    def ingest(self, source_id: str, file: Path, *, period: str | None = None, reload: bool = False, on_step=None):  # type: ignore[no-untyped-def]
        """Load one extract of `source_id`; returns its LoadReport."""
        from segura.ingest.load import load_extract, parse_period

        mapping = self.mapping(source_id)
        with self.warehouse() as wh:
            return load_extract(
                wh,
                mapping,
                Path(file),
                period=parse_period(period) if period else None,
                reload=reload,
                event_level=str(self.settings["territory.event_level"]),
                on_step=on_step,
            )
