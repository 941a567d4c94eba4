"""Finalize: store the completed call, enforce consent retention, compute results, run intake automation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.catalog import content
from shared.catalog.service import scenario_or_400
from shared.platform import clock, events
from shared.platform.envelope import success
from shared.platform.errors import BadRequest
from shared.platform.principal import Principal
from shared.platform.store.repository import Document
from shared.results.session import compute as compute_results
from shared.sessions import aggregate
from shared.sessions.access import SessionGrant
from shared.sessions.service import new_session, resolve_tenant

if TYPE_CHECKING:
    from shared.sessions.models import FinalizeBody

INTAKE_SCENARIO_PREFIX = "healthcare-intake"
INTAKE_WORKFLOW_ID = "hc_patient_intake"
CONSENT_FIELD = "consentToTreat"
GRANTED = {"granted", "yes", "true", "y", "accepted"}
DENIED = {"denied", "no", "false", "n", "declined"}
NO_RECORDING = {"none", "revoked"}
RETENTION_DAYS = {"granted_healthcare": 365, "granted": 180, "unknown": 90, "denied": 30, "none": 0}


def is_healthcare_intake(scenario: dict[str, Any]) -> bool:
    """Intake scenarios of the healthcare vertical (they validate and automate)."""
    return scenario["industry"] == "healthcare" and scenario["slug"].startswith(INTAKE_SCENARIO_PREFIX)


def required_intake_fields() -> list[str]:
    """Demographic, insurance and consent fields an intake must capture (the workflow's, plus consent)."""
    return [*content.workflows()[INTAKE_WORKFLOW_ID]["requiredFields"], CONSENT_FIELD]


def missing_intake_fields(extracted: dict[str, Any]) -> list[str]:
    """Required intake fields that are absent or blank."""
    missing = []
    for name in required_intake_fields():
        value = extracted.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(name)
    return missing


def consent_status(extracted: dict[str, Any]) -> str:
    """granted, denied or unknown, from the captured consent answer."""
    value = extracted.get(CONSENT_FIELD, extracted.get("consent"))
    text = str(value).strip().lower() if value is not None else ""
    if text in GRANTED:
        return "granted"
    if text in DENIED:
        return "denied"
    return "unknown"


def consent_retention(scenario: dict[str, Any], extracted: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What may be kept and for how long: full, metadata_only (no transcript) or none."""
    status = consent_status(extracted)
    recording = str(extracted.get("recordingConsent", "")).strip().lower()
    if recording in NO_RECORDING:
        retention, days, reason = "none", RETENTION_DAYS["none"], "caller refused recording"
    elif status == "denied":
        retention, days, reason = "metadata_only", RETENTION_DAYS["denied"], "consent denied: transcript not kept"
    elif status == "granted":
        key = "granted_healthcare" if scenario["industry"] == "healthcare" else "granted"
        retention, days, reason = "full", RETENTION_DAYS[key], "consent granted"
    else:
        retention, days, reason = "full", RETENTION_DAYS["unknown"], "no consent captured: default demo retention"
    return {
        "consentStatus": status,
        "consentSource": "extracted_data" if status != "unknown" else "default_policy",
        "transcriptRetention": retention,
        "artifactRetentionDays": days,
        "artifactExpiresAt": clock.iso(now + timedelta(days=days)),
        "retentionReason": reason,
        "enforcedAt": clock.iso(now),
        "redacted": retention != "full",
    }


def initial_booking_outcome(booking: dict[str, Any] | None, now: str) -> dict[str, Any] | None:
    """The booking outcome a finalized call starts with: a requested booking with a time is a selected slot."""
    if not booking or not booking.get("requested"):
        return None
    outcome: dict[str, Any] = {"status": "slot_selected" if booking.get("scheduledFor") else "captured"}
    if booking.get("scheduledFor"):
        outcome["scheduledFor"] = booking["scheduledFor"]
    if booking.get("referenceId"):
        outcome["confirmationCode"] = booking["referenceId"]
    outcome["updatedAt"] = now
    return outcome


def normalise_transcript(turns: list[Any]) -> list[dict[str, Any]]:
    """Turns as {role, text, timestamp}; a turn without role or text is a bad request."""
    normalised = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or not isinstance(turn.get("role"), str) or not isinstance(turn.get("text"), str):
            raise BadRequest(f"transcript[{index}] needs a string role and text", code="validation_error")
        timestamp = turn.get("timestamp", index)
        normalised.append(
            {
                "role": turn["role"][:40],
                "text": turn["text"][:8000],
                "timestamp": timestamp if isinstance(timestamp, int | float) else index,
            }
        )
    return normalised


def normalise_timeline(events: list[Any], *, default_timestamp: str) -> list[dict[str, Any]]:
    """Timeline events in the contract's shape; an event without a type or title is a bad request."""
    normalised = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not event.get("type") or not event.get("title"):
            raise BadRequest(f"timelineEvents[{index}] needs a type and a title", code="validation_error")
        normalised.append(
            {
                "id": str(event.get("id") or f"evt-{index + 1}")[:80],
                "type": str(event["type"])[:80],
                "title": str(event["title"])[:300],
                "description": str(event.get("description") or "")[:2000],
                "system": str(event.get("system") or "")[:80],
                "timestamp": str(event.get("timestamp") or default_timestamp)[:40],
            }
        )
    return normalised


def _finalized_fields(body: FinalizeBody, scenario: dict[str, Any], doc: Document) -> Document:
    """Everything finalize writes, computed from the request and the stored document only.

    Instants come from the stored finalize time when the session was finalized before (else now), so
    finalizing again — or twice at once — with the same input stores and answers the same bytes.
    """
    finalized_at = doc.get("finalizedAt") or clock.now_iso()
    moment = clock.parse_iso(finalized_at)
    transcript = normalise_transcript(body.transcript)
    timeline = normalise_timeline(body.timelineEvents, default_timestamp=finalized_at)
    extracted = dict(body.extractedData)
    retention = consent_retention(scenario, extracted, moment)
    # Tools the server ran for this session (the tool journal adds them as they succeed) stay used.
    ran = [tool for tool in doc.get("toolsUsed") or [] if isinstance(tool, str) and tool]
    tools = list(dict.fromkeys([*ran, *(tool[:80] for tool in body.toolsUsed if tool)]))
    usage = {
        "inputTokens": int(body.totalInputTokens),
        "outputTokens": int(body.totalOutputTokens),
        "totalTokens": int(body.totalInputTokens) + int(body.totalOutputTokens),
    }
    fields: Document = {
        "transcript": transcript if retention["transcriptRetention"] == "full" else [],
        "timelineEvents": timeline,
        "toolsUsed": tools,
        "beatsCompleted": body.beatsCompleted,
        "totalBeats": body.totalBeats or doc.get("totalBeats", 0),
        "extractedData": extracted if retention["transcriptRetention"] != "none" else {},
        "duration": body.duration,
        "tokenUsage": usage,
        "consentRetention": retention,
        "status": "finalized",
        "finalizedAt": finalized_at,
    }
    if body.interactionSummary is not None:
        fields["interactionSummary"] = body.interactionSummary.model_dump(exclude_none=True)
        if not doc.get("bookingOutcome"):
            outcome = initial_booking_outcome(fields["interactionSummary"].get("booking"), finalized_at)
            if outcome:
                fields["bookingOutcome"] = outcome
    if body.scenarioTitle:
        fields["scenarioTitle"] = body.scenarioTitle
    if body.companyName:
        fields["companyName"] = body.companyName
    # Scoring sees the whole call even when the transcript itself may not be kept.
    results = compute_results({**doc, **fields, "transcript": transcript, "extractedData": extracted}, scenario)
    fields.update(results=results, leadScore=results["leadScore"]["score"], leadTier=results["leadScore"]["tier"])
    fields["ttl"] = max(int(doc.get("ttl", 0)), retention["artifactRetentionDays"] * 86400, 3600)
    return fields


def finalize(
    body: FinalizeBody,
    *,
    grant: SessionGrant | None,
    principal: Principal | None,
    presented_key: str | None,
    origin: str | None,
) -> dict[str, Any]:
    """Store the call and answer the server's results; finalizing again with the same input changes nothing."""
    scenario = scenario_or_400(body.scenarioId)
    extracted = dict(body.extractedData)
    if is_healthcare_intake(scenario):
        missing = missing_intake_fields(extracted)
        if missing:
            raise BadRequest(
                "Missing required intake fields: " + ", ".join(missing),
                code="missing_intake_fields",
                fields={"domainModuleId": "healthcare_intake", "details": missing},
            )
    if grant is not None:
        loaded = aggregate.load(grant)
        if loaded["scenarioId"] != scenario["slug"]:
            raise BadRequest("The session belongs to another scenario", code="scenario_mismatch")
        stored = aggregate.update(
            grant.tenant_id,
            grant.session_id,
            lambda current: current.update(_finalized_fields(body, scenario, current)),
            loaded=loaded,
        )
        key = presented_key or ""
    else:
        tenant_id = resolve_tenant(principal, body.tenantId, origin)
        doc, handle, key = new_session(
            scenario, tenant_id, title=body.scenarioTitle, company=body.companyName, locale=None
        )
        doc.update(_finalized_fields(body, scenario, doc))
        stored = aggregate.create(doc, handle)
    # Metrics, the evidence index and intake delivery to the practice's systems follow (shared/subscriptions.py).
    events.publish("session.finalized", stored, extracted, grant is None)
    results = stored["results"]
    return success(
        sessionId=stored["id"],
        accessKey=key,
        leadScore=results["leadScore"]["score"],
        leadTier=results["leadScore"]["tier"],
        results=results,
    )
