"""Tracked deliveries: a connector action on behalf of a session that an operator can retry when it fails.

`deliver` runs one action through the tenant's connector under the delivery's idempotency key and
returns the session's integration outcome (the contract's `integrationOutcomes` item). A failure
also stores an open exception on the desk that carries the delivery itself (connector kind,
provider, action, params, idempotency key, first attempt): its id is the outcome's id, derived from
the idempotency key, so a repeated delivery never opens a second exception. The caller writes the
outcome and the exception's session copy onto the session in its own single update.

Retries go through the `integration-retries` queue:
- `retry_one` (POST /api/cp/sessions/{id}/retry-integration) queues one failed outcome of a session;
  an outcome that did not fail, or whose exception an operator closed, is a 400;
- `retry_all` queues every open failure of the tenant that an automatic retry may repeat (not the
  `outcome_unknown` ones, where the provider may have acted without an idempotency key), a bounded
  number of pages per request;
- `run_retry` (the queue job) re-runs the delivery with its original idempotency key and first
  attempt time. Success updates the outcome to `sent`, resolves the exception (desk and session
  copy) and drops the stored params. A retryable failure re-queues the message with a growing
  delay (INTEGRATION_RETRY_BASE_DELAY_SECONDS doubled per attempt, at least the provider's
  Retry-After, at most an hour) until INTEGRATION_RETRY_MAX_ATTEMPTS; then, or at once for a
  permanent failure, the message goes to `integration-retries-poison` and the exception stays open
  with the last error. Every attempt is an item of the activity log.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.exceptions import service as exceptions
from shared.integrations import activity, catalog, connectors
from shared.platform import clock, events
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, NotFound, ServiceError
from shared.platform.secrets import SecretUnreadable
from shared.platform.store.repository import Document

if TYPE_CHECKING:
    from shared.exceptions.models import RetryIntegrationBody
    from shared.integrations.dispatch import ActionResult
    from shared.integrations.models import RetryMessage
    from shared.platform.principal import Principal

logger = logging.getLogger("tellgence.integrations.deliveries")

# The session contract's outcome kinds; telephony (a call placed) is a notification there.
OUTCOME_KINDS = {
    "ehr": "ehr",
    "calendar": "calendar",
    "webhook": "webhook",
    "erp": "erp",
    "telephony": "notification",
    "crm": "crm",
}
INVALID_PARAMS = "invalid_params"
NOT_CONNECTED = "not_connected"
MAX_DELAY_SECONDS = 3600
RETRY_ALL_PAGE_SIZE = 100
RETRY_ALL_MAX_PAGES = 2
MAX_SUMMARY_CHARS = 300


def delivery_id(idempotency_key: str) -> str:
    """The id of a delivery's outcome and of its exception: stable per idempotency key."""
    return hashlib.sha256(f"delivery\n{idempotency_key}".encode()).hexdigest()[:32]


def backoff_seconds(attempt: int, *, base: int, retry_after: float | None = None) -> int:
    """The delay before the attempt after `attempt`: base doubled per attempt, at least Retry-After, at most an hour."""
    delay = base * 2 ** max(0, attempt - 1)
    if retry_after:
        delay = max(delay, int(retry_after + 0.999))
    return int(min(MAX_DELAY_SECONDS, delay))


@dataclass(frozen=True)
class Delivery:
    """A delivery's session outcome, and its open exception when it failed."""

    outcome: Document
    exception: Document | None


@dataclass(frozen=True)
class _Attempt:
    ok: bool
    summary: str
    error_class: str | None
    retryable: bool
    latency_ms: int
    response_code: int | None = None
    external_id: str | None = None
    retry_after: float | None = None


def _from_result(result: ActionResult) -> _Attempt:
    return _Attempt(
        ok=result.ok,
        summary=result.summary,
        error_class=result.error_class,
        retryable=result.retryable,
        latency_ms=result.latency_ms,
        response_code=result.response_code,
        external_id=result.external_id,
        retry_after=result.retry_after_seconds,
    )


def _attempt(
    tenant_id: str,
    session_id: str,
    connector: Document | None,
    kind: str,
    action_id: str,
    params: dict[str, Any],
    *,
    idempotency_key: str,
    source: str,
    first_sent_at: str,
    attempt: int | None = None,
) -> _Attempt:
    """Run the action once; what cannot even be sent (no connector, params the provider refuses) is a failure too."""
    provider_id = str((connector or {}).get("providerId") or kind)
    try:
        if connector is None:
            raise connectors.NotConfigured(f"No {kind} connector is connected for this practice")
        result = connectors.run_action(
            tenant_id,
            kind,
            action_id,
            params,
            idempotency_key=idempotency_key,
            source=source,
            session_id=session_id,
            first_sent_at=clock.parse_iso(first_sent_at),
            connector=connector,
            attempt=attempt,
        )
    except (BadRequest, NotFound, SecretUnreadable, ServiceError) as exc:
        if not isinstance(exc, BadRequest | NotFound | SecretUnreadable) and exc.code != "encryption_not_configured":
            raise  # the store or another dependency is down: the caller fails (a job is retried by the host)
        if isinstance(exc, connectors.NotConfigured):
            error_class = NOT_CONNECTED
        elif isinstance(exc, BadRequest | NotFound):
            error_class = INVALID_PARAMS
        else:
            error_class = "configuration"
        activity.record(
            tenant_id,
            provider_id=provider_id,
            action=action_id,
            source=source,
            ok=False,
            latency_ms=0,
            error_class=error_class,
            error_message=exc.message,
            idempotency_key=idempotency_key,
            session_id=session_id,
            connector_kind=kind,
            attempt=attempt,
        )
        return _Attempt(ok=False, summary=exc.message, error_class=error_class, retryable=False, latency_ms=0)
    return _from_result(result)


def deliver(
    tenant_id: str,
    session_id: str,
    connector: Document,
    action_id: str,
    params: dict[str, Any],
    *,
    idempotency_key: str,
    source: str,
    label: str,
    payload_preview: dict[str, Any],
    scenario_id: str | None = None,
) -> Delivery:
    """Deliver once through the connector; on failure store the open exception (the caller writes the session)."""
    kind = connector["id"]
    provider_id = str(connector.get("providerId") or kind)
    outcome_id = delivery_id(idempotency_key)
    started_at = clock.now_iso()
    result = _attempt(
        tenant_id,
        session_id,
        connector,
        kind,
        action_id,
        params,
        idempotency_key=idempotency_key,
        source=source,
        first_sent_at=started_at,
    )
    outcome: Document = {
        "id": outcome_id,
        "kind": OUTCOME_KINDS.get(kind, "record_system"),
        "providerId": provider_id,
        "action": label,
        "status": "sent" if result.ok else "failed",
        "summary": _summary(kind, result),
        "attemptedAt": started_at,
        "startedAt": started_at,
        "completedAt": clock.now_iso(),
        "retryCount": 0,
        "payloadPreview": payload_preview,
        "correlationId": session_id,
        "idempotencyKey": idempotency_key,
        "retryable": result.retryable,
    }
    if result.response_code is not None:
        outcome["responseCode"] = result.response_code
    if result.external_id:
        outcome["externalId"] = result.external_id
    if result.ok:
        return Delivery(outcome, None)
    outcome["errorMessage"] = result.summary
    logger.warning("delivery %s of session %s to %s failed: %s", label, session_id, provider_id, result.error_class)
    provider = catalog.providers().get(provider_id)
    doc = exceptions.build(
        tenant_id,
        session_id,
        category="connector",
        error_type="connector_unavailable",
        reason_group="connector",
        title=f"{(provider.name if provider else kind.upper())} delivery failed",
        message=outcome["summary"],
        connector_kind=kind,
        provider_id=provider_id,
        suggested_actions=("retry", "assign_escalate", "mark_resolved"),
        exception_id=outcome_id,
        now=outcome["completedAt"],
        scenario_id=scenario_id,
        delivery={
            "id": outcome_id,
            "kind": kind,
            "providerId": provider_id,
            "actionId": action_id,
            "params": params,
            "idempotencyKey": idempotency_key,
            "firstSentAt": started_at,
            "source": source,
            "label": label,
            "status": "failed",
            "attempts": 1,
            "lastAttemptAt": outcome["completedAt"],
            "errorClass": result.error_class or "unknown",
            "retryable": result.retryable,
        },
    )
    return Delivery(outcome, exceptions.store(doc))


def _summary(kind: str, result: _Attempt) -> str:
    if result.ok:
        return f"Sent to the {kind} connector in {result.latency_ms} ms"[:MAX_SUMMARY_CHARS]
    return f"Could not be sent to the {kind} connector: {result.summary}"[:MAX_SUMMARY_CHARS]


# --- retries -----------------------------------------------------------------------------------


def _enqueue(tenant_id: str, exception_id: str, attempt: int, *, requested_by: str | None, delay: int = 0) -> None:
    from shared.platform.store import queues
    from shared.platform.store.registry import INTEGRATION_RETRIES_QUEUE

    message = {
        "tenantId": tenant_id,
        "exceptionId": exception_id,
        "attempt": attempt,
        "queuedAt": clock.now_iso(),
        "correlationId": f"retry-{exception_id}-{attempt}",
    }
    if requested_by:
        message["requestedBy"] = requested_by
    queues.enqueue(INTEGRATION_RETRIES_QUEUE, message, delay_seconds=delay)


def retry_one(
    principal: Principal, session_id: str, body: RetryIntegrationBody, *, ip: str | None = None
) -> dict[str, Any]:
    """Queue one failed integration outcome of a session for a retry with its original idempotency key."""
    from shared.audit import service as audit
    from shared.sessions import aggregate

    tenant_id = principal.tenant_id
    session = aggregate.read_live(tenant_id, session_id)
    outcome = next(
        (
            o
            for o in session.get("integrationOutcomes") or []
            if isinstance(o, dict) and o.get("id") == body.integrationId
        ),
        None,
    )
    if outcome is None:
        raise NotFound("The session has no such integration", code="integration_not_found")
    if outcome.get("action") != body.action:
        raise BadRequest("The action does not match the integration's action", code="action_mismatch")
    if outcome.get("status") != "failed":
        raise BadRequest("The integration did not fail; there is nothing to retry", code="not_failed")
    doc = exceptions.exceptions.read(body.integrationId, tenant_id)
    delivery = (doc or {}).get("delivery")
    if not doc or not isinstance(delivery, dict):
        raise BadRequest("No delivery is stored for this integration", code="not_retryable")
    if doc["status"] != "open" or delivery.get("status") != "failed":
        raise BadRequest(f"The integration's exception was {doc['status']}; nothing to retry", code="not_retryable")
    _enqueue(tenant_id, doc["id"], 1, requested_by=principal.user_id)
    audit.record(
        principal,
        "integration.retry",
        target_type="integrationDelivery",
        target_id=doc["id"],
        tenant_id=tenant_id,
        changes={"retry": {"from": None, "to": "queued"}},
        ip=ip,
    )
    return {
        "deliveryId": doc["id"],
        "sessionId": session_id,
        "providerId": delivery.get("providerId"),
        "action": outcome.get("action"),
        "idempotencyKey": delivery.get("idempotencyKey"),
        "status": "queued",
    }


def retry_all(principal: Principal, *, ip: str | None = None) -> dict[str, Any]:
    """Queue every open failure of the tenant that is safe to repeat (bounded: a few pages per request)."""
    from shared.audit import service as audit

    tenant_id = principal.tenant_id
    queued = 0
    continuation: str | None = None
    for _ in range(RETRY_ALL_MAX_PAGES):
        page = exceptions.exceptions.open_deliveries(
            tenant_id, page_size=RETRY_ALL_PAGE_SIZE, continuation=continuation
        )
        for doc in page.items:
            _enqueue(tenant_id, doc["id"], 1, requested_by=principal.user_id)
            queued += 1
        continuation = page.continuation
        if not continuation:
            break
    if queued:
        audit.record(
            principal,
            "integration.retry_all",
            target_type="tenant",
            target_id=tenant_id,
            tenant_id=tenant_id,
            changes={"queued": {"from": 0, "to": queued}},
            ip=ip,
        )
    return success(queuedCount=queued)


def _outcome_update(delivery: Document, attempt: _Attempt, now: str) -> Any:
    def apply(session: Document) -> None:
        for outcome in session.get("integrationOutcomes") or []:
            if not isinstance(outcome, dict) or outcome.get("id") != delivery["id"]:
                continue
            outcome["retryCount"] = max(0, int(delivery.get("attempts", 1)) - 1)
            outcome["attemptedAt"] = now
            outcome["completedAt"] = now
            outcome["summary"] = _summary(delivery["kind"], attempt)
            outcome["retryable"] = attempt.retryable
            if attempt.response_code is not None:
                outcome["responseCode"] = attempt.response_code
            if attempt.ok:
                outcome["status"] = "sent"
                outcome.pop("errorMessage", None)
                if attempt.external_id:
                    outcome["externalId"] = attempt.external_id
            else:
                outcome["errorMessage"] = attempt.summary

    return apply


def run_retry(message: RetryMessage) -> str:
    """The integration-retries job: try one failed delivery again (see the module docstring for the rules)."""
    from shared.platform.jobs import GiveUp
    from shared.platform.settings import get_settings
    from shared.sessions import aggregate

    tenant_id = message.tenantId
    doc = exceptions.exceptions.read(message.exceptionId, tenant_id)
    delivery = (doc or {}).get("delivery")
    if doc is None or not isinstance(delivery, dict):
        raise NotFound("The delivery to retry no longer exists")
    if doc["status"] != "open" or delivery.get("status") != "failed":
        return f"skipped: the exception is {doc['status']} and the delivery {delivery.get('status')}"
    if delivery.get("lastAttemptAt", "") > message.queuedAt:
        return "skipped: another retry ran after this one was queued"
    settings = get_settings()
    kind = delivery["kind"]
    connector = connectors.live_connector(tenant_id, kind)
    attempt = _attempt(
        tenant_id,
        doc["sessionId"],
        connector,
        kind,
        delivery["actionId"],
        delivery.get("params") or {},
        idempotency_key=delivery["idempotencyKey"],
        source="retry",
        first_sent_at=delivery["firstSentAt"],
        attempt=message.attempt,
    )
    now = clock.now_iso()
    attempts = int(delivery.get("attempts", 1)) + 1
    last = message.attempt >= settings.integration_retry_max_attempts
    give_up = not attempt.ok and (not attempt.retryable or last)

    def settle(current: Document) -> None:
        stored = current.get("delivery") or {}
        stored.update(attempts=attempts, lastAttemptAt=now, retryable=attempt.retryable)
        current["updatedAt"] = now
        if attempt.ok:
            stored["status"] = "succeeded"
            stored.pop("params", None)
            stored.pop("errorClass", None)
            current.update(status="resolved", resolvedAt=now, resolvedBy="system:integration-retries")
            current["lastAction"] = "retry"
            current["resolutionNotes"] = f"Delivered on retry (attempt {attempts})"
        else:
            stored["errorClass"] = attempt.error_class or "unknown"
            detail = f"Retry {message.attempt} failed: {attempt.summary}"
            if give_up:
                detail += " Automatic retries stopped; the message is in integration-retries-poison."
            current["errorMessage"] = detail[: exceptions.MAX_MESSAGE_CHARS]
        current["delivery"] = stored

    preview = {**doc, "delivery": dict(delivery)}
    settle(preview)
    outcome_doc = {**delivery, "attempts": attempts}
    # The session first (outcome and exception copy): if the desk write fails, the job's retry repairs both.
    try:

        def apply(session: Document) -> None:
            _outcome_update(outcome_doc, attempt, now)(session)
            if preview.get("onSession"):
                exceptions.merge_copies(session, [preview])

        aggregate.update(tenant_id, doc["sessionId"], apply)
    except NotFound:
        logger.info("session %s is gone; the retry outcome is kept on the desk", doc["sessionId"])
    settled = exceptions.update(tenant_id, doc["id"], settle, loaded=doc)
    if attempt.ok:
        events.publish("exception.resolved", settled)
        return f"delivered on attempt {attempts}"
    if give_up:
        reason = "not retryable" if not attempt.retryable else f"{message.attempt} attempt(s) failed"
        raise GiveUp(f"delivery {doc['id']} gave up: {attempt.error_class} ({reason})")
    delay = backoff_seconds(
        message.attempt, base=settings.integration_retry_base_delay_seconds, retry_after=attempt.retry_after
    )
    _enqueue(tenant_id, doc["id"], message.attempt + 1, requested_by=message.requestedBy, delay=delay)
    return f"attempt {message.attempt} failed ({attempt.error_class}); next in {delay} s"
