"""The metric events a session document stands for: what write time records and what reconciliation recounts.

One derivation serves both, so the live rollups and the recount from source data agree by construction:

- `session.started:<id>` at the session's `createdAt`, in its scenario;
- `session.finalized:<id>` at its `finalizedAt` (kept from the first finalize, so finalizing again is the same
  event): outcome = `classify_outcome(interactionSummary.disposition, beatsCompleted, totalBeats)`, duration =
  `duration` (seconds), cost = the token usage priced like GET /api/sessions/{id}/cost (the session's realtime
  deployment, else the configured one; `REALTIME_PRICE_TABLE`);
- `booking.requested:<id>` at `finalizedAt` when the finalized call produced a booking (a `bookingOutcome`);
- `booking.confirmed:<id>` at `bookingConfirmedAt`, the first confirmation (a reschedule confirmed again is the
  same booking, counted once).

The feed shows a scenario by its catalog title (`scenario_title`), else by its id.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from shared.metrics.models import MAX_COST_USD, MAX_DURATION_SECONDS, MAX_LATENCY_MS, MetricEvent, classify_outcome
from shared.platform.clock import parse_iso

Document = dict[str, Any]

# The session fields the derivation reads (reconciliation projects its session query to these).
SESSION_FIELDS = (
    "id",
    "tenantId",
    "scenarioId",
    "createdAt",
    "finalizedAt",
    "interactionSummary",
    "beatsCompleted",
    "totalBeats",
    "duration",
    "tokenUsage",
    "realtimeSnapshot",
    "bookingOutcome",
    "bookingConfirmedAt",
)


def _at(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return 0.0
    return float(value)


def _scenario(doc: Document) -> str | None:
    scenario = doc.get("scenarioId")
    return scenario if isinstance(scenario, str) and scenario else None


def _event(kind: str, key: str, doc: Document, moment: datetime, **fields: Any) -> MetricEvent:
    """The `kind` event keyed `<kind>:<key>`, in the tenant of the document it stands for."""
    return MetricEvent(id=f"{kind}:{key}", kind=kind, tenantId=doc["tenantId"], occurredAt=moment, **fields)


def _session_event(kind: str, doc: Document, moment: datetime, **fields: Any) -> MetricEvent:
    """A session's `kind` event: keyed by the session id, in its session and scenario."""
    return _event(kind, doc["id"], doc, moment, sessionId=doc["id"], scenarioId=_scenario(doc), **fields)


def session_started(doc: Document) -> list[MetricEvent]:
    """The session.started event of a stored session (none when it has no creation time)."""
    moment = _at(doc.get("createdAt"))
    if moment is None:
        return []
    return [_session_event("session.started", doc, moment)]


def session_cost_usd(doc: Document) -> float | None:
    """The session's estimated model cost (as its cost endpoint answers it), None when it cannot be priced."""
    from shared.platform.settings import get_settings
    from shared.results import cost

    usage = doc.get("tokenUsage")
    if not isinstance(usage, dict):
        return None
    settings = get_settings()
    deployment = (doc.get("realtimeSnapshot") or {}).get("realtimeDeployment") or (
        settings.azure_openai_deployment_realtime
    )
    try:
        estimate = cost.estimate(
            int(_number(usage.get("inputTokens"))),
            int(_number(usage.get("outputTokens"))),
            str(deployment),
            cost.price_table(settings.realtime_price_table),
        )
    except ValueError:
        return None
    value = estimate["estimatedCostUsd"]
    return value if 0 <= value <= MAX_COST_USD else None


def session_finalized(doc: Document) -> list[MetricEvent]:
    """The session.finalized event, and booking.requested when the call produced a booking."""
    moment = _at(doc.get("finalizedAt"))
    if moment is None:
        return []
    summary = doc.get("interactionSummary") if isinstance(doc.get("interactionSummary"), dict) else {}
    disposition = summary.get("disposition") if isinstance(summary.get("disposition"), str) else None
    events = [
        _session_event(
            "session.finalized",
            doc,
            moment,
            outcome=classify_outcome(disposition, _number(doc.get("beatsCompleted")), _number(doc.get("totalBeats"))),
            durationSeconds=min(_number(doc.get("duration")), MAX_DURATION_SECONDS),
            costUsd=session_cost_usd(doc),
        )
    ]
    if isinstance(doc.get("bookingOutcome"), dict):
        events.append(_session_event("booking.requested", doc, moment))
    return events


def booking_confirmed(doc: Document) -> list[MetricEvent]:
    """The booking.confirmed event of a session whose booking was ever confirmed."""
    moment = _at(doc.get("bookingConfirmedAt"))
    if moment is None:
        return []
    return [_session_event("booking.confirmed", doc, moment)]


def session_events(doc: Document) -> list[MetricEvent]:
    """Every event a stored session stands for (the recount's source)."""
    return [*session_started(doc), *session_finalized(doc), *booking_confirmed(doc)]


def scenario_title(scenario_id: str | None) -> str | None:
    """A scenario's catalog title (its id when the catalog does not know it)."""
    if not scenario_id:
        return None
    from shared.catalog import content

    entry = content.scenarios().get(scenario_id) or {}
    return str(entry.get("title") or scenario_id)[:200]


def lead_stored(before: Document | None, after: Document) -> list[MetricEvent]:
    """lead.created for a new lead; lead.updated when a write moved its status or tier (nothing otherwise)."""
    if before is None:
        moment = _at(after.get("createdAt"))
        if moment is None:
            return []
        return [
            _event(
                "lead.created",
                after["leadId"],
                after,
                moment,
                sessionId=after.get("sessionId") or None,
                scenarioId=_scenario(after),
                status=after.get("status"),
                tier=after.get("tier"),
            )
        ]
    moved = before.get("status") != after.get("status")
    retiered = before.get("tier") != after.get("tier")
    moment = _at(after.get("updatedAt"))
    if not (moved or retiered) or moment is None or not after.get("_etag"):
        return []
    etag = after["_etag"].strip('"')
    return [
        _event(
            "lead.updated",
            f"{after['leadId']}:{etag}",
            after,
            moment,
            scenarioId=_scenario(after),
            status=after.get("status") if moved else None,
            previousStatus=before.get("status") if moved else None,
            tier=after.get("tier") if retiered else None,
            previousTier=before.get("tier") if retiered else None,
        )
    ]


def exception_changed(doc: Document) -> list[MetricEvent]:
    """exception.opened for an open item; exception.resolved once it was resolved or ignored."""
    closed = doc.get("status") in ("resolved", "ignored")
    moment = _at(doc.get("resolvedAt") if closed else doc.get("createdAt"))
    if moment is None:
        return []
    kind = "exception.resolved" if closed else "exception.opened"
    return [
        _event(
            kind,
            doc["id"],
            doc,
            moment,
            sessionId=doc.get("sessionId") or None,
            scenarioId=_scenario(doc),
            reasonCode=doc.get("errorType") or None,
        )
    ]


def tool_executed(doc: Document) -> list[MetricEvent]:
    """tool.executed for a finished journal item (one id per execution, so a replay counts once)."""
    moment = _at(doc.get("finishedAt"))
    if moment is None or doc.get("status") not in ("succeeded", "failed", "denied", "rejected"):
        return []
    return [
        _event(
            "tool.executed",
            doc["id"],
            doc,
            moment,
            sessionId=doc.get("sessionId") or None,
            scenarioId=_scenario(doc),
            toolName=doc["toolName"],
            ok=doc.get("status") == "succeeded",
        )
    ]


def pilot_moved(before: Document | None, after: Document) -> list[MetricEvent]:
    """pilot.moved for a pilot's creation (no previous status) and for every later status change."""
    if before is not None and before.get("status") == after.get("status"):
        return []
    moment = _at(after.get("statusChangedAt") or after.get("updatedAt") or after.get("createdAt"))
    etag = str(after.get("_etag") or "").strip('"')
    if moment is None or not etag:
        return []
    return [
        _event(
            "pilot.moved",
            f"{after['pilotId']}:{etag}",
            after,
            moment,
            status=after.get("status"),
            previousStatus=before.get("status") if before is not None else None,
        )
    ]


def latency_samples(runtime_session: Document, samples: list[float], first_index: int) -> list[MetricEvent]:
    """realtime.latency events of one stats report, numbered from `first_index` (a resent report repeats ids)."""
    from datetime import UTC

    moment = datetime.fromtimestamp(int(runtime_session.get("updatedAt") or 0) / 1000, UTC)
    link = runtime_session.get("link") or {}
    return [
        _event(
            "realtime.latency",
            f"{runtime_session['id']}:{first_index + offset}",
            runtime_session,
            moment,
            sessionId=link.get("sessionId") or runtime_session["id"],
            scenarioId=_scenario(runtime_session) or _scenario(link),
            latencyMs=min(float(sample), MAX_LATENCY_MS),
        )
        for offset, sample in enumerate(samples)
        if isinstance(sample, int | float) and not isinstance(sample, bool) and math.isfinite(sample) and sample >= 0
    ]
