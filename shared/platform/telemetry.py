"""Telemetry: logging set up once per process with secrets scrubbed, and OpenTelemetry traces and metrics.

Tracing is off unless APPLICATIONINSIGHTS_CONNECTION_STRING is set. Then `configure()` hands the
process to azure-monitor-opentelemetry (imported only then, so the cold start of an app without
telemetry imports nothing of OpenTelemetry): a span per HTTP operation named by its operationId, a
span per queue or timer job, and the Azure SDK (Cosmos DB, Blob, Queue) and outbound httpx calls as
dependency spans nested under them. In Azure the exporter authenticates with the managed identity
named by APPLICATIONINSIGHTS_AUTHENTICATION_STRING (the resource refuses key-based ingestion).

Spans carry ids, never personal data or secrets: the operationId, the tenant id, the HTTP status,
the correlation id (the `x-correlation-id` the adapter returns) and, for jobs, the message id.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from shared.platform.settings import APP_VERSION, Settings, get_settings

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

logger = logging.getLogger("tellgence.telemetry")

INSTRUMENTATION_NAME = "tellgence"
SERVICE_NAME = "tellgence-api"
# Span attribute names of our own (OpenTelemetry has no convention for tenants or correlation ids).
TENANT_ATTRIBUTE = "tellgence.tenant_id"
CORRELATION_ATTRIBUTE = "tellgence.correlation_id"
OPERATION_ATTRIBUTE = "tellgence.operation_id"
STATUS_ATTRIBUTE = "http.response.status_code"
# The distro's instrumentations for web frameworks the app does not use stay off.
_UNUSED_INSTRUMENTATIONS = ("django", "fastapi", "flask", "psycopg2")

_configured = False
_tracer: Any = None  # an opentelemetry Tracer while tracing is on, else None
_meter: Any = None
_providers: tuple[Any, ...] = ()
_gauges: dict[str, Any] = {}
_httpx_instrumentor: Any = None

F = TypeVar("F", bound=Callable[..., Any])


class SecretScrubber(logging.Filter):
    """Replaces any configured secret value that reaches a log message with ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = get_settings().secret_values()
        if secrets:
            message = record.getMessage()
            scrubbed = message
            for secret in secrets:
                scrubbed = scrubbed.replace(secret, "***")
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        return True


def configure_logging() -> None:
    """Attach the scrubber to the app's loggers; the Functions worker owns handlers and levels."""
    global _configured
    if _configured:
        return
    for name in ("tellgence", "azure"):
        logging.getLogger(name).addFilter(SecretScrubber())
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
    _configured = True


def configure(settings: Settings | None = None) -> bool:
    """Set up logging and, when Application Insights is configured, tracing; once per process. True if tracing."""
    configure_logging()
    if _tracer is not None:
        return True
    settings = settings or get_settings()
    if not settings.telemetry_enabled:
        return False
    try:
        _configure_azure_monitor(settings)
    except Exception:  # observability must never take the API down with it
        logger.exception("telemetry could not be configured; the app runs without traces")
        return False
    return True


def _configure_azure_monitor(settings: Settings) -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.resources import Resource

    configure_azure_monitor(
        connection_string=settings.applicationinsights_connection_string,
        credential=ingestion_credential(settings.applicationinsights_authentication_string),
        resource=Resource.create(
            {
                "service.name": SERVICE_NAME,
                "service.version": settings.version,
                "deployment.environment.name": settings.app_env,
            }
        ),
        # The Functions host already ships the worker's log records (with the invocation's
        # operation id); exporting them here too would store every line twice.
        disable_logging=True,
        enable_live_metrics=False,
        enable_performance_counters=False,
        instrumentation_options={name: {"enabled": False} for name in _UNUSED_INSTRUMENTATIONS},
    )
    _activate(trace.get_tracer_provider(), metrics.get_meter_provider())


def ingestion_credential(authentication_string: str) -> Any:
    """The Entra ID credential APPLICATIONINSIGHTS_AUTHENTICATION_STRING names, or None for key-based ingestion.

    The format is the Functions host's: `Authorization=AAD` for the system-assigned identity, plus
    `ClientId=<client id>` for a user-assigned one.
    """
    parts = {}
    for part in authentication_string.split(";"):
        key, separator, value = part.partition("=")
        if separator:
            parts[key.strip().lower()] = value.strip()
    if parts.get("authorization", "").upper() != "AAD":
        return None
    from azure.identity import ManagedIdentityCredential

    client_id = parts.get("clientid")
    return ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()


def enable_tracing(tracer_provider: TracerProvider, meter_provider: MeterProvider | None = None) -> None:
    """Trace into the given OpenTelemetry SDK providers instead of Azure Monitor (tests, a local collector).

    Instruments what configure() would: the Azure SDK clients and httpx. The global tracer provider
    is set to `tracer_provider` unless one was set already (OpenTelemetry allows it once per process).
    """
    from azure.core.settings import settings as azure_settings
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan
    from opentelemetry import trace
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    global _httpx_instrumentor
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(tracer_provider)
    azure_settings.tracing_implementation = OpenTelemetrySpan
    if _httpx_instrumentor is None:
        _httpx_instrumentor = HTTPXClientInstrumentor()
        _httpx_instrumentor.instrument(tracer_provider=tracer_provider)
    _activate(tracer_provider, meter_provider)


def disable_tracing() -> None:
    """Stop tracing in this process: spans become no-ops again (tests)."""
    global _tracer, _meter, _httpx_instrumentor, _providers
    if _httpx_instrumentor is not None:
        _httpx_instrumentor.uninstrument()
        _httpx_instrumentor = None
    if _tracer is not None:
        from azure.core.settings import settings as azure_settings

        azure_settings.tracing_implementation = None
    _tracer = _meter = None
    _providers = ()
    _gauges.clear()


def flush(timeout_millis: int = 10_000) -> None:
    """Export what is buffered now: a job's instance may be stopped before the periodic export runs."""
    for provider in _providers:
        force_flush = getattr(provider, "force_flush", None)
        if force_flush is not None:
            force_flush(timeout_millis)


def _activate(tracer_provider: Any, meter_provider: Any) -> None:
    global _tracer, _meter, _providers
    _providers = tuple(provider for provider in (tracer_provider, meter_provider) if provider is not None)
    _tracer = tracer_provider.get_tracer(INSTRUMENTATION_NAME, APP_VERSION)
    _meter = meter_provider.get_meter(INSTRUMENTATION_NAME, APP_VERSION) if meter_provider is not None else None
    _gauges.clear()


def tracing_enabled() -> bool:
    """Whether spans are being recorded in this process."""
    return _tracer is not None


class OperationSpan:
    """The span of one HTTP operation or job; every method is a no-op when tracing is off.

    It starts when created and is current until `end()` (or the end of a `with` block), so the
    dependency spans of the Azure SDK and httpx calls made meanwhile nest under it.
    """

    __slots__ = ("_context_token", "_ended", "_span", "_token")

    def __init__(self, span: Any = None, token: Any = None) -> None:
        self._span = span
        self._token = token
        self._context_token: contextvars.Token | None = None
        self._ended = span is None

    def set_tenant(self, tenant: Any) -> None:
        """Record the tenant: a tenant id, or any object with a `tenant_id` (a principal, a session grant)."""
        tenant_id = tenant if isinstance(tenant, str) else getattr(tenant, "tenant_id", None)
        if self._span is not None and isinstance(tenant_id, str) and tenant_id:
            self._span.set_attribute(TENANT_ATTRIBUTE, tenant_id)

    def set_status(self, status_code: int) -> None:
        """Record the HTTP status; a 5xx marks the span as failed (a 4xx is the caller's error, not ours)."""
        if self._span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        self._span.set_attribute(STATUS_ATTRIBUTE, int(status_code))
        if status_code >= 500:
            self._span.set_status(Status(StatusCode.ERROR))

    def record_exception(self, exc: BaseException) -> None:
        """Attach an unexpected exception (type, message, stack) and mark the span as failed."""
        if self._span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        self._span.record_exception(exc)
        self._span.set_status(Status(StatusCode.ERROR, type(exc).__name__))

    def end(self, status_code: int | None = None) -> None:
        """Finish the span (recording `status_code` if given) and restore the context it replaced."""
        if self._ended:
            return
        self._ended = True
        if status_code is not None:
            self.set_status(status_code)
        from opentelemetry import context

        self._span.end()
        context.detach(self._token)
        if self._context_token is not None:
            _current.reset(self._context_token)

    def __enter__(self) -> OperationSpan:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> None:
        if exc is not None:
            self.record_exception(exc)
        self.end()


_NOOP_SPAN = OperationSpan()
_current: contextvars.ContextVar[OperationSpan] = contextvars.ContextVar("tellgence_operation", default=_NOOP_SPAN)


def current_operation() -> OperationSpan:
    """The operation or job span being recorded in this context (a no-op span outside one)."""
    return _current.get()


def _start(name: str, kind_name: str, attributes: Mapping[str, Any]) -> OperationSpan:
    from opentelemetry import context, trace

    span = _tracer.start_span(
        name, kind=getattr(trace.SpanKind, kind_name), attributes={k: v for k, v in attributes.items() if v is not None}
    )
    live = OperationSpan(span, context.attach(trace.set_span_in_context(span)))
    live._context_token = _current.set(live)
    return live


@functools.lru_cache(maxsize=512)
def operation_name(function_name: str) -> str:
    """The contract operationId of an HTTP function: its name is the operationId in snake_case."""
    head, *rest = function_name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def operation_span(
    operation_id: str, correlation_id: str, *, method: str | None = None, route: str | None = None
) -> OperationSpan:
    """Start the server span of one HTTP operation, named by its operationId (a no-op when tracing is off).

    `operation_id` may be the operationId or the snake_case name of the function that serves it.
    """
    if _tracer is None:
        return _NOOP_SPAN
    operation_id = operation_name(operation_id)
    return _start(
        operation_id,
        "SERVER",
        {
            OPERATION_ATTRIBUTE: operation_id,
            CORRELATION_ATTRIBUTE: correlation_id,
            "http.request.method": method,
            "http.route": route,
        },
    )


def job_span(
    name: str, *, trigger: str, correlation_id: str | None = None, attributes: Mapping[str, Any] | None = None
) -> OperationSpan:
    """Start the span of one queue- or timer-triggered job run (`trigger` is "queue" or "timer")."""
    if _tracer is None:
        return _NOOP_SPAN
    return _start(
        name,
        "CONSUMER" if trigger == "queue" else "INTERNAL",
        {
            OPERATION_ATTRIBUTE: name,
            CORRELATION_ATTRIBUTE: correlation_id,
            "faas.trigger": {"queue": "pubsub", "timer": "timer"}.get(trigger, "other"),
            "tellgence.trigger": trigger,
            **(attributes or {}),
        },
    )


def record_gauge(name: str, value: float, attributes: Mapping[str, str] | None = None) -> None:
    """Record the current value of a gauge (a queue depth, a readiness flag); a no-op without metrics."""
    if _meter is None:
        return
    gauge = _gauges.get(name)
    if gauge is None:
        gauge = _gauges[name] = _meter.create_gauge(name)
    gauge.set(value, attributes=dict(attributes or {}))
