"""The HTTP API fuzzed with schemathesis from its own OpenAPI schema (in-process ASGI, no
network): whatever the generated request, no 500, and every error is ``{"error": "..."}``
with one readable line. Bounded: a fixed number of examples per operation."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from overflight.server import Limits, create_app  # noqa: E402

TOKEN = "fuzz-token"
EXAMPLES = int(os.environ.get("OVERFLIGHT_FUZZ_EXAMPLES", "12"))

# A catalog database of its own (the fuzzer's imports land there), small limits so that
# generated requests stay quick.
_DB = Path(tempfile.mkdtemp(prefix="overflight-fuzz-")) / "catalog.db"
_APP = create_app(_DB, TOKEN, limits=Limits(max_work=20.0, max_job_work=50.0,
                                            request_timeout_s=10.0, max_track_points=2000,
                                            max_body_bytes=256 * 1024))
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


def _check_error_shape(response: Any) -> None:
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    message = body["error"]
    assert isinstance(message, str) and message.strip(), body
    assert "\n" not in message and "Traceback" not in message, message


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_errors_are_one_json_line(case: Any) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    _check_error_shape(response)
    if response.status_code == 200:
        case.validate_response(response, checks=[response_schema_conformance])
