"""Open the workspace's DuckDB file with the extensions, schema and macros Segura needs.

DuckDB cannot download extensions here (no network at run time), so the extension
files come from the `duckdb-extension-*` PyPI packages and are installed from their path.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from segura.errors import SeguraError
from segura.model.schema import RECONCILE_TABLES, SCHEMA_VERSION, TABLES, VIEWS
from segura.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS = ("spatial",)  # cp1252 is read as Latin-1 and fixed in SQL (see ingest.encoding)



def _extension_path(name: str) -> Path:
    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError as e:
        raise SeguraError(
            f"the DuckDB extension package duckdb-extension-{name} is not installed; "
            f"run `pip install duckdb-extension-{name}=={duckdb.__version__}`"
        ) from e
    base = Path(str(module.__file__)).parent / "extensions"
    found = sorted(base.glob(f"v{duckdb.__version__}/{name}.duckdb_extension"))
    if not found:
        raise SeguraError(f"no {name} extension for DuckDB {duckdb.__version__} under {base}")
    return found[0]


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    for name in EXTENSIONS:
        try:
            con.execute(f"LOAD {name}")
        except duckdb.Error:
            path = str(_extension_path(name)).replace("'", "''")
            con.execute(f"INSTALL '{path}'")
            con.execute(f"LOAD {name}")


@dataclass
class Warehouse:
    """A connection to one workspace's warehouse (one writer at a time)."""

    con: duckdb.DuckDBPyConnection
    path: Path | None

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commit on success, roll back on any error (or a crash, via the WAL)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_warehouse(path: Path | None, settings: Settings | None = None, *, read_only: bool = False) -> Warehouse:
    """Open (creating if needed) the warehouse at `path`, or an in-memory one when `path` is None."""
    settings = settings or Settings()
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": str(settings["engine.memory_limit"]),
        "threads": int(settings["engine.threads"]),
        "preserve_insertion_order": True,
    }
    try:
        con = duckdb.connect(str(path) if path else ":memory:", read_only=read_only, config=config)
    except duckdb.IOException as e:
        raise SeguraError(
            f"cannot open the warehouse {path}: {e}. Another Segura process may be writing to it; "
            "wait for it to finish."
        ) from e
    if path is not None:
        tmp = path.parent / ".segura-tmp"
        tmp.mkdir(exist_ok=True)
        con.execute("SET temp_directory = ?", [str(tmp)])
    load_extensions(con)
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        _apply_schema(con)
    return Warehouse(con=con, path=path)


def _apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN TRANSACTION")
    for ddl in (*TABLES, *RECONCILE_TABLES):
        con.execute(ddl)
    for ddl in VIEWS:
        con.execute(ddl)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [str(SCHEMA_VERSION)],
    )
    con.execute("COMMIT")
