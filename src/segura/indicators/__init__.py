"""Indicators: the catalogue as data, the query modeler (Ibis), statistics and disclosure control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segura.indicators.catalogue import Catalogue, CatalogueError, Indicator, load_catalogue
from segura.indicators.compute import Result, compute
from segura.indicators.query import Query, QueryContext, QueryError, context_for, parse_where
from segura.settings import Settings

__all__ = [
    "Catalogue", "CatalogueError", "Indicator", "Query", "QueryContext", "QueryError", "Result",
    "compute", "context_for", "duckdb_context", "load_catalogue", "parse_where", "run_query",
]


def duckdb_context(con: Any, settings: Settings) -> QueryContext:
    """A query context over a warehouse connection (the Ibis DuckDB backend)."""
    import ibis

    return context_for(ibis.duckdb.from_connection(con), settings)


def run_query(con: Any, settings: Settings, query: Query, *, root: Path | None = None, lang: str = "en",
              protect: bool = True, changes: bool = True) -> Result:
    """Compute `query` on a warehouse connection, with local smoothing where territories have polygons."""
    from segura.indicators.weights import Contiguity

    ctx = duckdb_context(con, settings)
    return compute(query, ctx, load_catalogue(root), lang=lang, protect=protect, changes=changes,
                   weights=Contiguity(con))
