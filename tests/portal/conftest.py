"""The portal over the sample observatory: one release of a set of indicators, published once per session.

The set covers every kind (count, rate, share, distribution) and the records base the data
quality page reads; the other bases are built the same way and would only add minutes of
disclosure control to the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from segura.portal.app import create_app
from segura.portal.release import PublishReport
from segura.workspace import Workspace

INDICATORS = ["homicide_victims", "sdg_16_1_1", "femicide_rate", "homicide_firearm_share",
              "victim_perpetrator_relationship", "records_reconciled_share"]
ADMIN = ("ana", "contraseña-de-prueba-1", "admin")
ANALYST = ("luis", "otra-contraseña-2", "analyst")


@pytest.fixture(scope="session")
def release(demo: Workspace) -> PublishReport:
    from segura.portal.auth import add_user

    report = demo.publish(indicators=INDICATORS)
    for name, password, role in (ADMIN, ANALYST):
        add_user(demo.root, name, password, role)
    return report


@pytest.fixture(scope="session")
def portal_root(demo: Workspace, release: PublishReport) -> Path:
    return demo.root


@pytest.fixture()
def client(portal_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(portal_root, rate_limit=0)) as c:
        yield c
