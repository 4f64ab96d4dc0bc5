"""The `segura` command: thin commands over the Python API (`segura.Workspace`).

The commands live in this package by subject (here: workspace, loads, reconciliation, indicators,
the demo; `portal`: releases and the portal; `analysis`: territorial analysis, alerts, conflicts).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.progress import Progress
from rich.table import Table

from segura.cli.base import (
    JsonOpt,
    WorkspaceOpt,
    _print_json,
    _progress,
    _ws,
    app,
    err,
    indicators_app,
    population_app,
    territory_app,
)
from segura.console import (
    console,
    pair_table,
    print_check_report,
    print_decisions,
    print_discrepancy_summary,
    print_headlines,
    print_load_report,
    print_reconcile_report,
    print_result,
)
from segura.errors import SeguraError
from segura.ingest.report import LoadReport
from segura.workspace import Workspace

# -- init ---------------------------------------------------------------------------------------


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create (or complete) as a workspace.")],
    name: Annotated[Optional[str], typer.Option(help="Name of the observatory.")] = None,  # noqa: UP045
    country: Annotated[Optional[str], typer.Option(help="ISO 3166-1 alpha-2 country code, e.g. MX, GT, HN.")] = None,  # noqa: UP045
) -> None:
    """Create a workspace: segura.toml, sources/, inbox/, releases/ and an empty warehouse."""
    ws = Workspace.init(directory, name=name, country=country)
    console.print(f"Workspace ready at [bold]{ws.root}[/]. Next: `segura territory import FILE -w {ws.root}`.")


# -- ingest -------------------------------------------------------------------------------------



STEPS = ("hashing", "reading", "validating", "writing")


def _ingest_with_progress(ws: Workspace, source: str, file: Path, progress: Progress, **kw: Any) -> LoadReport:
    task = progress.add_task(f"{source}: {file.name}", total=len(STEPS), step="")

    def on_step(step: str) -> None:
        done = STEPS.index(step) if step in STEPS else 0
        progress.update(task, completed=done, step=step)

    report = ws.ingest(source, file, on_step=on_step, **kw)
    progress.update(task, completed=len(STEPS), step=report.status.replace("_", " "))
    return report


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(help="Source id: the name of a mapping in sources/ (e.g. police).")],
    file: Annotated[Path, typer.Argument(help="The extract file (CSV, XLSX or Parquet).", exists=False)],
    period: Annotated[Optional[str], typer.Option(help="Months the extract covers: 2015, 2015-03 or 2015-01:2015-06. Months declared here replace earlier extracts even where the new one has no rows.")] = None,  # noqa: UP045
    reload: Annotated[bool, typer.Option("--reload", help="Load a file again although it was loaded before (after a mapping change).")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Load one extract with the mapping of SOURCE and print its load report.

    Every row is loaded or quarantined with its reasons; rows read = loaded + quarantined.
    The same file twice changes nothing. Exit code 3 when the file is rejected whole.
    """
    ws = _ws(workspace)
    if as_json:
        report = ws.ingest(source, file, period=period, reload=reload)
        _print_json(report.to_dict())
    else:
        with _progress() as progress:
            report = _ingest_with_progress(ws, source, file, progress, period=period, reload=reload)
        print_load_report(report)
    if report.status == "rejected":
        raise typer.Exit(3)


@app.command()
def status(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """The workspace's sources and loads (rows read, loaded, quarantined, sha256, time)."""
    ws = _ws(workspace)
    with ws.warehouse() as wh:
        cur = wh.con.execute(
            """SELECT l.load_id, l.source_id, l.file_name, l.status, l.rows_read, l.rows_loaded, l.rows_quarantined,
                      l.rows_with_warnings, l.sha256, l.started_at, l.finished_at, strftime(l.period_start, '%Y-%m') AS period_start,
                      strftime(l.period_end, '%Y-%m') AS period_end, l.message,
                      l.load_id IN (SELECT load_id FROM latest_load_month) AS current
               FROM load l ORDER BY l.load_id"""
        )
        names = [d[0] for d in cur.description]
        loads = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        sources = [dict(zip(("source_id", "institution_es", "institution_en"), r, strict=True)) for r in wh.con.execute("SELECT source_id, institution_es, institution_en FROM source ORDER BY 1").fetchall()]
        territories = dict(wh.con.execute("SELECT level, count(*) FROM territory GROUP BY 1").fetchall())
    mapped = ws.source_ids()
    if as_json:
        _print_json({"workspace": str(ws.root), "name": ws.settings["workspace.name"], "mappings": mapped, "sources": sources, "territories": territories, "loads": loads})
        return
    console.print(f"[bold]{ws.settings['workspace.name']}[/] — {ws.root}")
    console.print(f"mappings: {', '.join(mapped) or 'none'}; territories: " + ", ".join(f"{k} {v:,}" for k, v in territories.items()))
    t = Table(header_style="bold")
    for col in ("load", "source", "file", "status", "read", "loaded", "quarantined", "period", "current", "sha256", "finished"):
        t.add_column(col)
    for ld in loads:
        t.add_row(
            str(ld["load_id"]), ld["source_id"], ld["file_name"], ld["status"], f"{ld['rows_read']:,}", f"{ld['rows_loaded']:,}",
            f"{ld['rows_quarantined']:,}", f"{ld['period_start'] or ''}..{ld['period_end'] or ''}", "yes" if ld["current"] else "",
            ld["sha256"][:12], str(ld["finished_at"])[:19],
        )
    console.print(t)


@app.command()
def check(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """Integrity checks over the warehouse: missing months, duplicates, unknown territories,
    impossible combinations, late registrations, outliers. Exit code 1 when a check of severity error finds something."""
    results = _ws(workspace).check()
    if as_json:
        _print_json([r.to_dict() for r in results])
    else:
        print_check_report(results)
    if any(r.severity == "error" and r.count for r in results):
        raise typer.Exit(1)


@app.command("reconcile")
def reconcile_cmd(
    evaluate: Annotated[Optional[Path], typer.Option("--evaluate", help="Truth CSV (source,record_id,person_id): print pairwise and cluster precision, recall and F1.")] = None,  # noqa: UP045
    retrain: Annotated[bool, typer.Option("--retrain", help="Train the linkage model again instead of reusing models/linkage.json.")] = False,
    export: Annotated[Optional[Path], typer.Option("--export", help="Folder for the discrepancy report: discrepancies.xlsx and one CSV per sheet, for the validation meeting.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Link the records of the same victim across (and within) institutions with Splink, print
    each institution's count beside the reconciled count, and summarise the discrepancy report
    (why each institution's count differs). Only record ids are written: tables link, link_pair, victim."""
    ws = _ws(workspace)
    with _quiet_splink():
        result = ws.reconcile(retrain=retrain, truth=evaluate)
    report = ws.discrepancies()
    files = ws.export_discrepancies(export) if export else []
    if as_json:
        _print_json({**result.to_dict(), "discrepancies": report.summary(), "files": [str(f) for f in files]})
        return
    print_reconcile_report(result)
    print_discrepancy_summary(report.summary())
    for f in files:
        console.print(f"  written: {f}", highlight=False)


def _quiet_splink() -> Any:
    """Splink prints training progress on standard output; keep it off the report (and off --json)."""
    import contextlib
    import io

    return contextlib.redirect_stdout(io.StringIO())


# -- review ---------------------------------------------------------------------------------------

# answer typed at the prompt -> action (English initials; Spanish words accepted)
REVIEW_ANSWERS = {
    "s": "same", "same": "same", "si": "same", "sí": "same", "misma": "same",
    "d": "different", "different": "different", "diferente": "different", "distinta": "different",
    "k": "skip", "skip": "skip", "saltar": "skip",
    "u": "undo", "undo": "undo", "deshacer": "undo",
    "q": "quit", "quit": "quit", "salir": "quit",
}
REVIEW_PROMPT = "¿Misma persona? / Same person?  [s]ame·misma / [d]ifferent·distinta / s[k]ip·saltar / [u]ndo last·deshacer / [q]uit·salir: "


@app.command()
def review(
    limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=1, help="Review at most N pairs, the most uncertain first.")] = None,  # noqa: UP045
    list_decisions: Annotated[bool, typer.Option("--list", help="List the decisions taken (id, pair, decision, when, undone) instead of reviewing.")] = False,
    undo_id: Annotated[Optional[int], typer.Option("--undo", metavar="ID", help="Undo decision ID (see --list); the next `segura reconcile` ignores it.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Clerical review: decide whether the uncertain pairs of the last `segura reconcile` are the same
    victim, with the two records side by side. Decisions are stored at once and applied by every later
    `segura reconcile`. With --json (and no --list or --undo), print the queue instead: record ids and
    probabilities, never names. Names and documents appear only on this terminal, never in a log or file."""
    from rich.markup import escape

    from segura.reconcile.review import decisions, review_queue, undo

    ws = _ws(workspace)
    with ws.warehouse() as wh:
        if undo_id is not None:
            done = undo(wh.con, undo_id)
            if as_json and not list_decisions:
                _print_json(done.to_dict())
            elif not as_json:
                console.print(f"Decision {done.decision_id} undone / deshecha ({escape(done.person_id_l)} ↔ {escape(done.person_id_r)}, {done.decision}); "
                              "run `segura reconcile` to apply / ejecute `segura reconcile` para aplicarlo.", highlight=False)
        if list_decisions:
            taken = decisions(wh.con, include_undone=True)
            if as_json:
                _print_json([d.to_dict() for d in taken])
            else:
                print_decisions(taken)
        if undo_id is not None or list_decisions:
            return
        lo, hi = (float(x) for x in ws.settings["reconcile.review_band"])
        queue = review_queue(wh.con, lo, hi, limit, duplicate_free=list(ws.settings["reconcile.duplicate_free_sources"]))
        if as_json:
            _print_json({"band": [lo, hi], "pairs": [p.to_dict() for p in queue]})
            return
        if not queue:
            ran = wh.con.execute("SELECT count(*) FROM reconcile_run").fetchone()[0]  # type: ignore[index]
            console.print("No uncertain pairs wait for review / No hay pares dudosos pendientes de revisión."
                          + ("" if ran else " Run `segura reconcile` first / Ejecute primero `segura reconcile`."))
            return
        _review_interactively(wh.con, queue, duplicate_free=set(ws.settings["reconcile.duplicate_free_sources"]), band=(lo, hi))


def _review_interactively(con: Any, queue: list[Any], *, duplicate_free: set[str], band: tuple[float, float]) -> None:
    """One pair at a time; each answer is stored at once, so quitting (or a crash) loses nothing."""
    from rich.markup import escape

    from segura.reconcile.review import ReviewError, decide, pair_details, undo

    console.print(f"[bold]Clerical review / Revisión manual[/]: {len(queue):,} uncertain pairs / pares dudosos "
                  f"(probability / probabilidad {band[0]:g}–{band[1]:g}), the most uncertain first.", highlight=False)
    taken: list[tuple[int, int, str]] = []  # (queue position, decision id, verdict), to undo in reverse
    skipped: set[int] = set()
    i = 0
    while i < len(queue):
        pair = queue[i]
        try:
            left, right = pair_details(con, pair.person_id_l, pair.person_id_r)
        except ReviewError as e:  # a record replaced by a newer extract since the last run
            err.print(f"[yellow]skipped / omitido[/]: {escape(str(e))}")
            skipped.add(i)
            i += 1
            continue
        console.print(pair_table(pair, left, right, i + 1, len(queue)))
        src_l, src_r = pair.sources
        if src_l == src_r and src_l in duplicate_free:
            console.print(f"[yellow]Both records come from {src_l}, declared duplicate-free: 'same' will not join them "
                          f"(one-to-one clustering). / Ambos registros son de {src_l}, declarada sin duplicados: "
                          "'misma' no los unirá.[/]", highlight=False)
        action = _ask()
        if action == "quit":
            break
        if action == "skip":
            skipped.add(i)
            i += 1
        elif action == "undo":
            if not taken:
                console.print("Nothing to undo in this session / Nada que deshacer en esta sesión.")
                continue
            i, decision_id, _verdict = taken.pop()
            undo(con, decision_id)
            console.print(f"Decision {decision_id} undone: back to pair {i + 1} / Decisión {decision_id} deshecha: de vuelta al par {i + 1}.", highlight=False)
        else:
            decision_id = decide(con, pair.person_id_l, pair.person_id_r, action)
            taken.append((i, decision_id, action))
            skipped.discard(i)
            console.print(f"[green]saved / guardada[/]: decision {decision_id} ({action})", highlight=False)
            i += 1
    same = sum(1 for _, _, v in taken if v == "same")
    console.print(
        f"\n[bold]{len(taken)} decided / decididos[/] (same / misma {same}, different / distinta {len(taken) - same}); "
        f"skipped / saltados {len(skipped)}.", highlight=False,
    )
    if taken:
        console.print("Run `segura reconcile` to apply them / Ejecute `segura reconcile` para aplicarlas.")


def _ask() -> str:
    from rich.markup import escape

    while True:
        try:
            answer = console.input(escape(REVIEW_PROMPT)).strip().lower()
        except EOFError:  # input closed: stop, keeping what was decided
            return "quit"
        if answer in REVIEW_ANSWERS:
            return REVIEW_ANSWERS[answer]
        console.print(f"{answer!r}? Type s, d, k, u or q / Escriba s, d, k, u o q.", highlight=False)


@app.command()
def sources(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """List the workspace's source mappings and check each one (keys, fields, code lists, ICCS codes)
    without loading anything. Exit code 2 when a mapping has an error."""
    from segura.ingest.rules import validate_mapping

    ws = _ws(workspace)
    results = []
    for source_id in ws.source_ids():
        try:
            mapping = ws.mapping(source_id)
            validate_mapping(mapping)
            results.append({"source": source_id, "ok": True, "format": mapping.format, "columns": len(mapping.columns), "error": None})
        except SeguraError as e:
            results.append({"source": source_id, "ok": False, "format": None, "columns": None, "error": str(e)})
    if as_json:
        _print_json(results)
    else:
        for r in results:
            console.print(f"  [green]ok[/]    {r['source']} ({r['format']}, {r['columns']} columns)" if r["ok"] else f"  [red]error[/] {r['source']}: {r['error']}", highlight=False)
        if not results:
            console.print(f"No mappings in {ws.sources_dir}; docs/guide.md explains how to write one.")
    if not all(r["ok"] for r in results):
        raise typer.Exit(2)


@app.command()
def quarantine(
    load_id: Annotated[int, typer.Argument(help="The load whose quarantined rows to export (see `segura status`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .csv or .xlsx.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Export a load's quarantined rows with their reasons, to send back to the institution.
    Names and documents are withheld; formula payloads are neutralised."""
    n = _ws(workspace).export_quarantine(load_id, out)
    console.print(f"{n:,} quarantined rows written to {out}")


# -- territory and population ---------------------------------------------------------------------


@territory_app.command("import")
def territory_import(
    file: Annotated[Path, typer.Argument(help="CSV (code,name,level,parent_code[,iso_3166_2]) or boundaries: GeoJSON, TopoJSON, Shapefile, GeoPackage.")],
    code_field: Annotated[str, typer.Option(help="Column or property with the territory code.")] = "code",
    name_field: Annotated[str, typer.Option(help="Column or property with the name.")] = "name",
    level_field: Annotated[str, typer.Option(help="Column with the level.")] = "level",
    parent_field: Annotated[str, typer.Option(help="Column with the parent's code.")] = "parent_code",
    iso_field: Annotated[str, typer.Option(help="Column with the ISO 3166-2 code.")] = "iso_3166_2",
    level: Annotated[Optional[str], typer.Option(help="One level for every row (e.g. admin2).")] = None,  # noqa: UP045
    parent: Annotated[Optional[str], typer.Option(help="One parent code for every row.")] = None,  # noqa: UP045
    parent_prefix: Annotated[Optional[int], typer.Option(help="The parent's code is the first N characters of the code (INEGI, DANE, INE).")] = None,  # noqa: UP045
    pad: Annotated[Optional[int], typer.Option(help="Left-pad codes with zeros to this width (codes that lost their leading zero).")] = None,  # noqa: UP045
    exclude: Annotated[Optional[list[str]], typer.Option(help="A code to leave out (repeatable): lakes, claimed areas.")] = None,  # noqa: UP045
    no_repair: Annotated[bool, typer.Option("--no-repair", help="Refuse invalid geometries instead of repairing them.")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Import territories with their codes, names, levels, parents and boundaries (atomic; errors stop it)."""
    from segura.ingest.territory import FieldNames, TerritoryOptions, import_territories

    ws = _ws(workspace)
    opts = TerritoryOptions(
        fields=FieldNames(code_field, name_field, level_field, parent_field, iso_field),
        level=level, parent=parent, parent_prefix=parent_prefix, pad=pad, exclude=tuple(exclude or ()), repair=not no_repair,
    )
    with ws.warehouse() as wh:
        report = import_territories(wh, file, ws.settings, opts)
    if as_json:
        _print_json({**report.__dict__, "issues": [i.__dict__ for i in report.issues]})
    else:
        for i in report.issues:
            colour = "red" if i.severity == "error" else "yellow"
            console.print(f"[{colour}]{i.severity}[/] {report.file} row {i.row}, {i.column} = {i.value!r}: {i.message}")
        if not report.errors:
            console.print(f"{report.imported:,} territories imported from {report.file} ({', '.join(f'{k} {v}' for k, v in report.by_level.items())}; {report.with_geometry:,} with boundaries; {report.excluded} excluded)")
    if report.errors:
        err.print(f"{len(report.errors)} error(s): nothing was imported.")
        raise typer.Exit(3)


@population_app.command("import")
def population_import(
    file: Annotated[Path, typer.Argument(help="CSV: territory_code,year,sex,age_group,population[,source]")],
    source: Annotated[Optional[str], typer.Option(help="Name of the source (default: the file name).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Import population denominators (replaces the same years of the same source)."""
    from segura.ingest.population import import_population

    ws = _ws(workspace)
    with ws.warehouse() as wh:
        report = import_population(wh, file, source=source)
    if as_json:
        _print_json({**report.__dict__, "issues": [i.__dict__ for i in report.issues]})
    else:
        for i in report.issues:
            console.print(f"[red]error[/] {report.file} row {i.row}, {i.column} = {i.value!r}: {i.message}")
        if not report.issues:
            console.print(f"{report.imported:,} population rows imported: {report.territories:,} territories, years {', '.join(map(str, report.years))}")
    if report.issues:
        raise typer.Exit(3)


# -- indicators and queries ---------------------------------------------------------------------

ByOpt = Annotated[str, typer.Option("--by", help="Dimensions, comma-separated: territory, period, sex, age, weapon_class, relationship_class, femicide_class, source.")]
WhereOpt = Annotated[Optional[list[str]], typer.Option("--where", help="Filter field=value[,value]; repeatable: year=2015, territory=11, sex=F, from=2015-01, to=2015-06.")]  # noqa: UP045
LevelOpt = Annotated[Optional[str], typer.Option("--level", help="Territory level (default: the event level, e.g. admin2).")]  # noqa: UP045
PeriodOpt = Annotated[str, typer.Option("--period", help="month, quarter, year or rolling12.")]
LangOpt = Annotated[str, typer.Option("--lang", help="Language of names and labels: es or en.")]
UnprotectedOpt = Annotated[bool, typer.Option("--no-protect", help="Internal use only: show cells under the disclosure threshold.")]


def _query_result(ws: Workspace, measure: str, by: str, where: list[str] | None, level: str | None,
                  period: str, lang: str, no_protect: bool) -> Any:
    from segura.indicators import parse_where

    dims = [d.strip() for d in by.split(",") if d.strip()]
    return ws.query(measure, by=dims, where=parse_where(where or []), level=level, period=period, lang=lang,
                    protect=not no_protect)


@indicators_app.command("list")
def indicators_list(lang: LangOpt = "en", as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """The catalogue: id, name, kind, unit, disaggregations and SDG indicator."""
    catalogue = _ws(workspace).indicators()
    if as_json:
        _print_json([ind.to_dict(lang) for ind in catalogue.indicators.values()])
        return
    table = Table("id", "name", "kind", "unit", "by", "SDG")
    for ind in catalogue.indicators.values():
        table.add_row(ind.id, ind.name(lang), ind.kind, ind.unit(lang), ", ".join(ind.disaggregations), ind.sdg or "")
    console.print(table)


@indicators_app.command("compute")
def indicators_compute(
    indicator: Annotated[str, typer.Argument(help="Indicator id (`segura indicators list`).")],
    by: ByOpt = "territory",
    where: WhereOpt = None,
    level: LevelOpt = None,
    period: PeriodOpt = "year",
    lang: LangOpt = "en",
    no_protect: UnprotectedOpt = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Compute one indicator: value, 95% interval, smoothed rate, change and flags for every cell."""
    result = _query_result(_ws(workspace), indicator, by, where, level, period, lang, no_protect)
    if as_json:
        from segura.indicators.export import metadata

        _print_json({**metadata(result), "data": result.records()})
        return
    print_result(result)


@app.command("query")
def query_cmd(
    measure: Annotated[str, typer.Option("--measure", "-m", help="Indicator id (`segura indicators list`).")],
    by: ByOpt = "",
    where: WhereOpt = None,
    level: LevelOpt = None,
    period: PeriodOpt = "year",
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, xlsx, parquet, json or sdmx-csv.")] = "csv",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="File to write (csv, json and sdmx-csv may go to standard output).")] = None,  # noqa: UP045
    lang: LangOpt = "en",
    no_protect: UnprotectedOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Measures x dimensions x filters -> a tidy table, as a file to download."""
    import tempfile

    from segura.indicators.export import FORMATS, write_result

    if fmt not in FORMATS:
        raise typer.BadParameter(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}", param_hint="--format")
    if out is None and fmt in ("xlsx", "parquet"):
        raise typer.BadParameter(f"{fmt} is binary: give a file with --out", param_hint="--out")
    result = _query_result(_ws(workspace), measure, by, where, level, period, lang, no_protect)
    if out is not None:
        n = write_result(result, out, fmt)
        err.print(f"{n:,} rows written to {out}", highlight=False)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out"
        write_result(result, path, fmt)
        sys.stdout.write(path.read_text(encoding="utf-8-sig"))


# -- demo ---------------------------------------------------------------------------------------


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the sample observatory.")] = Path("segura-demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after the reports instead of serving the portal.")] = False,
    port: Annotated[int, typer.Option("--port", "-p", help="Port of the portal.")] = 8000,
    seed: Annotated[int, typer.Option(help="Seed of the sample generator.")] = 2026,
) -> None:
    """Create the sample observatory (Guanajuato and Morelos, 2014-2015): load its three institutions'
    extracts, reconcile them, compute the indicators, publish a release and serve the portal."""
    from segura.pipeline import DEMO_EXTRACTS, run_demo

    with _progress() as progress:
        tasks = {src: progress.add_task(f"{src}: {name}", total=len(STEPS), step="waiting") for src, name in DEMO_EXTRACTS}

        def on_step(source: str, _file: str, step: str) -> None:
            progress.update(tasks[source], completed=STEPS.index(step) if step in STEPS else 0, step=step)

        with _quiet_splink():
            result = run_demo(directory, seed=seed, on_message=progress.console.print, on_step=on_step)
        for report in result.loads:
            progress.update(tasks[report.source], completed=len(STEPS), step=report.status.replace("_", " "))
    for report in result.loads:
        print_load_report(report)
    print_check_report(result.checks)
    if result.reconciliation is not None:
        print_reconcile_report(result.reconciliation)
        print_discrepancy_summary(result.discrepancies)
        console.print(f"  the validation meeting's report: {result.workspace.root / 'reports'} (discrepancies.xlsx and CSV)", highlight=False)
    if result.headlines:
        print_headlines(result.headlines)
    if result.adds_up:
        console.print("\n[bold green]Every load adds up: rows read = loaded + quarantined.[/]")
    else:
        console.print("\n[bold red]A load does not add up or was rejected.[/]")
        raise typer.Exit(1)
    if result.alerts is not None:
        for name, s in result.alerts.scans.items():
            from segura.warning.store import AlertStore

            stored = AlertStore.of(result.workspace.root).alerts(indicator=name)
            high = sum(a["severity"] == "high" for a in stored)
            console.print(f"\nalerts: {len(stored):,} for {name} in {s.window[0]}..{s.window[-1]} ({high:,} high); "
                          f"`segura alerts -w {directory}` lists them, the portal shows them to analysts", highlight=False)
            if not {"farrington", "negbin"} & set(s.alarms["method"]):
                console.print("  (the improved Farrington method and the negative binomial model need five years of "
                              "past months; with two years, EARS C1/C2/C3 decide)", highlight=False)
    if result.release is not None:
        rel = result.release
        console.print(f"\nrelease [bold]{rel.release_id}[/] published at {rel.path}: {rel.views:,} views, "
                      f"{rel.rows:,} cells ({rel.refused:,} breakdowns refused by disclosure control)", highlight=False)
    if not no_serve:
        from segura.portal.app import serve as run

        console.print(f"\n[bold]The open data portal: http://127.0.0.1:{port}/[/] (español /es/, English /en/, "
                      f"API /api/v1/). Administrators: `segura users add NAME --role admin -w {directory}`. "
                      "Ctrl+C stops.", highlight=False)
        run(result.workspace.root, port=port)


def main() -> None:
    try:
        app()
    except SeguraError as e:
        err.print(f"[red]error:[/] {e}")
        sys.exit(e.exit_code)


# the other subjects' commands register on `app` when imported
from segura.cli import alerts, analysis, portal  # noqa: E402, F401
