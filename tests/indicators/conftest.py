"""The sample observatory, built once per test session: the indicator tests read it, never write it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from segura.indicators import QueryContext, duckdb_context, load_catalogue
from segura.indicators.catalogue import Catalogue
from segura.pipeline import run_demo
from segura.workspace import Workspace


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("indicators") / "demo"
    return run_demo(root, indicators=False).workspace


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture()
def ctx(demo: Workspace) -> Iterator[QueryContext]:
    with demo.warehouse(read_only=True) as wh:
        yield duckdb_context(wh.con, demo.settings)


