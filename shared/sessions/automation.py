"""Intake automation: send a finished healthcare intake to the tenant's EHR and webhook connectors.

A connector that fails never fails the finalize: it becomes a failed integration outcome and an
open booking exception for operators, with the idempotency key a retry will reuse.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from shared.integrations.repository import PracticeConnectorRepository
from shared.platform import clock
from shared.platform.errors import ServiceError
from shared.platform.outbound import check_destination, http_client, signed_headers
from shared.platform.store.repository import Document
from shared.sessions import aggregate

logger = logging.getLogger("tellgence.sessions.automation")

AUTOMATED_KINDS = ("ehr", "webhook")
CONNECTOR_TIMEOUT_SECONDS = 5.0
PATIENT_FIELDS = ("fullName", "dateOfBirth", "phone", "insuranceCarrier", "memberId", "reasonForVisit")

connectors = PracticeConnectorRepository()


def _configured(connector: Document | None) -> bool:
    return bool(connector and connector.get("baseUrl") and connector.get("status") != "disconnected")


def run_intake_automation(session: Document, extracted: dict[str, Any]) -> list[Document]:
    """Deliver the intake to each configured connector once; record every outcome on the session."""
    already_sent = {
        outcome.get("idempotencyKey")
        for outcome in session.get("integrationOutcomes", [])
        if outcome.get("status") == "sent"
    }
    outcomes, exceptions = [], []
    for kind in AUTOMATED_KINDS:
        connector = connectors.connector(session["tenantId"], kind)
        if not _configured(connector):
            continue
        key = f"intake:{session['id']}:{kind}"
        if key in already_sent:
            continue
        outcome = _deliver(session, extracted, kind, connector, key)
        outcomes.append(outcome)
        if outcome["status"] == "failed":
            exceptions.append(_connector_exception(session, kind, connector, outcome))
    if outcomes:
        keys = {outcome["idempotencyKey"] for outcome in outcomes}

        def apply(doc: Document) -> None:
            kept = [o for o in doc.get("integrationOutcomes", []) if o.get("idempotencyKey") not in keys]
            doc["integrationOutcomes"] = kept + outcomes
            doc["bookingExceptions"] = doc.get("bookingExceptions", []) + exceptions

        aggregate.update(session["tenantId"], session["id"], apply, loaded=session)
    return outcomes


def _deliver(session: Document, extracted: dict[str, Any], kind: str, connector: Document, key: str) -> Document:
    payload = {
        "event": "intake.completed",
        "sessionId": session["id"],
        "tenantId": session["tenantId"],
        "scenarioId": session["scenarioId"],
        "patient": {name: extracted[name] for name in PATIENT_FIELDS if name in extracted},
        "occurredAt": clock.now_iso(),
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    started_at = clock.now_iso()
    started = time.perf_counter()
    outcome: Document = {
        "id": uuid.uuid4().hex,
        "kind": "ehr" if kind == "ehr" else "webhook",
        "providerId": str(connector.get("provider") or kind),
        "action": "intake.completed",
        "attemptedAt": started_at,
        "startedAt": started_at,
        "retryCount": 0,
        "payloadPreview": {"event": payload["event"], "fields": sorted(payload["patient"])},
        "correlationId": session["id"],
        "idempotencyKey": key,
    }
    try:
        url = check_destination(str(connector["baseUrl"]))
        response = http_client().post(
            url,
            content=body,
            headers=signed_headers(str(connector.get("secret") or ""), body, key),
            timeout=CONNECTOR_TIMEOUT_SECONDS,
        )
        outcome["responseCode"] = response.status_code
        ok = 200 <= response.status_code < 300
        error = None if ok else f"HTTP {response.status_code}"
    except ServiceError as exc:
        ok, error = False, exc.message
    except Exception as exc:  # transport failures of any kind: the connector is unavailable
        ok, error = False, f"{type(exc).__name__}"
    outcome["completedAt"] = clock.now_iso()
    outcome["status"] = "sent" if ok else "failed"
    outcome["retryable"] = not ok
    outcome["summary"] = (
        f"Intake sent to {kind} in {round((time.perf_counter() - started) * 1000)} ms"
        if ok
        else f"Intake could not be sent to {kind}: {error}"
    )
    if error:
        outcome["errorMessage"] = error
        logger.warning("intake automation to %s failed for session %s: %s", kind, session["id"], error)
    return outcome


def _connector_exception(session: Document, kind: str, connector: Document, outcome: Document) -> Document:
    now = clock.now_iso()
    return {
        "id": uuid.uuid4().hex,
        "reasonCode": "connector_unavailable",
        "reasonGroup": "connector",
        "status": "open",
        "title": f"{kind.upper()} connector unavailable",
        "message": outcome["summary"],
        "sessionId": session["id"],
        "tenantId": session["tenantId"],
        "createdAt": now,
        "updatedAt": now,
        "connectorKind": kind,
        "connectorProviderId": outcome["providerId"],
        "suggestedActions": ["retry", "assign_escalate", "mark_resolved"],
    }
