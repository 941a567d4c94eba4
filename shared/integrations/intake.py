"""Intake automation: send a finished healthcare intake to the tenant's EHR and webhook connectors.

Each connected connector gets one delivery through the integrations dispatch, keyed
`intake:<session>:<kind>`: the EHR a Patient (FHIR conditional create, or the demo EHR's record),
the webhook a signed `intake.completed` event. A delivery already on the session (sent or failed) is
not repeated by finalizing again; a failed one is retried from the exceptions desk. A connector that
fails never fails the finalize: it becomes a failed, retryable integration outcome and an open
`connector_unavailable` exception, written with the outcomes in one session update. Finalize announces
`session.finalized`; this module hears it (shared/subscriptions.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.platform.store.repository import Document
from shared.sessions import aggregate

AUTOMATED_KINDS = ("ehr", "webhook")
INTAKE_EVENT = "intake.completed"
PATIENT_FIELDS = ("fullName", "dateOfBirth", "phone", "insuranceCarrier", "memberId", "reasonForVisit")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d")


def birth_date(value: Any) -> str | None:
    """A spoken or typed date of birth as YYYY-MM-DD (ISO, US month/day/year or year/month/day), else None."""
    text = str(value or "").strip()
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def intake_request(kind: str, session: Document, extracted: dict[str, Any]) -> tuple[str, dict[str, Any], Document]:
    """The action, its params and the payload preview of one intake delivery to a connector of `kind`."""
    patient = {name: extracted[name] for name in PATIENT_FIELDS if name in extracted}
    preview = {"event": INTAKE_EVENT, "fields": sorted(patient)}
    if kind == "ehr":
        params: dict[str, Any] = {"fullName": str(extracted.get("fullName") or "").strip()}
        born = birth_date(extracted.get("dateOfBirth"))
        # An unreadable date stays as given: the action's schema refuses it and names the field.
        params["birthDate"] = born or str(extracted.get("dateOfBirth") or "")
        if extracted.get("phone"):
            params["phone"] = str(extracted["phone"]).strip()
        if extracted.get("email"):
            params["email"] = str(extracted["email"]).strip()
        return "create_patient", params, preview
    data = {
        "sessionId": session["id"],
        "tenantId": session["tenantId"],
        "scenarioId": session["scenarioId"],
        "patient": patient,
    }
    return "send_event", {"event": INTAKE_EVENT, "data": data}, preview


def on_session_finalized(session: Document, extracted: dict[str, Any], created: bool) -> None:
    """Subscriber of `session.finalized`: a finished healthcare intake goes to the practice's connectors."""
    from shared.catalog.service import scenario_or_400
    from shared.sessions.finalize import is_healthcare_intake

    if is_healthcare_intake(scenario_or_400(session["scenarioId"])):
        run_intake_automation(session, extracted)


def run_intake_automation(session: Document, extracted: dict[str, Any]) -> list[Document]:
    """Deliver the intake to each connected EHR / webhook connector once; record every outcome on the session."""
    from shared.exceptions import service as exceptions
    from shared.integrations import connectors, deliveries

    recorded = {outcome.get("idempotencyKey") for outcome in session.get("integrationOutcomes") or []}
    live = connectors.live_connectors(session["tenantId"])
    results = []
    for kind in AUTOMATED_KINDS:
        connector = live.get(kind)
        key = f"intake:{session['id']}:{kind}"
        if connector is None or key in recorded:
            continue
        action_id, params, preview = intake_request(kind, session, extracted)
        results.append(
            deliveries.deliver(
                session["tenantId"],
                session["id"],
                connector,
                action_id,
                params,
                idempotency_key=key,
                source="intake",
                label=INTAKE_EVENT,
                payload_preview=preview,
                scenario_id=session["scenarioId"],
            )
        )
    outcomes = [result.outcome for result in results]
    if outcomes:
        keys = {outcome["idempotencyKey"] for outcome in outcomes}
        opened = [result.exception for result in results if result.exception is not None]

        def apply(doc: Document) -> None:
            kept = [o for o in doc.get("integrationOutcomes") or [] if o.get("idempotencyKey") not in keys]
            doc["integrationOutcomes"] = kept + outcomes
            exceptions.merge_copies(doc, opened)

        aggregate.update(session["tenantId"], session["id"], apply, loaded=session)
    return outcomes
