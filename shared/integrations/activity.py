"""The integration activity log: one item per connector execution, newest first, bounded by the container's TTL.

Every execution lands here: intake deliveries, tool calls, connection and action tests, retries,
destination tests of onboarding and the steps of triggered workflows. An entry names the provider, the
action, where it came from (`source`), the outcome, the latency, the error class and the idempotency
key, never a secret or a payload: provider messages are already scrubbed of every secret by the dispatch.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from shared.integrations.repository import ActivityRepository
from shared.platform import clock
from shared.platform.store.repository import Document

if TYPE_CHECKING:
    from shared.integrations.dispatch import ActionResult, CheckResult

SOURCES = ("intake", "tool", "test", "action_test", "retry", "telephony", "onboarding", "workflow")
LOG_LIMIT = 100
MAX_ERROR_CHARS = 300

activity = ActivityRepository()


def record(
    tenant_id: str,
    *,
    provider_id: str,
    action: str,
    source: str,
    ok: bool,
    latency_ms: int,
    error_class: str | None = None,
    error_message: str | None = None,
    response_code: int | None = None,
    idempotency_key: str | None = None,
    session_id: str | None = None,
    connector_kind: str | None = None,
    attempt: int | None = None,
) -> Document:
    """Append one execution to the tenant's activity log (one write)."""
    if source not in SOURCES:
        raise ValueError(f"unknown activity source {source!r}")
    entry: Document = {
        "id": uuid.uuid4().hex,
        "tenantId": tenant_id,
        "providerId": provider_id,
        "action": action,
        "source": source,
        "timestamp": clock.now_iso(),
        "success": bool(ok),
        "latencyMs": max(0, int(latency_ms)),
    }
    optional = {
        "errorClass": error_class,
        "errorMessage": error_message[:MAX_ERROR_CHARS] if error_message else None,
        "responseCode": response_code,
        "idempotencyKey": idempotency_key,
        "sessionId": session_id,
        "connectorKind": connector_kind,
        "attempt": attempt,
    }
    entry.update({name: value for name, value in optional.items() if value is not None})
    return activity.create(entry)


def record_result(
    tenant_id: str,
    result: ActionResult,
    *,
    source: str,
    session_id: str | None = None,
    connector_kind: str | None = None,
    attempt: int | None = None,
) -> Document:
    """Append the outcome of one `dispatch.execute`."""
    return record(
        tenant_id,
        provider_id=result.provider_id,
        action=result.action_id,
        source=source,
        ok=result.ok,
        latency_ms=result.latency_ms,
        error_class=result.error_class,
        error_message=None if result.ok else result.summary,
        response_code=result.response_code,
        idempotency_key=result.idempotency_key,
        session_id=session_id,
        connector_kind=connector_kind,
        attempt=attempt,
    )


def record_check(tenant_id: str, check: CheckResult, *, connector_kind: str | None = None) -> Document:
    """Append the outcome of one `dispatch.health_check` (a connection test)."""
    return record(
        tenant_id,
        provider_id=check.provider_id,
        action="health_check",
        source="test",
        ok=check.ok,
        latency_ms=check.latency_ms,
        error_class=check.error_class,
        error_message=None if check.ok else check.message,
        response_code=check.response_code,
        connector_kind=connector_kind,
    )


def view(entry: Document) -> dict[str, Any]:
    """The contract's activity log entry."""
    item = {
        "id": entry["id"],
        "providerId": entry["providerId"],
        "action": entry["action"],
        "timestamp": entry["timestamp"],
        "success": entry["success"],
        "latencyMs": entry["latencyMs"],
    }
    if entry.get("errorMessage"):
        item["errorMessage"] = entry["errorMessage"]
    return item


def recent(tenant_id: str, limit: int = LOG_LIMIT) -> list[dict[str, Any]]:
    """The tenant's most recent executions, newest first (one single-partition query)."""
    return [view(entry) for entry in activity.newest(tenant_id, limit)]
