"""Traces captured by an in-memory exporter: one span per operation and per job, dependencies nested under it.

Tracing is switched on for this module only (tests/support/tracing.py: telemetry.enable_tracing
with SDK providers, what configure() does with Azure Monitor's), then off again, so the rest of the
suite runs untraced.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pytest_httpserver import HTTPServer

from shared.platform import outbound, telemetry
from shared.platform.errors import NotFound
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request
from shared.platform.jobs import queue_job, timer_job
from tests.support import tracing
from tests.support.fake_storage import FakeStorageAccount

ACCOUNT = FakeStorageAccount(containers={"evidence"}, queues={"emails": 0})


@dataclass(frozen=True)
class TenantPrincipal:
    user_id: str
    tenant_id: str


class TenantAuth:
    """An auth mode that resolves every caller to a member of tenant t-acme."""

    name = "tenant_member"

    def authenticate(self, request: Request) -> TenantPrincipal:
        return TenantPrincipal("user_1", "t-acme")


bp = func.Blueprint()
UPSTREAM: dict[str, str] = {}


@operation(bp, "t/things/{thingId}", auth=TenantAuth())
def get_thing(request: Request) -> dict:
    """Calls an outbound HTTP service and Blob storage, like a real operation calling its dependencies."""
    outbound.http_client().get(UPSTREAM["url"])
    ACCOUNT.blob_service().get_container_client("evidence").get_container_properties()
    return {"thingId": request.route["thingId"]}


@operation(bp, "t/missing")
def get_missing_thing(request: Request) -> dict:
    raise NotFound("No such thing")


@operation(bp, "t/broken")
def get_broken_thing(request: Request) -> dict:
    raise RuntimeError("the handler failed")


app = func.FunctionApp()
app.register_functions(bp)
FUNCTIONS = {f.get_function_name(): f.get_user_function() for f in app.get_functions()}


jobs = func.Blueprint()


@queue_job(jobs, "things")
def send_thing(payload: dict) -> None:
    """A queue job that writes to a queue (a dependency) and fails when told to."""
    ACCOUNT.queue_service().get_queue_client("emails").send_message("hello")
    if payload.get("fail"):
        raise RuntimeError("provider down")


@timer_job(jobs, "0 0 2 * * *")
def nightly() -> None:
    """A timer job with no dependency."""


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    yield tracing.start()
    tracing.stop()


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    exporter.clear()
    return exporter


def call(name: str, route: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> func.HttpResponse:
    request = func.HttpRequest(
        "GET", f"http://localhost/{name}", headers=headers or {}, route_params=route or {}, body=b""
    )
    return FUNCTIONS[name](request)


def named(spans: InMemorySpanExporter, name: str) -> ReadableSpan:
    (span,) = tracing.named(name)
    return span


def descendants(spans: InMemorySpanExporter, root: ReadableSpan) -> list[ReadableSpan]:
    return tracing.descendants(root)


def test_an_operation_is_one_server_span_named_by_its_operation_id(spans, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/upstream").respond_with_json({"ok": True})
    UPSTREAM["url"] = httpserver.url_for("/upstream")

    response = call("get_thing", route={"thingId": "th-1"}, headers={"x-correlation-id": "corr-12345678"})

    assert response.status_code == 200
    span = named(spans, "getThing")
    assert span.kind is SpanKind.SERVER
    assert span.parent is None or not span.parent.is_remote
    assert span.attributes["tellgence.operation_id"] == "getThing"
    assert span.attributes["tellgence.tenant_id"] == "t-acme"
    assert span.attributes["tellgence.correlation_id"] == response.headers["x-correlation-id"] == "corr-12345678"
    assert span.attributes["http.response.status_code"] == 200
    assert span.status.status_code is not StatusCode.ERROR


def test_outbound_and_storage_calls_are_dependencies_nested_under_the_operation(spans, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/upstream").respond_with_json({"ok": True})
    UPSTREAM["url"] = httpserver.url_for("/upstream")

    call("get_thing", route={"thingId": "th-1"})

    operation_span = named(spans, "getThing")
    nested = descendants(spans, operation_span)
    # httpx spans carry the URL as url.full (current semantic conventions) or http.url (older ones).
    outbound_spans = [
        s
        for s in nested
        if s.kind is SpanKind.CLIENT and "upstream" in str(s.attributes.get("url.full") or s.attributes.get("http.url"))
    ]
    storage_calls = [
        s
        for s in nested
        if s.kind is SpanKind.CLIENT and str(s.attributes.get("server.address")).endswith(".blob.core.windows.net")
    ]
    assert outbound_spans, f"no httpx dependency under getThing: {[s.name for s in nested]}"
    assert storage_calls, f"no Blob storage dependency under getThing: {[s.name for s in nested]}"
    assert any(s.name == "ContainerClient.get_container_properties" for s in nested), [s.name for s in nested]
    assert {s.context.trace_id for s in nested} == {operation_span.context.trace_id}
    # The trace context travels with the outbound request (W3C traceparent).
    (upstream_request, _), *_ = httpserver.log
    assert f"{operation_span.context.trace_id:032x}" in upstream_request.headers["traceparent"]


def test_a_4xx_is_recorded_but_not_a_failure(spans) -> None:
    response = call("get_missing_thing")

    span = named(spans, "getMissingThing")
    assert response.status_code == 404
    assert span.attributes["http.response.status_code"] == 404
    assert span.status.status_code is not StatusCode.ERROR
    assert "tellgence.tenant_id" not in span.attributes  # a public operation names no tenant


def test_an_unexpected_error_fails_the_span_with_the_exception_attached(spans) -> None:
    response = call("get_broken_thing")

    span = named(spans, "getBrokenThing")
    assert response.status_code == 500
    assert span.status.status_code is StatusCode.ERROR
    assert [event.attributes["exception.type"] for event in span.events] == ["RuntimeError"]


def test_spans_end_even_when_the_request_is_rejected_before_the_handler(spans) -> None:
    response = call("get_thing", route={"thingId": "th-1"}, headers={"content-length": str(10**9)})

    assert response.status_code == 413
    assert named(spans, "getThing").attributes["http.response.status_code"] == 413


def test_a_queue_job_is_a_consumer_span_with_its_dependencies(spans) -> None:
    msg = QueueMessage(id="msg-1", body=b'{"to": "x"}', dequeue_count=2)

    send_thing(msg)

    span = named(spans, "send_thing")
    assert span.kind is SpanKind.CONSUMER
    assert span.attributes["tellgence.trigger"] == "queue"
    assert span.attributes["tellgence.correlation_id"] == "msg-1"
    assert span.attributes["tellgence.dequeue_count"] == 2
    nested = descendants(spans, span)
    assert any(s.name == "QueueClient.send_message" for s in nested)
    assert any(s.kind is SpanKind.CLIENT and s.attributes.get("http.response.status_code") == 201 for s in nested)


def test_a_failing_job_records_the_error_and_still_raises(spans) -> None:
    with pytest.raises(RuntimeError, match="provider down"):
        send_thing(QueueMessage(id="msg-2", body=b'{"fail": true}', dequeue_count=1))

    span = named(spans, "send_thing")
    assert span.status.status_code is StatusCode.ERROR
    assert span.events[0].attributes["exception.type"] == "RuntimeError"


def test_a_timer_job_is_traced_too(spans) -> None:
    nightly(TimerRequest(past_due=True))

    span = named(spans, "nightly")
    assert span.kind is SpanKind.INTERNAL
    assert span.attributes["tellgence.trigger"] == "timer"
    assert span.attributes["tellgence.past_due"] is True


def test_gauges_reach_the_meter(spans) -> None:
    telemetry.record_gauge("tellgence.poison_queue.depth", 4, {"queue": "emails-poison"})

    data = tracing.METRICS.get_metrics_data()
    points = [
        (metric.name, point.value, dict(point.attributes))
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    ]
    assert ("tellgence.poison_queue.depth", 4, {"queue": "emails-poison"}) in points


def test_the_probe_flushes_its_gauges_before_the_instance_may_stop(spans, monkeypatch: pytest.MonkeyPatch) -> None:
    from blueprints.jobs import operability
    from shared.health import service as health

    flushed: list[int] = []
    monkeypatch.setattr(health, "report_operability", lambda: telemetry.record_gauge("tellgence.readiness", 1))
    monkeypatch.setattr(tracing.METRICS, "force_flush", lambda timeout_millis=0: flushed.append(timeout_millis) or True)

    operability.probe_operability(TimerRequest(past_due=False))

    assert flushed, "the meter provider was not flushed"
    assert named(spans, "probe_operability").attributes["tellgence.trigger"] == "timer"


def test_the_current_operation_is_reachable_from_a_service(spans) -> None:
    with telemetry.job_span("outer", trigger="timer"):
        telemetry.current_operation().set_tenant("t-from-service")
    assert named(spans, "outer").attributes["tellgence.tenant_id"] == "t-from-service"
    # Outside any span, a service's call is harmless: the current operation is the no-op span.
    telemetry.current_operation().set_tenant("t-nowhere")
    assert all("t-nowhere" not in span.attributes.values() for span in spans.get_finished_spans())
