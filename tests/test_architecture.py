"""Imports run one way (model <- store <- stages <- pipeline <- web, cli); Typer only in segura/cli/,
FastAPI only in the portal (the web layer)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "segura"
LAYERS = {
    "model": 0, "store": 1, "disclosure": 1, "ingest": 2, "quality": 2, "reconcile": 3, "sample": 3,
    "query": 4, "indicators": 5, "territorial": 6, "conflicts": 6, "warning": 6, "pipeline": 7, "console": 8, "portal": 8, "cli": 9,
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 and parts[0] == "segura" else None


def test_stages_never_import_what_sits_above_them() -> None:
    for path in SRC.rglob("*.py"):
        own = layer_of("segura." + path.relative_to(SRC).with_suffix("").as_posix().replace("/", "."))
        if own is None:
            continue
        for module in imports_of(path):
            other = layer_of(module)
            assert other is None or other <= own, f"{path.relative_to(SRC)} imports {module}"


def test_typer_only_in_the_cli_and_fastapi_only_in_the_portal() -> None:
    for path in SRC.rglob("*.py"):
        tops = {m.split(".")[0] for m in imports_of(path)}
        if path.relative_to(SRC).parts[0] != "cli":
            assert "typer" not in tops, path
        if path.relative_to(SRC).parts[0] != "portal":
            assert not tops & {"fastapi", "starlette", "uvicorn", "jinja2"}, path
