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
    ctx.cache_dir = _cache(root)
    return compute(query, ctx, load_catalogue(root), lang=lang, protect=protect, changes=changes,
                   weights=Contiguity(con))


def compute_catalogue(con: Any, settings: Settings, *, root: Path | None = None, out_dir: Path | None = None,
                      lang: str = "en") -> list[dict[str, Any]]:
    """Every indicator of the catalogue, protected: the national figure of the latest year (the
    headline), and, with `out_dir`, each indicator by territory x year as CSV there."""
    from segura.indicators.export import write_result
    from segura.indicators.weights import Contiguity

    ctx = duckdb_context(con, settings)
    ctx.cache_dir = _cache(root)
    catalogue = load_catalogue(root)
    weights = Contiguity(con)
    # the headline year: the last one the extracts cover in full (a partial year would look like a fall)
    covered = {m.year: sum(1 for x in ctx.months if x.year == m.year) for m in ctx.months}
    full = [y for y, n in covered.items() if n == 12]
    year = max(full) if full else (ctx.last_month.year if ctx.last_month else None)
    headlines = []
    for ind in catalogue.indicators.values():
        by: tuple[str, ...] = (ind.over,) if ind.kind == "distribution" and ind.over else ()
        where: dict[str, tuple[str, ...]] = {"year": (str(year),)} if year else {}
        result = compute(Query(ind.id, by, where), ctx, catalogue, lang=lang, weights=weights)
        for rec in result.records():
            headlines.append({"indicator": ind.id, "name": ind.name(lang), "unit": ind.unit(lang), "year": year,
                              "category": rec.get(f"{ind.over}_label") if ind.over else None,
                              "value": rec["value"], "ci_low": rec["ci_low"], "ci_high": rec["ci_high"],
                              "numerator": rec["numerator"], "conf_status": rec["conf_status"],
                              "obs_status": rec["obs_status"]})
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            table = compute(Query(ind.id, ("territory", "period"), {}, level=ctx.levels[1] if len(ctx.levels) > 1
                                  else None), ctx, catalogue, lang=lang, weights=weights)
            write_result(table, out_dir / f"{ind.id}.csv", "csv")
    return headlines


def _cache(root: Path | None) -> Path | None:
    return None if root is None else root / "cache" / "disclosure"
