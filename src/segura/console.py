"""What the `segura` command prints: load, check and reconciliation reports, indicator tables and
headline figures as rich tables on the terminal (the commands themselves are in the package segura.cli)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from segura.ingest.report import LoadReport

console = Console()


def print_load_report(report: LoadReport) -> None:
    colour = {"loaded": "green", "already_loaded": "yellow", "rejected": "red"}[report.status]
    console.print(f"\n[bold]{report.file}[/] ({report.source}) — [{colour}]{report.status.replace('_', ' ')}[/] (load {report.load_id})")
    if report.message:
        console.print(f"  {report.message}")
    if report.status == "rejected":
        return
    sign = "=" if report.adds_up else "≠"
    console.print(
        f"  rows read {report.rows_read:,} {sign} loaded {report.rows_loaded:,} + quarantined {report.rows_quarantined:,}"
        f"   ({report.rows_with_warnings:,} loaded with warnings; {report.events:,} events)"
    )
    if report.months:
        console.print(f"  period: {report.months[0]} to {report.months[-1]} ({len(report.months)} month{'s' if len(report.months) != 1 else ''})")
    if report.replaces:
        console.print(f"  replaces the earlier extract for {len(report.replaces)} month(s): " + ", ".join(f"{r['month']} (load {r['load_id']})" for r in report.replaces[:6]))
    for d in report.decisions:
        console.print(f"  [dim]{d}[/]")
    colours = {"error": "red", "warning": "yellow", "info": "cyan"}
    for f in report.findings:
        ex = f.example
        console.print(
            f"  [{colours.get(f.severity, 'white')}]{f.severity:7s}[/] [bold]{f.rule}[/] · {f.column or ''} · "
            f"{f.rows:,} row{'s' if f.rows != 1 else ''}, first row {ex.row}: {ex.message}",
            highlight=False,
        )


def print_check_report(results: list[Any]) -> None:
    console.print("\n[bold]Integrity checks / Verificaciones de integridad[/]")
    colours = {"error": "red", "warning": "yellow", "info": "cyan"}
    for r in results:
        mark = f"[{colours[r.severity]}]{r.severity:7s}[/]" if r.count else "[green]ok     [/]"
        console.print(f"  {mark} [bold]{r.check}[/] · {r.count:,} · {r.title_en} / {r.title_es}", highlight=False)
        for d in r.details[:3]:
            console.print("      " + ", ".join(f"{k}={v}" for k, v in d.items()), highlight=False, style="dim")


def print_discrepancy_summary(summary: dict[str, Any]) -> None:
    diffs = summary.get("differences", {})
    conflicts = summary.get("conflicts", {})
    console.print("  why the counts differ (rows of the discrepancy report): " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in diffs.items()), highlight=False)
    console.print("  attribute conflicts between institutions: " + ", ".join(f"{k} {v:,}" for k, v in conflicts.items()), highlight=False)


def print_reconcile_report(r: Any) -> None:
    console.print(f"\n[bold]Reconciliation / Conciliación[/] (run {r.run_id}{', model trained' if r.trained else ', saved model'}): "
                  f"{r.records:,} records -> [bold]{r.victims:,}[/] unique victims", highlight=False)
    for source, n in r.by_source.items():
        console.print(f"  {source:14s} {n:>8,}", highlight=False)
    console.print(f"  {'reconciled':14s} {r.victims:>8,}   found by all institutions {r.found_by.get('all', 0):,}, by some "
                  f"{r.found_by.get('some', 0):,}, by one only {r.found_by.get('one', 0):,}", highlight=False)
    console.print(f"  review queue: {r.review_queue:,} uncertain pairs (`segura review`); decisions applied: {r.decisions_applied}", highlight=False)
    if r.evaluation:
        e = r.evaluation
        console.print(
            f"  against the truth: pairwise precision {e.pairwise.precision:.4f}, recall {e.pairwise.recall:.4f}, F1 {e.pairwise.f1:.4f}; "
            f"clusters precision {e.cluster.precision:.4f}, recall {e.cluster.recall:.4f}",
            highlight=False,
        )


def pair_table(pair: Any, left: dict[str, Any], right: dict[str, Any], n: int, total: int) -> Table:
    """The two records side by side; attributes that differ in bold yellow, missing ones dim."""
    from rich.text import Text

    from segura.model.names import fold
    from segura.reconcile.review import DETAIL_FIELDS, PROVENANCE_FIELDS

    linked = "yes / sí" if pair.linked else "no"
    t = Table(
        title=f"Pair / Par {n} of / de {total} · match probability / probabilidad {pair.match_probability:.3f} · linked by the last run / unidos en la última corrida: {linked}",
        header_style="bold", title_justify="left",
    )
    t.add_column("field / campo", style="dim")
    t.add_column("A")
    t.add_column("B")

    def shown(record: dict[str, Any], key: str) -> str | None:
        value = record.get(key)
        if value is None:
            return None
        if key == "age" and record.get("age_is_estimate"):
            return f"{value} (estimated / estimada)"
        return str(value)

    for key, es, en in DETAIL_FIELDS:
        a, b = shown(left, key), shown(right, key)
        if a is None and b is None:
            continue
        differ = key not in PROVENANCE_FIELDS and a is not None and b is not None and fold(a) != fold(b)
        style = "bold yellow" if differ else ""
        t.add_row(
            en if en.casefold() == es.casefold() else f"{en} / {es}",
            Text(a, style=style) if a is not None else Text("—", style="dim"),
            Text(b, style=style) if b is not None else Text("—", style="dim"),
        )
    return t


def print_decisions(taken: list[Any]) -> None:
    if not taken:
        console.print("No review decisions yet / Aún no hay decisiones de revisión (`segura review`).")
        return
    from rich.text import Text

    t = Table(header_style="bold", title="Review decisions / Decisiones de revisión", title_justify="left")
    t.add_column("id", justify="right")
    t.add_column("record A\nregistro A", overflow="fold", min_width=12)
    t.add_column("record B\nregistro B", overflow="fold", min_width=12)
    t.add_column("decision\ndecisión", no_wrap=True)
    t.add_column("decided\ndecidida")
    t.add_column("undone\ndeshecha")
    notes = any(d.note for d in taken)
    if notes:
        t.add_column("note\nnota", overflow="fold")
    for d in taken:
        cells: list[Any] = [str(d.decision_id), Text(d.person_id_l), Text(d.person_id_r), d.decision,
                            f"{d.decided_at:%Y-%m-%d %H:%M}", f"{d.undone_at:%Y-%m-%d %H:%M}" if d.undone_at else ""]
        t.add_row(*cells, *([Text(d.note or "")] if notes else []), style="dim" if d.undone_at else None)
    console.print(t)


def print_result(result: Any) -> None:
    frame = result.frame
    shown = [c for c in frame.columns if c.endswith("_name") or c.endswith("_label") or c == "period"] + [
        "numerator", "denominator", "value", "ci_low", "ci_high", "change_year_ago_pct", "p_year_ago", "obs_status", "conf_status"]
    lang = result.lang
    table = Table(*[c for c in shown if c in frame.columns], title=f"{result.indicator.name(lang)} ({result.indicator.unit(lang)})")
    for rec in result.records():
        table.add_row(*[fmt(rec.get(c)) for c in shown if c in frame.columns])
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note[/] {note}", highlight=False)
    if result.protected:
        console.print("Cells marked C are suppressed: under the disclosure threshold, or hidden so that those cannot be "
                      "worked out; U = unstable (fewer than the workspace's minimum events), M = not computable or "
                      "suppressed.", highlight=False)


def print_headlines(headlines: list[dict[str, Any]]) -> None:
    table = Table("indicator", "value", "95% interval", "unit", "status", title=f"Headline figures, {headlines[0]['year']} (whole territory)")
    for h in headlines:
        name = h["name"] + (f": {h['category']}" if h["category"] else "")
        if h["conf_status"] != "F":
            table.add_row(name, "suppressed", "", h["unit"], h["conf_status"])
        elif h["value"] is None:
            table.add_row(name, "not computable", "", h["unit"], h["obs_status"])
        else:
            table.add_row(name, fmt(h["value"]), f"{fmt(h['ci_low'])} - {fmt(h['ci_high'])}", h["unit"],
                          h["obs_status"])
    console.print(table)
    console.print("  every indicator by state and year: reports/indicators/*.csv (`segura indicators list`)", highlight=False)


def fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)
