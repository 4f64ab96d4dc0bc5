"""`segura alerts`: detect, list, acknowledge and annotate alerts; subscriptions that deliver them."""

from __future__ import annotations

import getpass
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from segura.cli.base import JsonOpt, WorkspaceOpt, _print_json, _ws, app
from segura.console import console

alerts_app = typer.Typer(help="Alerts where violence departs from its pattern: detect, list, acknowledge, annotate, subscribe.",
                         invoke_without_command=True)
app.add_typer(alerts_app, name="alerts")

UserOpt = Annotated[Optional[str], typer.Option("--user", help="Who acknowledges or writes (default: the system user).")]  # noqa: UP045
SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan"}


def _store(workspace: Any) -> Any:
    from segura.warning.store import AlertStore

    return AlertStore.of(_ws(workspace).root)


def _table(rows: list[dict[str, Any]], title: str) -> None:
    table = Table("id", "severity", "period", "territory", "indicator", "observed", "expected", "methods", "status",
                  title=title)
    for a in rows:
        exp = "-" if a["expected"] is None else f"{a['expected']:.1f}"
        status = a["status"] + (" (withdrawn)" if a.get("withdrawn_at") else "")
        table.add_row(a["alert_id"], f"[{SEVERITY_STYLE[a['severity']]}]{a['severity']}[/]", a["period"],
                      f"{a['territory_name']} ({a['territory']})", a["indicator"], f"{a['observed']:.0f}", exp,
                      f"{a['agreeing']}/{a['deciding']} " + ",".join(m["method"] for m in a["methods"]), status)
    console.print(table)


@alerts_app.callback()
def alerts_list(
    ctx: typer.Context,
    status: Annotated[Optional[str], typer.Option("--status", help="open, acknowledged or closed.")] = None,  # noqa: UP045
    severity: Annotated[Optional[str], typer.Option("--severity", help="At least this severity: low, medium, high.")] = None,  # noqa: UP045
    indicator: Annotated[Optional[str], typer.Option("--indicator", help="Only this indicator's alerts.")] = None,  # noqa: UP045
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """The stored alerts, newest month first, then by severity (`segura alerts detect` finds them)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = _store(workspace).alerts(status=status, severity_at_least=severity, indicator=indicator)
    if as_json:
        _print_json({"data": rows})
        return
    _table(rows, f"{len(rows):,} alerts")


@alerts_app.command("detect")
def alerts_detect(
    indicator: Annotated[Optional[list[str]], typer.Argument(help="Indicators whose monthly counts are watched (default: the setting alerts.indicators).")] = None,  # noqa: UP045
    level: Annotated[Optional[str], typer.Option("--level", help="Territory level (default: the setting alerts.level).")] = None,  # noqa: UP045
    method: Annotated[Optional[list[str]], typer.Option("--method", help="ears_c1, ears_c2, ears_c3, farrington, negbin (repeat; default all).")] = None,  # noqa: UP045
    last: Annotated[int, typer.Option("--last", help="Judge the last N periods.")] = 12,
    grain: Annotated[str, typer.Option("--grain", help="month, or week (ISO 8601 weeks; events with a known day).")] = "month",
    no_deliver: Annotated[bool, typer.Option("--no-deliver", help="Store the alerts without sending them to the subscribers.")] = False,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the improved Farrington method, EARS C1/C2/C3 and a negative binomial model with trend and
    season on each territory's monthly counts; store the alerts and deliver the new ones."""
    from segura.portal.service import records
    from segura.warning.aberration import METHODS
    from segura.warning.run import detect_alerts

    methods = tuple(method or METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise typer.BadParameter(f"unknown method(s) {', '.join(unknown)}; methods: {', '.join(METHODS)}", param_hint="--method")
    if grain not in ("month", "week"):
        raise typer.BadParameter(f"{grain!r}: expected month or week", param_hint="--grain")
    run = detect_alerts(_ws(workspace), indicator or None, level=level, methods=methods, last=last,
                        deliver=not no_deliver, grain=grain)
    if as_json:
        _print_json({"methods": list(methods), "last": last, "grain": grain,
                     "indicators": {k: {"window": s.window, "notes": s.notes, "alarms": records(s.alarms),
                                        "new": run.recorded[k].new, "updated": run.recorded[k].updated,
                                        "withdrawn": run.recorded[k].withdrawn} for k, s in run.scans.items()},
                     "delivered": None if run.delivered is None else
                     {"sent": run.delivered.sent, "failed": run.delivered.failed}})
        return
    for name, s in run.scans.items():
        rec = run.recorded[name]
        console.print(f"{name}: {len(s.alarms):,} alarms in {s.window[0]}..{s.window[-1]} -> {len(rec.new):,} new alerts, "
                      f"{rec.updated:,} updated, {rec.withdrawn:,} withdrawn", highlight=False)
    if run.delivered is not None:
        for sub, n in run.delivered.sent.items():
            console.print(f"subscription {sub}: {n:,} alerts delivered", highlight=False)
        for sub, why in run.delivered.failed.items():
            console.print(f"[red]subscription {sub}: delivery failed ({why}); it is tried again at the next run[/]", highlight=False)


@alerts_app.command("show")
def alerts_show(alert: Annotated[str, typer.Argument(help="Alert id.")], as_json: JsonOpt = False,
                workspace: WorkspaceOpt = None) -> None:
    """An alert: every method's expected value, threshold and score, its status and notes."""
    a = _store(workspace).get(alert)
    if as_json:
        _print_json(a)
        return
    _table([a], f"alert {alert}")
    for m in a["methods"]:
        console.print(f"  {m['method']}: expected {m['expected']}, threshold {m['threshold']}, score {m['score']}", highlight=False)
    for n in a["notes"]:
        console.print(f"  note {n['written_at']} {n['author']}: {n['text']}", highlight=False)


@alerts_app.command("ack")
def alerts_ack(alert: Annotated[str, typer.Argument(help="Alert id.")],
               note: Annotated[Optional[str], typer.Option("--note", help="A note to add.")] = None,  # noqa: UP045
               close: Annotated[bool, typer.Option("--close", help="Close it (dealt with) instead of only acknowledging.")] = False,
               user: UserOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Acknowledge (or close) an alert, optionally with a note."""
    store = _store(workspace)
    (store.close if close else store.acknowledge)(alert, user or getpass.getuser(), note)
    console.print(f"alert {alert}: {store.get(alert)['status']}", highlight=False)


@alerts_app.command("note")
def alerts_note(alert: Annotated[str, typer.Argument(help="Alert id.")], text: Annotated[str, typer.Argument(help="The note.")],
                user: UserOpt = None, workspace: WorkspaceOpt = None) -> None:
    """Add a note to an alert."""
    _store(workspace).add_note(alert, user or getpass.getuser(), text)
    console.print(f"alert {alert}: note added", highlight=False)


@alerts_app.command("subscribe")
def alerts_subscribe(
    webhook: Annotated[Optional[str], typer.Option("--webhook", help="POST new alerts as JSON to this address.")] = None,  # noqa: UP045
    email: Annotated[Optional[str], typer.Option("--email", help="Write new alerts as e-mails to this address into the outbox folder.")] = None,  # noqa: UP045
    indicator: Annotated[Optional[str], typer.Option("--indicator", help="Only this indicator's alerts.")] = None,  # noqa: UP045
    min_severity: Annotated[str, typer.Option("--min-severity", help="low, medium or high.")] = "low",
    lang: Annotated[str, typer.Option("--lang", help="Language of the e-mails: es or en.")] = "es",
    workspace: WorkspaceOpt = None,
) -> None:
    """Subscribe a webhook or an e-mail address to new alerts."""
    if (webhook is None) == (email is None):
        raise typer.BadParameter("give exactly one of --webhook URL or --email ADDRESS")
    kind, target = ("webhook", webhook) if webhook else ("email", email)
    sid = _store(workspace).subscribe(kind, str(target), indicator=indicator, min_severity=min_severity, lang=lang)
    console.print(f"subscription {sid}: {kind} {target}", highlight=False)


@alerts_app.command("subscriptions")
def alerts_subscriptions(as_json: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """The active subscriptions."""
    rows = _store(workspace).subscriptions()
    if as_json:
        _print_json({"data": rows})
        return
    table = Table("id", "kind", "target", "indicator", "min severity", "lang", "since", title="subscriptions")
    for r in rows:
        table.add_row(str(r["subscription_id"]), r["kind"], r["target"], r["indicator"] or "all", r["min_severity"],
                      r["lang"], r["created_at"])
    console.print(table)


@alerts_app.command("unsubscribe")
def alerts_unsubscribe(subscription: Annotated[int, typer.Argument(help="Subscription id.")],
                       workspace: WorkspaceOpt = None) -> None:
    """End a subscription."""
    _store(workspace).unsubscribe(subscription)
    console.print(f"subscription {subscription}: ended", highlight=False)


@alerts_app.command("deliver")
def alerts_deliver(workspace: WorkspaceOpt = None) -> None:
    """Send pending alerts to the subscribers again (after a failed delivery)."""
    from segura.warning.deliver import deliver

    ws = _ws(workspace)
    from segura.warning.store import AlertStore

    done = deliver(AlertStore.of(ws.root), ws.root, sender=str(ws.settings["alerts.email_from"]),
                   portal=str(ws.settings["portal.base_url"]))
    console.print(f"delivered: {sum(done.sent.values()):,} alerts to {len(done.sent)} subscriptions; "
                  f"failed: {len(done.failed)}", highlight=False)
    for sub, why in done.failed.items():
        console.print(f"[red]subscription {sub}: {why}[/]", highlight=False)
