"""schemathesis over the API's OpenAPI: whatever a client sends, valid by the schema or not, the
server answers without a 5xx, with a status code the schema declares, and rejects what it should.

(The operations are driven with Hypothesis directly: schemathesis' lazy pytest fixture does not
run under pytest 9.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, status_code_conformance

from segura.portal.app import create_app


@pytest.fixture(scope="module")
def api_schema(portal_root: Path) -> schemathesis.schemas.BaseSchema:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(portal_root, rate_limit=0))


def operations(schema: schemathesis.schemas.BaseSchema) -> list[object]:
    return [result.ok() for result in schema.get_all_operations()]


def test_the_schema_lists_every_operation(api_schema: schemathesis.schemas.BaseSchema) -> None:
    assert len(operations(api_schema)) >= 12


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error(api_schema: schemathesis.schemas.BaseSchema, mode: GenerationMode) -> None:
    failures: list[str] = []
    for op in operations(api_schema):

        @given(case=op.as_strategy(generation_mode=mode))  # type: ignore[attr-defined]
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def run(case: schemathesis.Case) -> None:
            response = case.call()
            assert response.status_code < 500, \
                f"{case.method} {case.formatted_path} {case.query} {case.body!r}: {response.status_code} {response.text[:300]}"
            case.validate_response(response, checks=[status_code_conformance, negative_data_rejection])

        try:
            run()
        except Unsatisfiable:  # nothing to make invalid: an operation without parameters
            continue
        except Exception as e:  # noqa: BLE001 - collect every operation's failure, then fail once
            failures.append(f"{op.method.upper()} {op.path}: {str(e)[:800]}")  # type: ignore[attr-defined]
    assert not failures, "\n\n".join(failures)
