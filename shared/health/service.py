"""Health of the process and its dependencies; every dependency check is bounded in time."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shared.platform import clock, telemetry
from shared.platform.errors import ServiceUnavailable
from shared.platform.settings import Settings, get_settings

_PROCESS_STARTED = time.monotonic()
logger = logging.getLogger("tellgence.health")

# Gauges the operability probe records; the alerts of infra/main.bicep query them by these names.
READINESS_GAUGE = "tellgence.readiness"
POISON_DEPTH_GAUGE = "tellgence.poison_queue.depth"
POISON_SUFFIX = "-poison"

# A dependency that hangs keeps its thread until the SDK's own timeouts fire; the pool lets
# later probes run meanwhile (and time out themselves) instead of queueing behind it.
_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_schema_rebuild = threading.Lock()


@dataclass(slots=True)
class CheckResult:
    """The outcome of one readiness check."""

    name: str
    ok: bool
    status: str
    message: str
    extra: dict[str, str] = field(default_factory=dict)

    def detail(self) -> dict:
        """The check as the contract's `details` entry."""
        return {"ok": self.ok, "status": self.status, "message": self.message, **self.extra}


def uptime_seconds() -> float:
    """Seconds since this worker process imported the app."""
    return round(time.monotonic() - _PROCESS_STARTED, 3)


def liveness() -> dict:
    """The process answers: no dependency is touched."""
    return {"ok": True, "timestamp": clock.now_iso()}


def liveness_with_commit() -> dict:
    """Liveness plus the deployed commit when known."""
    body = liveness()
    commit = get_settings().commit
    if commit:
        body["commit"] = commit
    return body


def realtime_liveness() -> dict:
    """Liveness with process uptime, for the realtime front end."""
    return {**liveness(), "uptime": uptime_seconds()}


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health-check")
    return _executor


def _endpoint_host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def check_cosmos(settings: Settings) -> CheckResult:
    """Read the app's database: proves the endpoint, the credential and the database."""
    extra = {"mode": "key" if settings.cosmos_key else "managed_identity"}
    if not settings.cosmos_endpoint:
        return CheckResult("cosmos", False, "not_configured", "COSMOS_ENDPOINT is not set", extra)
    extra["endpoint"] = _endpoint_host(settings.cosmos_endpoint)
    from azure.cosmos.exceptions import CosmosResourceNotFoundError

    from shared.platform.store import cosmos

    if _schema_rebuild.locked():
        return CheckResult("cosmos", False, "missing", "recreating the local database", extra)
    try:
        cosmos.get_database().read(timeout=settings.health_check_timeout_seconds)
    except CosmosResourceNotFoundError:
        if not settings.is_local:
            return CheckResult("cosmos", False, "missing", f"database {settings.cosmos_database!r} not found", extra)
        # A restarted local emulator has forgotten everything: recreate the schema; not ready until done.
        from shared.platform.store.schema import ensure_cosmos_schema

        with _schema_rebuild:
            ensure_cosmos_schema(settings)
        return CheckResult("cosmos", False, "missing", "database recreated after a local emulator restart", extra)
    except Exception as exc:  # any failure means not ready; the type names the cause
        return CheckResult("cosmos", False, "down", f"Cosmos DB unreachable ({type(exc).__name__})", extra)
    return CheckResult("cosmos", True, "ok", "database reachable", extra)


def _storage_mode(settings: Settings) -> str:
    return "connection_string" if settings.storage_connection_string else "managed_identity"


def _storage_timeout(settings: Settings) -> int:
    return max(1, int(settings.health_check_timeout_seconds))


def _storage_failure(check: str, kind: str, name: str, exc: Exception, extra: dict[str, str]) -> CheckResult:
    """Name what went wrong with one container or queue: missing, refused by RBAC, or unreachable."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

    if isinstance(exc, ServiceUnavailable):
        return CheckResult(check, False, "not_configured", exc.message, extra)
    if isinstance(exc, ResourceNotFoundError):
        return CheckResult(check, False, "missing", f"{kind} {name!r} does not exist", extra)
    if isinstance(exc, ClientAuthenticationError) or (
        isinstance(exc, HttpResponseError) and exc.status_code in (401, 403)
    ):
        code = getattr(exc, "error_code", None) or type(exc).__name__
        return CheckResult(check, False, "forbidden", f"{kind} {name!r}: access refused ({code})", extra)
    return CheckResult(check, False, "down", f"{kind} {name!r} unreachable ({type(exc).__name__})", extra)


# Readiness asks only what the app's own roles allow (docs/OPERATIONS.md, "What readiness reads"):
# the properties of each declared queue (Storage Queue Data Contributor: queues/read) and container
# (Storage Blob Data Owner: containers/*). Service-level properties would need blobServices/read and
# queueServices/read, which no data role grants, so readiness would be false in every Azure deployment.


def _check_each(
    settings: Settings,
    check: str,
    kind: str,
    names: Sequence[str],
    read_properties: Callable[[str], object],
    counted: str,
) -> CheckResult:
    """Read the properties of every named queue or container; the first failure names what went wrong."""
    extra = {"mode": _storage_mode(settings)}
    for name in names:
        try:
            read_properties(name)
        except Exception as exc:
            return _storage_failure(check, kind, name, exc, extra)
    return CheckResult(check, True, "ok", f"{len(names)} {counted} reachable", extra)


def check_queues(settings: Settings) -> CheckResult:
    """Read the properties of every queue the registry declares."""
    from shared.platform.store import queues, registry

    return _check_each(
        settings,
        "storage_queues",
        "queue",
        registry.QUEUES,
        lambda name: queues.get_queue(name).get_queue_properties(timeout=_storage_timeout(settings)),
        "queue(s)",
    )


def check_blobs(settings: Settings) -> CheckResult:
    """Read the properties of every blob container the registry declares."""
    from shared.platform.store import blobs, registry

    return _check_each(
        settings,
        "storage_blobs",
        "blob container",
        registry.BLOB_CONTAINERS,
        lambda name: blobs.get_container(name).get_container_properties(timeout=_storage_timeout(settings)),
        "container(s)",
    )


def configuration_problems(settings: Settings) -> list[str]:
    """Settings that make the app unable to serve, named without their values."""
    problems = []
    if not settings.cosmos_endpoint:
        problems.append("COSMOS_ENDPOINT is not set")
    if not (settings.storage_connection_string or (settings.storage_blob_uri and settings.storage_queue_uri)):
        problems.append("AzureWebJobsStorage is not set")
    if not settings.is_local:
        insecure = [url for url in settings.frontend_urls if not url.startswith("https://")]
        if insecure:
            problems.append("FRONTEND_URLS must be https outside local development")
    if problem := settings.control_plane_auth_problem:
        problems.append(problem)
    unresolved = settings.unresolved_key_vault_references()
    if unresolved:
        names = ", ".join(name.upper() for name in unresolved)
        problems.append(f"Key Vault reference(s) not resolved for {names}: check the secret and the app's access")
    return problems


def check_configuration(settings: Settings) -> CheckResult:
    """Configuration sanity: the settings every request path needs are present and safe."""
    problems = configuration_problems(settings)
    extra = {"appMode": settings.app_env}
    if problems:
        return CheckResult("configuration", False, "misconfigured", "; ".join(problems), extra)
    return CheckResult("configuration", True, "ok", "configuration complete", extra)


DEPENDENCY_CHECKS: dict[str, Callable[[Settings], CheckResult]] = {
    "cosmos": check_cosmos,
    "storage_queues": check_queues,
    "storage_blobs": check_blobs,
}


def run_checks(settings: Settings | None = None) -> list[CheckResult]:
    """Run every dependency check concurrently, each bounded by the health-check timeout."""
    settings = settings or get_settings()
    results = [check_configuration(settings)]
    # Each check runs in the caller's context, so its storage calls are traced under the request's span.
    futures: dict[str, Future[CheckResult]] = {
        name: _pool().submit(contextvars.copy_context().run, check, settings)
        for name, check in DEPENDENCY_CHECKS.items()
    }
    deadline = time.monotonic() + settings.health_check_timeout_seconds
    for name, future in futures.items():
        try:
            results.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout:
            results.append(
                CheckResult(name, False, "timeout", f"no answer within {settings.health_check_timeout_seconds:g}s")
            )
    return results


def readiness() -> tuple[dict, bool]:
    """The readiness report and whether the instance should receive traffic."""
    results = run_checks()
    ready = all(result.ok for result in results)
    body: dict = {
        "ok": ready,
        "timestamp": clock.now_iso(),
        "checks": {result.name: result.ok for result in results},
        "details": {result.name: result.detail() for result in results},
    }
    failures = [
        {"check": result.name, "status": result.status, "message": result.message}
        for result in results
        if not result.ok
    ]
    if failures:
        body["failures"] = failures
    return body, ready


def health_report() -> tuple[dict, bool]:
    """The full health report: services, the non-secret configuration surface, build identity."""
    started = time.perf_counter()
    settings = get_settings()
    by_name = {result.name: result for result in run_checks(settings)}
    cosmos = by_name["cosmos"]
    storage = [by_name["storage_queues"], by_name["storage_blobs"]]
    storage_ok = all(result.ok for result in storage)
    services = {
        "cosmos": {
            "configured": bool(settings.cosmos_endpoint),
            "healthy": cosmos.ok,
            "status": cosmos.status,
            **cosmos.extra,
            **({} if cosmos.ok else {"error": cosmos.message}),
        },
        "storage": {
            "configured": bool(settings.storage_connection_string or settings.storage_blob_uri),
            "healthy": storage_ok,
            "status": "ok" if storage_ok else next(r.status for r in storage if not r.ok),
            "mode": _storage_mode(settings),
            **({} if storage_ok else {"error": "; ".join(r.message for r in storage if not r.ok)}),
        },
        "azureOpenAI": {
            "configured": settings.azure_openai_configured,
            "status": "configured" if settings.azure_openai_configured else "not_configured",
            **(
                {"endpoint": _endpoint_host(settings.azure_openai_endpoint)} if settings.azure_openai_configured else {}
            ),
        },
        "evidenceSigning": evidence_signing_service(settings),
    }
    healthy = cosmos.ok and storage_ok and by_name["configuration"].ok
    report = {
        "ok": healthy,
        "timestamp": clock.now_iso(),
        "uptime": uptime_seconds(),
        "duration": f"{round((time.perf_counter() - started) * 1000)}ms",
        "services": services,
        "environment": settings.app_env,
        "version": settings.version,
        "surface": configuration_surface(settings),
    }
    if settings.commit:
        report["commit"] = settings.commit
    return report, healthy


def evidence_signing_service(settings: Settings) -> dict:
    """Whether evidence packs can be signed (a feature, not readiness: without a key only packs answer 503)."""
    from shared.evidence.keys import configuration_problem

    problem = configuration_problem(settings)
    mode = "configured_key" if settings.evidence_signing_key else "local_dev_key" if settings.is_local else "none"
    service = {"configured": problem is None, "status": "ok" if problem is None else "not_configured", "mode": mode}
    if problem:
        service["error"] = problem
    return service


def configuration_surface(settings: Settings) -> dict:
    """The non-secret configuration snapshot staging verification reads."""
    surface = {
        "appEnv": settings.app_env,
        "corsAllowedOrigins": list(settings.frontend_urls),
        "temporalEnabled": settings.temporal_enabled,
        "bookingTemporalOrchestration": settings.booking_temporal_orchestration,
        "internalWorkflowCallbacksConfigured": bool(settings.internal_workflow_callback_secret),
        "realtime": {
            "endpointConfigured": settings.azure_openai_configured,
            "deployment": settings.azure_openai_deployment_realtime,
            "transcriptionModel": settings.azure_openai_transcription_model,
        },
    }
    if settings.api_public_base_url:
        surface["apiPublicBaseUrl"] = settings.api_public_base_url
    if settings.web_public_base_url:
        surface["webPublicBaseUrl"] = settings.web_public_base_url
    return surface


def poison_queue_depths() -> dict[str, int]:
    """The approximate message count of the `<queue>-poison` queue of every declared queue."""
    from shared.platform.store import queues, registry

    timeout = _storage_timeout(get_settings())
    depths = {}
    for name in registry.QUEUES:
        poison = name + POISON_SUFFIX
        properties = queues.get_queue(poison).get_queue_properties(timeout=timeout)
        depths[poison] = int(properties.approximate_message_count or 0)
    return depths


def report_operability() -> dict:
    """Run readiness and read the poison queues: record both as gauges and log what needs an operator.

    Run by a timer, so readiness failures and poisoned messages raise alerts even when no probe calls
    /readyz and no operator looks at the queues.
    """
    results = run_checks()
    for result in results:
        telemetry.record_gauge(READINESS_GAUGE, 1 if result.ok else 0, {"check": result.name})
        if not result.ok:
            logger.warning("readiness check %s failed: %s (%s)", result.name, result.status, result.message)
    try:
        depths = poison_queue_depths()
    except Exception as exc:  # the readiness gauges above already say why storage is unreadable
        logger.warning("poison queue depths unavailable (%s)", type(exc).__name__)
        depths = {}
    for queue, depth in depths.items():
        telemetry.record_gauge(POISON_DEPTH_GAUGE, depth, {"queue": queue})
        if depth:
            logger.warning("poison queue %s holds %d message(s) that failed every retry", queue, depth)
    return {"ready": all(result.ok for result in results), "poisonDepths": depths}
