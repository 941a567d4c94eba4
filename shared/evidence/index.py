"""The evidence index row of a session (the control plane's evidence list), computed from stored data only.

One row per session, in the contract's shape (`cpGetEvidencePack`):

* outcome — the first that applies: `unknown` (not finalized), `exception_open` (an open booking exception, or
  the booking in status `exception`), `human_handoff` (an escalation or a live transfer was requested, or the
  disposition is `escalated`), `booking_confirmed` (booking status `confirmed`), `booking_requested` (a booking
  in progress, or requested by the call), else `completed`;
* status — `draft` until finalized; `flagged` when something needs a person: an open exception, a failed
  integration delivery, a failed tool execution, or knowledge ingestion that failed or is partial; else
  `complete`;
* summaryLine — scenario, outcome, duration, lead tier and score, systems updated, and why it is flagged;
  no personal data (no names, numbers or transcript), since the list is read by every operator;
* ingestionSummary — the knowledge the call drew on. A knowledge lookup is a tool execution of a tool whose
  registry category is `knowledge` (e.g. `search_knowledge_base`) or an integration outcome of kind
  `knowledge_source`. Each lookup is one chunk: indexed when it succeeded, failed when it failed (retryable
  when its record says so), processing while pending. Its source is the searched `collection` (inputs) or the
  provider, else the tool's name. Citations are the items of a lookup's `citations` (outputs or payload
  preview), each counted under its own `source` (or `collection`, else the lookup's source).
  ingestionStatus: not_started (no lookup), processing (one pending), failed (all failed), partial (some
  failed), complete; healthStatus: unknown, degraded, unhealthy, degraded, healthy respectively.

The row is a pure function of the session, its tool executions and the previous row (for `createdAt` and the
instants of parts that did not change), so recomputing it from unchanged sources changes nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from shared.evidence.bundle import is_finalized

INDEX_FIELDS = (
    "evidenceIndexId",
    "tenantId",
    "sessionId",
    "scenarioId",
    "outcome",
    "status",
    "summaryLine",
    "ingestionSummary",
    "createdAt",
    "updatedAt",
)
# What decides whether a row changed (the instants follow from it).
CONTENT_FIELDS = ("tenantId", "sessionId", "scenarioId", "outcome", "status", "summaryLine", "flags", "ttl")
INGESTION_CONTENT_FIELDS = (
    "ingestionStatus",
    "healthStatus",
    "sourceCount",
    "indexedChunkCount",
    "failedChunkCount",
    "retryableChunkCount",
    "citationCount",
    "citationsBySource",
    "summary",
)
KNOWLEDGE_CATEGORY = "knowledge"
KNOWLEDGE_OUTCOME_KIND = "knowledge_source"
BOOKING_IN_PROGRESS = frozenset(
    {
        "captured",
        "awaiting_qualification",
        "availability_found",
        "slot_selected",
        "pending_approval",
        "reschedule_requested",
        "no_show_followup",
    }
)
OUTCOME_PHRASES = {
    "unknown": "not finalized yet",
    "exception_open": "exception open",
    "human_handoff": "handed off to a person",
    "booking_confirmed": "booking confirmed",
    "booking_requested": "booking requested",
    "completed": "completed",
}
HEALTH_BY_STATUS = {
    "not_started": "unknown",
    "processing": "degraded",
    "failed": "unhealthy",
    "partial": "degraded",
    "complete": "healthy",
}
MAX_SUMMARY_CHARS = 400
MAX_SOURCE_CHARS = 120


def evidence_index_id(session_id: str) -> str:
    """The row's evidenceIndexId."""
    return f"evidence:{session_id}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _event_type(value: Any) -> str:
    return re.sub(r"[\s-]+", "_", _text(value).strip().lower())


def open_exceptions(session: Mapping[str, Any]) -> int:
    """How many of the session's booking exceptions are open."""
    return sum(
        1
        for item in session.get("bookingExceptions") or []
        if isinstance(item, Mapping) and item.get("status") == "open"
    )


def _handoff_requested(session: Mapping[str, Any]) -> bool:
    summary = _mapping(session.get("interactionSummary"))
    escalation, telephony = _mapping(summary.get("escalation")), _mapping(summary.get("telephony"))
    return (
        escalation.get("requested") is True
        or (telephony.get("requested") is True and telephony.get("mode") == "live_transfer")
        or summary.get("disposition") == "escalated"
    )


def outcome(session: Mapping[str, Any]) -> str:
    """The session's outcome (the contract's enum), by the rules in the module docstring."""
    if not is_finalized(session):
        return "unknown"
    booking_status = _mapping(session.get("bookingOutcome")).get("status")
    if open_exceptions(session) or booking_status == "exception":
        return "exception_open"
    if _handoff_requested(session):
        return "human_handoff"
    if booking_status == "confirmed":
        return "booking_confirmed"
    requested = _mapping(_mapping(session.get("interactionSummary")).get("booking")).get("requested") is True
    if booking_status in BOOKING_IN_PROGRESS or (requested and booking_status != "cancelled"):
        return "booking_requested"
    return "completed"


def _bounded(text: str) -> str:
    return text.strip()[:MAX_SOURCE_CHARS] or "unknown"


def _lookups(
    session: Mapping[str, Any], tool_executions: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str, bool, list[Any]]]:
    """(source, status, retryable, citations) of every knowledge lookup, executions first."""
    from shared.catalog import content

    registry = content.tools()
    lookups = []
    for execution in tool_executions:
        tool = _text(execution.get("tool"))
        if _mapping(registry.get(tool)).get("category") != KNOWLEDGE_CATEGORY:
            continue
        inputs, outputs = _mapping(execution.get("inputsPreview")), _mapping(execution.get("outputsPreview"))
        source = _text(inputs.get("collection")) or tool
        citations = outputs.get("citations")
        lookups.append(
            (
                _bounded(source),
                _text(execution.get("status")),
                execution.get("retryable") is True,
                citations if isinstance(citations, list) else [],
            )
        )
    for item in session.get("integrationOutcomes") or []:
        if not isinstance(item, Mapping) or item.get("kind") != KNOWLEDGE_OUTCOME_KIND:
            continue
        citations = _mapping(item.get("payloadPreview")).get("citations")
        status = {"sent": "success", "failed": "failed"}.get(_text(item.get("status")), "pending")
        lookups.append(
            (
                _bounded(_text(item.get("providerId")) or KNOWLEDGE_OUTCOME_KIND),
                status,
                item.get("retryable") is True,
                citations if isinstance(citations, list) else [],
            )
        )
    return lookups


def _citation_source(citation: Any, fallback: str) -> str:
    if isinstance(citation, Mapping):
        named = _text(citation.get("source")) or _text(citation.get("collection"))
        if named:
            return _bounded(named)
    return fallback


def ingestion_summary(
    session: Mapping[str, Any], tool_executions: Sequence[Mapping[str, Any]], *, updated_at: str
) -> dict[str, Any]:
    """The contract's ingestionSummary of the session's knowledge lookups and citations."""
    lookups = _lookups(session, tool_executions)
    sources = {source for source, _, _, _ in lookups}
    indexed = sum(1 for _, status, _, _ in lookups if status == "success")
    failed = sum(1 for _, status, _, _ in lookups if status == "failed")
    retryable = sum(1 for _, status, again, _ in lookups if status == "failed" and again)
    pending = len(lookups) - indexed - failed
    by_source: Counter[str] = Counter()
    for source, _, _, citations in lookups:
        for citation in citations:
            by_source[_citation_source(citation, source)] += 1
    if not lookups:
        status = "not_started"
    elif pending:
        status = "processing"
    elif failed == len(lookups):
        status = "failed"
    elif failed:
        status = "partial"
    else:
        status = "complete"
    citation_count = sum(by_source.values())
    if lookups:
        summary = (
            f"{len(lookups)} knowledge lookup(s) across {len(sources)} source(s): {indexed} succeeded, "
            f"{failed} failed ({retryable} retryable), {pending} pending; {citation_count} citation(s)"
        )
    else:
        summary = "No knowledge source was consulted"
    return {
        "ingestionStatus": status,
        "healthStatus": HEALTH_BY_STATUS[status],
        "sourceCount": len(sources),
        "indexedChunkCount": indexed,
        "failedChunkCount": failed,
        "retryableChunkCount": retryable,
        "citationCount": citation_count,
        "citationsBySource": [
            {"source": source, "count": count}
            for source, count in sorted(by_source.items(), key=lambda item: (-item[1], item[0]))
        ],
        "summary": summary,
        "updatedAt": updated_at,
    }


def flags(
    session: Mapping[str, Any], tool_executions: Sequence[Mapping[str, Any]], ingestion: Mapping[str, Any]
) -> list[str]:
    """Why the row is flagged (empty when it is not), each as a short phrase."""
    reasons = []
    exceptions = open_exceptions(session)
    if exceptions or _mapping(session.get("bookingOutcome")).get("status") == "exception":
        reasons.append(f"{max(exceptions, 1)} open exception(s)")
    failed_deliveries = sum(
        1
        for item in session.get("integrationOutcomes") or []
        if isinstance(item, Mapping) and item.get("status") == "failed"
    )
    if failed_deliveries:
        reasons.append(f"{failed_deliveries} failed integration delivery(ies)")
    failed_tools = sum(1 for execution in tool_executions if execution.get("status") == "failed")
    if failed_tools:
        reasons.append(f"{failed_tools} failed tool call(s)")
    if ingestion["ingestionStatus"] in ("failed", "partial"):
        reasons.append(f"knowledge ingestion {ingestion['ingestionStatus']}")
    return reasons


def _duration(seconds: Any) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds < 10**7:
        return "duration unknown"
    total = round(seconds)
    return f"{total // 60} min {total % 60:02d} s"


def summary_line(session: Mapping[str, Any], outcome_value: str, reasons: Sequence[str]) -> str:
    """One line for the evidence list: scenario, outcome, duration, lead, systems updated, flags."""
    title = _text(session.get("scenarioTitle") or session.get("scenarioId")).strip() or "Session"
    parts = [f"{title}: {OUTCOME_PHRASES[outcome_value]}"]
    if is_finalized(session):
        parts.append(_duration(session.get("duration")))
        results = _mapping(session.get("results"))
        lead = _mapping(results.get("leadScore"))
        if lead.get("tier"):
            parts.append(f"{_text(lead['tier'])} lead ({_text(lead.get('score'))})")
        systems = [item for item in results.get("systemsUpdated") or [] if isinstance(item, Mapping)]
        parts.append(f"{len(systems)} system(s) updated")
    if reasons:
        parts.append("flagged: " + ", ".join(reasons))
    return " · ".join(parts)[:MAX_SUMMARY_CHARS]


def compute_row(
    session: Mapping[str, Any],
    *,
    tool_executions: Sequence[Mapping[str, Any]],
    previous: Mapping[str, Any] | None,
    now: str,
) -> dict[str, Any]:
    """The index row of a session (a stored document); unchanged sources keep the previous row's instants."""
    previous = previous or {}
    previous_ingestion = _mapping(previous.get("ingestionSummary"))
    ingestion = ingestion_summary(session, tool_executions, updated_at=now)
    if all(previous_ingestion.get(name) == ingestion[name] for name in INGESTION_CONTENT_FIELDS):
        ingestion["updatedAt"] = _text(previous_ingestion.get("updatedAt")) or now
    outcome_value = outcome(session)
    reasons = flags(session, tool_executions, ingestion)
    status = "draft" if not is_finalized(session) else "flagged" if reasons else "complete"
    session_id = _text(session["id"])
    row: dict[str, Any] = {
        "id": session_id,
        "evidenceIndexId": evidence_index_id(session_id),
        "tenantId": _text(session["tenantId"]),
        "sessionId": session_id,
        "scenarioId": _text(session.get("scenarioId")),
        "outcome": outcome_value,
        "status": status,
        "summaryLine": summary_line(session, outcome_value, reasons),
        "flags": reasons,
        "ingestionSummary": ingestion,
        "createdAt": _text(previous.get("createdAt")) or now,
        "updatedAt": now,
    }
    # The row lives as long as its session (retention), never longer.
    ttl = session.get("ttl")
    if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl > 0:
        row["ttl"] = ttl
    if previous and not changed(previous, row):
        row["updatedAt"] = _text(previous.get("updatedAt")) or now
    return row


def changed(previous: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    """Whether a recomputed row differs from the stored one in anything but its instants."""
    if any(previous.get(name) != row.get(name) for name in CONTENT_FIELDS):
        return True
    before, after = _mapping(previous.get("ingestionSummary")), _mapping(row.get("ingestionSummary"))
    return any(before.get(name) != after.get(name) for name in INGESTION_CONTENT_FIELDS)


def view(row: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's evidence-pack index item of a stored row."""
    return {name: row[name] for name in INDEX_FIELDS if name in row}
