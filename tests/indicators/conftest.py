"""The indicator tests read the sample observatory (the session-wide `demo` of tests/conftest.py), never write it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from segura.indicators import QueryContext, duckdb_context, load_catalogue
from segura.indicators.catalogue import Catalogue
from segura.workspace import Workspace


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture()
def ctx(demo: Workspace) -> Iterator[QueryContext]:
    with demo.warehouse(read_only=True) as wh:
        yield duckdb_context(wh.con, demo.settings)


