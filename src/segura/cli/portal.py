"""`segura publish`, `segura serve` and `segura users`: releases and the portal."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.table import Table

from segura.cli.base import JsonOpt, WorkspaceOpt, _print_json, _progress, _ws, app
from segura.console import console
from segura.errors import SeguraError

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


