"""One in-memory span exporter and metric reader per test process, for tests that capture telemetry.

OpenTelemetry lets a process set its global tracer provider once, and the Azure SDK's spans go to
the global one, so every test module that captures spans shares these. Call `start()` in a
fixture, `stop()` after it: the rest of the suite then runs untraced again.
"""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.platform import outbound, telemetry

SPANS = InMemorySpanExporter()
METRICS = InMemoryMetricReader()
_TRACER_PROVIDER = TracerProvider()
_TRACER_PROVIDER.add_span_processor(SimpleSpanProcessor(SPANS))
_METER_PROVIDER = MeterProvider(metric_readers=[METRICS])


def start() -> InMemorySpanExporter:
    """Trace this process into SPANS (and METRICS) from now on; returns the cleared exporter."""
    outbound.reset()  # the process-wide httpx client is rebuilt under instrumentation
    telemetry.enable_tracing(_TRACER_PROVIDER, _METER_PROVIDER)
    SPANS.clear()
    return SPANS


def stop() -> None:
    """Stop tracing: spans are no-ops again."""
    telemetry.disable_tracing()
    outbound.reset()
    SPANS.clear()


def named(name: str) -> list[ReadableSpan]:
    """The finished spans called `name`, oldest first."""
    return [span for span in SPANS.get_finished_spans() if span.name == name]


def descendants(root: ReadableSpan) -> list[ReadableSpan]:
    """Every finished span under `root`, at any depth."""
    found: list[ReadableSpan] = []
    frontier = {root.context.span_id}
    pending = [span for span in SPANS.get_finished_spans() if span is not root]
    while frontier:
        children = [span for span in pending if span.parent and span.parent.span_id in frontier]
        found += children
        frontier = {span.context.span_id for span in children}
    return found
