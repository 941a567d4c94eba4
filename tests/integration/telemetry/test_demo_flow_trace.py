"""A demo flow through the dev host against the real emulators, traced by an in-memory exporter.

Each request is one server span named by its operationId, carrying the correlation id the response
returned; the Cosmos DB calls it made are dependency spans nested under it, in its trace.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from tests.support import tracing
from tests.support.sessions import finalize_payload, key_headers


@pytest.fixture
def traced() -> Iterator[None]:
    tracing.start()
    yield
    tracing.stop()


def only(name: str) -> ReadableSpan:
    spans = tracing.named(name)
    assert len(spans) == 1, f"{len(spans)} spans named {name}: {[s.name for s in tracing.SPANS.get_finished_spans()]}"
    return spans[0]


def cosmos_calls(root: ReadableSpan) -> list[ReadableSpan]:
    """The HTTP requests to the Cosmos DB emulator made under `root`."""
    return [
        span
        for span in tracing.descendants(root)
        if span.kind is SpanKind.CLIENT
        and span.attributes.get("http.request.method")
        and "ContainerProxy" not in span.name
    ]


def test_a_demo_session_is_traced_operation_by_operation(client, traced) -> None:
    created = client.post("/api/sessions", json={"scenarioId": "insurance-fnol"})
    assert created.status_code == 201, created.text
    session = created.json()
    finalized = client.post(
        "/api/sessions/finalize", json=finalize_payload(sessionId=session["sessionId"]), headers=key_headers(session)
    )
    assert finalized.status_code == 200, finalized.text
    read = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session))
    assert read.status_code == 200

    operations = {
        "createSession": created,
        "finalizeSession": finalized,
        "getSession": read,
    }
    trace_ids = set()
    for operation_id, response in operations.items():
        span = only(operation_id)
        assert span.kind is SpanKind.SERVER
        assert span.attributes["tellgence.correlation_id"] == response.headers["x-correlation-id"]
        assert span.attributes["http.response.status_code"] == response.status_code
        assert span.status.status_code is not StatusCode.ERROR
        nested = tracing.descendants(span)
        assert any(s.name.startswith("ContainerProxy.") for s in nested), (operation_id, [s.name for s in nested])
        assert cosmos_calls(span), f"{operation_id} made no Cosmos DB request under its span"
        assert {s.context.trace_id for s in nested} == {span.context.trace_id}
        trace_ids.add(span.context.trace_id)
    assert len(trace_ids) == len(operations), "each request is its own trace"


def test_readiness_is_traced_with_its_storage_and_cosmos_dependencies(client, traced) -> None:
    response = client.get("/readyz")

    span = only("getRootReadiness")
    assert span.attributes["http.response.status_code"] == response.status_code == 200
    names = {s.name for s in tracing.descendants(span)}
    assert {"QueueClient.get_queue_properties", "ContainerClient.get_container_properties"} <= names, names
