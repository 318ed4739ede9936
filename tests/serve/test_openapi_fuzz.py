"""A property-based API fuzzer driven by the OpenAPI document the server serves (schemathesis):
for any body, valid or not, the server answers as documented and never with a server error."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dagster_project.core.ingest.http import JSON, NDJSON
from dagster_project.core.ingest.sources import EVENT_SOURCES, REFERENCE_SOURCES

# few examples per operation (each example is a database batch): CI stays lean
EXAMPLES = 12


@schemathesis.serializer(NDJSON)
def json_lines(ctx, value) -> bytes:
    """The document gives a JSON Lines body as a string; a negative case may be anything."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


@pytest.fixture(scope="module")
def api_schema(served):
    return schemathesis.openapi.from_url(f"{served.url}/openapi.json")


# schemathesis's own pytest loader (`from_fixture`) does not run under pytest 9.2; its
# strategies do: one test per operation of the served document, drawing cases from them
@pytest.mark.parametrize(
    "path",
    [f"/v1/events/{name}" for name in EVENT_SOURCES]
    + [f"/v1/reference/{name}" for name in REFERENCE_SOURCES],
)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), mode=st.sampled_from([GenerationMode.POSITIVE, GenerationMode.NEGATIVE]))
def test_any_body_is_answered_as_documented_never_with_a_server_error(
    api_schema, served, path, data, mode
):
    case = data.draw(api_schema[path]["POST"].as_strategy(generation_mode=mode))
    case.call_and_validate(
        headers={"Authorization": f"Bearer {served.token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)),
    content_type=st.sampled_from([JSON, NDJSON, f"{JSON}; charset=utf-8", "text/csv", ""]),
)
def test_any_bytes_under_any_content_type_get_a_documented_answer(served, body, content_type):
    """What the document does not describe too: raw bytes, not just what fits its schemas."""
    answer = served.post("wms", body, content_type)
    assert answer.status_code in (200, 400, 415), answer.text
    if answer.status_code == 200:
        counts = answer.json()
        assert counts["received"] == (
            counts["accepted"] + counts["duplicates"] + counts["quarantined"]
        )
