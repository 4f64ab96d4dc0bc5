"""What every `segura` command shares: the Typer app, its common options and small helpers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from segura.workspace import Workspace, default_workspace_dir

app = typer.Typer(
    help=(
        "Segura: the citizen security information system. Loads each institution's extract into one "
        "validated warehouse, checks it, reconciles the victims, computes indicators, analyses territories, "
        "warns early, and publishes an open data portal.\n\n"
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




def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"), TimeElapsedColumn(), console=err, transient=False)
