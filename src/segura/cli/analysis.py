"""The analyst's commands: territorial analysis, alerts and the social conflict registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from segura.cli.base import JsonOpt, WorkspaceOpt, _print_json, _ws, app
from segura.console import console

# -- territorial analysis ------------------------------------------------------------------------

TerrLevelOpt = Annotated[str, typer.Option("--level", help="Territory level (admin2 = municipality).")]
YearOpt = Annotated[Optional[int], typer.Option("--year", help="Year (default: the last full year).")]  # noqa: UP045


def _frame_out(frame: Any, as_json: bool, columns: list[str], title: str, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        from segura.portal.service import records

        _print_json({**(extra or {}), "data": records(frame)})
        return
    table = Table(*columns, title=title)
    for row in frame[columns].itertuples(index=False):
        table.add_row(*[f"{v:.3g}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)


@app.command()
def hotspots(
    indicator: Annotated[str, typer.Argument(help="A rate indicator (`segura indicators list`).")],
    level: TerrLevelOpt = "admin2",
    year: YearOpt = None,
    method: Annotated[str, typer.Option("--method", help="local_moran (clusters and outliers) or gi_star (hot and cold spots).")] = "local_moran",
    permutations: Annotated[int, typer.Option("--permutations", help="Conditional permutations for the pseudo p-values.")] = 999,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance after false discovery rate control.")] = 0.05,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Local clusters of an indicator's smoothed rate by territory: Local Moran (High-High, Low-Low,
    High-Low, Low-High) or Getis-Ord Gi* (hot and cold spots), permutation inference, FDR control."""
    from segura.territorial.run import hotspots as run

    ws = _ws(workspace)
    with ws.warehouse(read_only=True) as wh:
        table, clusters = run(wh.con, ws.settings, ws.root, indicator, level=level, year=year, method=method,
                              permutations=permutations, alpha=alpha)
    shown = table.sort_values(["significant", "z"], ascending=[False, False])
    _frame_out(shown, as_json, ["code", "name", "smoothed", "z", "p_sim", "p_fdr", "cluster"],
               f"{indicator}, {method}, {int(table['year'].iloc[0])}: {clusters.counts()}",
               {"indicator": indicator, "method": method, "level": level, "permutations": permutations,
                "alpha": alpha, "counts": clusters.counts()})


@app.command()
def emerging(
    indicator: Annotated[str, typer.Argument(help="An indicator (counts for a count, rates for a rate).")],
    level: TerrLevelOpt = "admin2",
    grain: Annotated[str, typer.Option("--grain", help="month, quarter or year.")] = "month",
    time_window: Annotated[int, typer.Option("--time-window", help="Previous periods in a bin's neighbourhood.")] = 1,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance (bins after FDR, and the trend).")] = 0.05,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Emerging hot spot analysis (as ArcGIS Pro and R's sfdep): Gi* in space and time and a
    Mann-Kendall trend put each territory in a category (new, consecutive, intensifying,
    persistent, diminishing, sporadic, oscillating, historical hot or cold spot, or no pattern)."""
    from segura.territorial.run import emerging as run

    ws = _ws(workspace)
    with ws.warehouse(read_only=True) as wh:
        result = run(wh.con, ws.settings, ws.root, indicator, level=level, grain=grain, time_window=time_window,
                     alpha=alpha)
    units = result.units.rename(columns={"unit": "code"}).sort_values(["category", "code"])
    counts = {str(k): int(v) for k, v in units["category"].value_counts().items() if v}
    _frame_out(units, as_json, ["code", "name", "category", "n_hot", "n_cold", "mk_tau", "mk_p"],
               f"{indicator}: emerging hot spots by {grain}: {counts}",
               {"indicator": indicator, "level": level, "grain": grain, "counts": counts, "method": result.method})


@app.command("points")
def points_cmd(
    source: Annotated[Optional[str], typer.Option("--source", help="Institution whose geolocated events are read (default: the one with most coordinates).")] = None,  # noqa: UP045
    iccs: Annotated[str, typer.Option("--iccs", help="ICCS code prefix of the events (0101: intentional homicide).")] = "0101",
    year: YearOpt = None,
    cell: Annotated[float, typer.Option("--cell", help="Grid cell side in metres.")] = 5000.0,
    knox_distance: Annotated[float, typer.Option("--knox-distance", help="Near in space (metres).")] = 1000.0,
    knox_days: Annotated[float, typer.Option("--knox-days", help="Near in time (days).")] = 14.0,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Geolocated incidents: Gi* hot spots on a square grid within the territories, and the Knox
    test of near repeats (events close in both space and time more often than chance)."""
    from segura.territorial.run import points as run

    ws = _ws(workspace)
    with ws.warehouse(read_only=True) as wh:
        grid, near, about = run(wh.con, ws.settings, ws.root, source=source, iccs=iccs, year=year, cell_m=cell,
                                knox_distance_m=knox_distance, knox_days=knox_days)
    knox = {k: getattr(near, k) for k in ("n", "distance_m", "days", "close_in_space", "close_in_time", "observed",
                                          "expected", "ratio", "p_value", "permutations")}
    hot = grid.frame[grid.frame["label"] != "Not significant"].sort_values("z", ascending=False)
    _frame_out(hot, as_json, ["cell", "count", "z", "p_fdr", "label"],
               f"{about['source']}, ICCS {iccs}: {about['events']:,} events; grid {grid.counts()}; Knox ratio "
               f"{near.ratio:.2f} (p = {near.p_value:.3f})", {**about, "grid": grid.counts(), "knox": knox})


@app.command("index")
def index_cmd(
    spec: Annotated[Path, typer.Argument(help="The index in YAML: components (indicator ids or --data columns), choices.")],
    level: TerrLevelOpt = "admin2",
    year: YearOpt = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="CSV with a code column and risk-factor columns.")] = None,  # noqa: UP045
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws over the choices.")] = 1000,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Territorial prioritisation index with uncertainty: each territory's median rank, its 5-95%
    rank interval over normalisations, weights, aggregations and imputations, and a priority class."""
    from segura.territorial.run import index as run

    ws = _ws(workspace)
    with ws.warehouse(read_only=True) as wh:
        result = run(wh.con, ws.settings, ws.root, spec, level=level, year=year, data=data, draws=draws)
    table = result.table.sort_values("median_rank")
    _frame_out(table, as_json, ["code", "name", "rank", "median_rank", "rank_low", "rank_high", "class"],
               f"priority index ({draws} draws)", {"spec": str(spec), "level": level, "draws": draws,
                                                    "sensitivity": json.loads(result.sensitivity.to_json(orient="records"))})


conflicts_app = typer.Typer(help="The social conflict registry: import protest events, list and show conflicts.",
                            no_args_is_help=True)
app.add_typer(conflicts_app, name="conflicts")


@conflicts_app.command("import")
def conflicts_import(
    file: Annotated[Path, typer.Argument(help="The event file (CSV).")],
    mapping: Annotated[str, typer.Option("--mapping", "-m", help="A shipped mapping (iisucr_cr, iisucr_ni, ucbo_deaths) or a YAML file.")],
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Import protest or conflict events with a source mapping: every row imported or rejected with its reasons."""
    from segura.conflicts.importers import import_events, load_mapping
    from segura.conflicts.places import place_conflicts
    from segura.conflicts.registry import ensure_schema

    ws = _ws(workspace)
    with ws.warehouse() as wh:
        ensure_schema(wh.con)
        report = import_events(wh.con, file, load_mapping(mapping))
        places = place_conflicts(wh.con, ws.settings.country)
    if as_json:
        _print_json({"source": report.source, "rows_read": report.rows_read, "rows_imported": report.rows_imported,
                     "rows_rejected": report.rows_rejected, "events": report.events, "conflicts": report.conflicts,
                     "rejections": [r.__dict__ if hasattr(r, "__dict__") else r for r in report.rejections],
                     "places": places.__dict__})
        return
    console.print(report.summary(), highlight=False)
    console.print(places.summary(), highlight=False)
    for r in report.rejections[:20]:
        console.print(f"  rejected: {r}", highlight=False)


@conflicts_app.command("place")
def conflicts_place(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """Place the workspace country's conflicts and events in its territories again (after importing
    territories, or correcting them): codes from the place names, the names not found listed."""
    from segura.conflicts.places import place_conflicts
    from segura.conflicts.registry import ensure_schema

    ws = _ws(workspace)
    with ws.warehouse() as wh:
        ensure_schema(wh.con)
        report = place_conflicts(wh.con, ws.settings.country)
    if as_json:
        _print_json(report.__dict__)
        return
    console.print(report.summary(), highlight=False)


@conflicts_app.command("list")
def conflicts_list(
    phase: Annotated[Optional[str], typer.Option("--phase", help="Only conflicts in this phase.")] = None,  # noqa: UP045
    territory: Annotated[Optional[str], typer.Option("--territory", help="Only conflicts placed in this territory code or one inside it.")] = None,  # noqa: UP045
    on: Annotated[Optional[str], typer.Option("--on", help="Escalation scores as of this date (YYYY-MM-DD; default: the last event).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """The conflicts, with their escalation score and level (highest first)."""
    import datetime as dt

    import pandas as pd

    from segura.conflicts.escalation import escalation_scores
    from segura.conflicts.places import ensure_places
    from segura.conflicts.registry import ensure_schema, list_conflicts

    ws = _ws(workspace)
    with ws.warehouse() as wh:
        ensure_schema(wh.con)
        ensure_places(wh.con)
        frame = pd.DataFrame(list_conflicts(wh.con, phase=phase))
        placed = wh.con.execute("SELECT p.conflict_id, p.territory_code, t.parent_code FROM conflict_place p "
                                "LEFT JOIN territory t ON t.code = p.territory_code").df()
        if len(frame):
            frame = frame.merge(placed, on="conflict_id", how="left")
        if territory is not None:
            frame = frame[(frame.get("territory_code") == territory) | (frame.get("parent_code") == territory)] \
                if len(frame) else frame
        last = wh.con.execute("SELECT max(occurred_on) FROM conflict_event").fetchone()
        when = dt.date.fromisoformat(on) if on else (last[0] if last else None)
        scores = escalation_scores(wh.con, when) if when is not None else None
    if scores is not None and len(scores) and "conflict_id" in frame.columns:
        frame = frame.merge(scores, on="conflict_id", how="left", suffixes=("", "_score"))
    if "score" in frame.columns:
        frame = frame.sort_values("score", ascending=False, na_position="last")
    columns = [c for c in ("conflict_id", "title", "phase", "demand_type", "admin1", "territory_code", "score", "level")
               if c in frame.columns]
    _frame_out(frame.head(200) if not as_json else frame, as_json, columns, f"conflicts (escalation as of {when})",
               {"on": str(when)})


@conflicts_app.command("show")
def conflicts_show(
    conflict_id: Annotated[int, typer.Argument(help="Conflict id (`segura conflicts list`).")],
    on: Annotated[Optional[str], typer.Option("--on", help="Escalation score as of this date (default: today).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """A conflict: actors, timeline of events and state responses, agreements, phases, and its escalation score with its parts."""
    import datetime as dt

    from segura.conflicts.escalation import escalation_score
    from segura.conflicts.registry import ensure_schema, show_conflict

    ws = _ws(workspace)
    with ws.warehouse() as wh:
        ensure_schema(wh.con)
        view = show_conflict(wh.con, conflict_id)
        score = escalation_score(wh.con, conflict_id, dt.date.fromisoformat(on) if on else dt.date.today())
    if as_json:
        _print_json({"conflict": view.conflict, "actors": view.actors, "events": view.events,
                     "agreements": view.agreements, "phases": view.phases, "escalation": score.explain()})
        return
    console.print(f"[bold]{view.conflict.get('title')}[/] ({view.conflict.get('phase')})", highlight=False)
    table = Table("date", "event", "state response", title="timeline")
    for e in view.events:
        table.add_row(str(e.get("occurred_on")), str(e.get("event_type")), str(e.get("state_response")))
    console.print(table)
    console.print(score.explain(), highlight=False)


@conflicts_app.command("indicators")
def conflicts_indicators(
    on: Annotated[Optional[str], typer.Option("--on", help="Agreements past their deadline as of this date (default: today).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Conflicts by demand, claimant actor type, territory and month; escalation rate; share resolved by
    agreement; commitments past their deadline."""
    import datetime as dt

    from segura.conflicts.escalation import conflict_indicators
    from segura.conflicts.registry import ensure_schema
    from segura.portal.service import records

    when = dt.date.fromisoformat(on) if on else dt.date.today()
    ws = _ws(workspace)
    with ws.warehouse() as wh:
        ensure_schema(wh.con)
        found = conflict_indicators(wh.con, when)
    if as_json:
        _print_json({"on": str(when), **{k: records(v) if hasattr(v, "columns") else v for k, v in found.items()}})
        return
    esc, agr = found["escalation_rate"], found["resolved_by_agreement"]
    console.print(f"escalation rate: {esc['reached']:,} of {esc['conflicts']:,} conflicts reached escalation or crisis "
                  f"({esc['share']:.1%}); resolved by agreement: {agr['with_agreement']:,} of {agr['resolved']:,} "
                  f"({agr['share']:.1%}); commitments past their deadline on {when}: {len(found['overdue_agreements']):,}",
                  highlight=False)
    for key, title in (("by_demand", "conflicts by demand"), ("by_actor_type", "conflicts by claimant actor type")):
        frame = found[key].head(15)
        _frame_out(frame, False, list(frame.columns), title)


@app.command()
def deviance(
    indicator: Annotated[str, typer.Argument(help="A rate indicator (count over population).")],
    level: TerrLevelOpt = "admin2",
    year: YearOpt = None,
    data: Annotated[Optional[Path], typer.Option("--data", help="CSV with a code column and the covariates.")] = None,  # noqa: UP045
    covariate: Annotated[Optional[list[str]], typer.Option("--covariate", "-c", help="A column of --data (repeat).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Positive deviance: territories doing much better (or worse) than a negative binomial model of
    their conditions expects, with 95% prediction intervals."""
    from segura.territorial.run import deviance as run

    ws = _ws(workspace)
    with ws.warehouse(read_only=True) as wh:
        result = run(wh.con, ws.settings, ws.root, indicator, level=level, year=year, data=data,
                     covariates=covariate or [])
    table = result.table.sort_values("ratio")
    _frame_out(table, as_json, ["code", "name", "observed", "expected", "low", "high", "ratio", "flag"],
               f"{indicator}: observed against expected", {"indicator": indicator, "level": level,
                                                            "covariates": covariate or [], "alpha": result.alpha})


