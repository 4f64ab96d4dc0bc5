"""The `segura` command: thin commands over the Python API (`segura.Workspace`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

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
from segura.workspace import Workspace, default_workspace_dir

app = typer.Typer(
    help=(
        "Segura: the citizen security information system. Loads each institution's extract into one "
        "validated warehouse, checks it, and (in later versions) reconciles, computes indicators and publishes.\n\n"
        "Start with `segura demo DIR`, or `segura init DIR` for your own observatory; docs/guide.md explains every step."
    ),
    no_args_is_help=True,
    add_completion=False,
)
territory_app = typer.Typer(help="Territories: codes, names, levels, parents and boundaries.", no_args_is_help=True)
population_app = typer.Typer(help="Population denominators by territory, year, sex and age group.", no_args_is_help=True)
app.add_typer(territory_app, name="territory")
app.add_typer(population_app, name="population")
indicators_app = typer.Typer(help="The indicator catalogue: list it, compute an indicator.", no_args_is_help=True)
app.add_typer(indicators_app, name="indicators")

err = Console(stderr=True)

WorkspaceOpt = Annotated[
    Optional[Path],  # noqa: UP045 (Typer needs Optional here)
    typer.Option("--workspace", "-w", envvar="SEGURA_WORKSPACE", help="Workspace folder (default: SEGURA_WORKSPACE or the current folder)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _ws(path: Path | None) -> Workspace:
    return Workspace.open(path or default_workspace_dir())


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


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


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"), TimeElapsedColumn(), console=err, transient=False)


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


# -- publish, serve, users ------------------------------------------------------------------------

users_app = typer.Typer(help="Accounts for the portal's administrative pages (roles analyst and admin).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def publish(
    indicator: Annotated[Optional[list[str]], typer.Option("--indicator", "-i", help="Publish only these indicators (default: all).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write a new immutable, dated release of everything public (indicator views, territories,
    metadata) to releases/<date>/, after disclosure control; the portal serves the newest."""
    ws = _ws(workspace)
    with _progress() as progress:
        task = progress.add_task("publishing", total=None, step="")

        def on_step(ind: str, i: int, n: int) -> None:
            progress.update(task, total=n, completed=i, step=ind)

        report = ws.publish(indicators=indicator or None, on_step=on_step)
        progress.update(task, completed=progress.tasks[0].total or 0, step="done")
    if as_json:
        _print_json({"release": report.release_id, "path": str(report.path), "views": report.views,
                     "refused": report.refused, "rows": report.rows, "indicators": report.indicators})
        return
    console.print(f"release [bold]{report.release_id}[/] at {report.path}: {len(report.indicators)} indicators, "
                  f"{report.views:,} views ({report.rows:,} cells); {report.refused:,} breakdowns refused by "
                  "disclosure control", highlight=False)


@app.command()
def serve(
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    workers: Annotated[int, typer.Option("--workers", help="Server processes (one per core for heavy traffic).")] = 1,
    workspace: WorkspaceOpt = None,
) -> None:
    """Serve the open data portal and its API from the workspace's releases."""
    from segura.portal.app import serve as run

    ws = _ws(workspace)
    from segura.portal.release import release_ids

    if not release_ids(ws.root):
        raise SeguraError(f"no release in {ws.root / 'releases'}: run `segura publish` first")
    console.print(f"Portal at http://{host}:{port}/ (es: /es/, en: /en/; API: /api/v1/; Ctrl+C stops)", highlight=False)
    run(ws.root, host=host, port=port, workers=workers)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name (lower case).")],
    role: Annotated[str, typer.Option("--role", help="analyst or admin.")] = "analyst",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a user (or set a user's password and role); the password is stored as an argon2 hash."""
    from segura.portal.auth import add_user

    ws = _ws(workspace)
    password = sys.stdin.readline().rstrip("\n") if password_stdin else typer.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    add_user(ws.root, name, password, role)
    console.print(f"user {name} ({role}) saved in {ws.root / 'users.json'}", highlight=False)


@users_app.command("list")
def users_list(workspace: WorkspaceOpt = None) -> None:
    """The users and their roles."""
    from segura.portal.auth import list_users

    table = Table("user", "role", "created")
    for row in list_users(_ws(workspace).root):
        table.add_row(*row)
    console.print(table)


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="User name.")], workspace: WorkspaceOpt = None) -> None:
    """Remove a user (their open sessions end when the portal restarts)."""
    from segura.portal.auth import remove_user

    if not remove_user(_ws(workspace).root, name):
        raise SeguraError(f"no user {name!r}")
    console.print(f"user {name} removed", highlight=False)


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
    from segura.conflicts.registry import ensure_schema

    ws = _ws(workspace)
    with ws.warehouse() as wh:
        ensure_schema(wh.con)
        report = import_events(wh.con, file, load_mapping(mapping))
    if as_json:
        _print_json({"source": report.source, "rows_read": report.rows_read, "rows_imported": report.rows_imported,
                     "rows_rejected": report.rows_rejected, "events": report.events, "conflicts": report.conflicts,
                     "rejections": [r.__dict__ if hasattr(r, "__dict__") else r for r in report.rejections]})
        return
    console.print(report.summary(), highlight=False)
    for r in report.rejections[:20]:
        console.print(f"  rejected: {r}", highlight=False)


@conflicts_app.command("list")
def conflicts_list(
    phase: Annotated[Optional[str], typer.Option("--phase", help="Only conflicts in this phase.")] = None,  # noqa: UP045
    on: Annotated[Optional[str], typer.Option("--on", help="Escalation scores as of this date (YYYY-MM-DD; default: the last event).")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """The conflicts, with their escalation score and level (highest first)."""
    import datetime as dt

    import pandas as pd

    from segura.conflicts.escalation import escalation_scores
    from segura.conflicts.registry import ensure_schema, list_conflicts

    ws = _ws(workspace)
    with ws.warehouse() as wh:
        ensure_schema(wh.con)
        frame = pd.DataFrame(list_conflicts(wh.con, phase=phase))
        last = wh.con.execute("SELECT max(occurred_on) FROM conflict_event").fetchone()
        when = dt.date.fromisoformat(on) if on else (last[0] if last else None)
        scores = escalation_scores(wh.con, when) if when is not None else None
    if scores is not None and len(scores) and "conflict_id" in frame.columns:
        frame = frame.merge(scores, on="conflict_id", how="left", suffixes=("", "_score"))
    if "score" in frame.columns:
        frame = frame.sort_values("score", ascending=False, na_position="last")
    columns = [c for c in ("conflict_id", "title", "phase", "demand_type", "admin1", "score", "level") if c in frame.columns]
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


@app.command("alerts")
def alerts_cmd(
    indicator: Annotated[str, typer.Argument(help="An indicator whose monthly counts are watched.")] = "homicide_victims",
    level: TerrLevelOpt = "admin2",
    method: Annotated[Optional[list[str]], typer.Option("--method", help="ears_c1, ears_c2, ears_c3, farrington, negbin (repeat; default all).")] = None,  # noqa: UP045
    last: Annotated[int, typer.Option("--last", help="Show the alarms of the last N months.")] = 12,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Alerts where violence departs from its pattern: each territory's monthly counts against the
    improved Farrington method, EARS C1/C2/C3 and a negative binomial model with trend and season."""
    from segura.warning.aberration import METHODS
    from segura.warning.run import alerts as run

    ws = _ws(workspace)
    methods = tuple(method or METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise typer.BadParameter(f"unknown method(s) {', '.join(unknown)}; methods: {', '.join(METHODS)}", param_hint="--method")
    with ws.warehouse(read_only=True) as wh:
        found = run(wh.con, ws.settings, ws.root, indicator, level=level, methods=methods, last=last)
    _frame_out(found, as_json, ["period", "territory", "territory_name", "method", "observed", "expected",
                                "threshold", "score"],
               f"{indicator}: {len(found):,} alarms in the last {last} months",
               {"indicator": indicator, "level": level, "methods": list(methods), "last": last})


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
