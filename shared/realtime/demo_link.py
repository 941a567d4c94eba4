"""The link from realtime runtime sessions to a demo session, and the latency they write onto it.

A demo session lists the runtime sessions linked to it (`realtimeSessionIds`, at most
MAX_LINKED_RUNTIME_SESSIONS: reconnects, a retry after a dropped call) so its document cannot grow without
limit. Each stats report of a linked runtime session is merged into the demo session's own mergeable latency
summary (`realtimeLatency`, shared.realtime.latency: quantiles within 1 %) together with the latest
server-counted interruptions of each runtime session (`realtimeInterruptions`), and shown as the contract's
`latencyMetrics` (latencyP50/P90/P99, userInterruptions) of `GET /api/sessions/{id}`, beside its token usage
and cost. Every write goes through the session aggregate's ETag-safe `update`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.platform.errors import BadRequest, NotFound
from shared.platform.store.repository import Document
from shared.realtime.latency import LatencySummary
from shared.sessions import aggregate

if TYPE_CHECKING:
    from shared.sessions.access import SessionGrant

MAX_LINKED_RUNTIME_SESSIONS = 16


def _full() -> BadRequest:
    return BadRequest(
        f"A demo session links at most {MAX_LINKED_RUNTIME_SESSIONS} realtime sessions",
        code="too_many_realtime_sessions",
    )


def check_room(grant: SessionGrant) -> None:
    """BadRequest when the demo session already links as many runtime sessions as it may."""
    if len(aggregate.load(grant).get("realtimeSessionIds") or []) >= MAX_LINKED_RUNTIME_SESSIONS:
        raise _full()


def link(grant: SessionGrant, runtime_session_id: str) -> None:
    """Record that a runtime session belongs to the demo session (one ETag write on the copy already read)."""

    def add(doc: Document) -> None:
        links = list(doc.get("realtimeSessionIds") or [])
        if runtime_session_id in links:
            return
        if len(links) >= MAX_LINKED_RUNTIME_SESSIONS:
            raise _full()
        doc["realtimeSessionIds"] = [*links, runtime_session_id]

    aggregate.update(grant.tenant_id, grant.session_id, add, loaded=aggregate.load(grant))


def record_latency(
    tenant_id: str, session_id: str, runtime_session_id: str, latency_ms: float | None, interruptions: int
) -> dict[str, Any]:
    """Merge one report of a linked runtime session into the demo session; returns its new latencyMetrics.

    NotFound when the demo session is gone, expired, or no longer lists the runtime session.
    """
    metrics: dict[str, Any] = {}

    def merge(doc: Document) -> None:
        if runtime_session_id not in (doc.get("realtimeSessionIds") or []):
            raise NotFound("Session not found")
        summary = LatencySummary.from_dict(doc.get("realtimeLatency"))
        if latency_ms is not None:
            summary = summary.add(latency_ms)
        counts = {**(doc.get("realtimeInterruptions") or {}), runtime_session_id: int(interruptions)}
        metrics.clear()
        metrics.update(latency_metrics(summary, sum(counts.values())))
        doc["realtimeLatency"] = summary.to_dict()
        doc["realtimeInterruptions"] = counts
        doc["latencyMetrics"] = dict(metrics)

    aggregate.update(tenant_id, session_id, merge)
    return metrics


def latency_metrics(summary: LatencySummary, interruptions: int) -> dict[str, Any]:
    """The contract's latencyMetrics from a latency summary and an interruption count (percentiles once known)."""
    metrics: dict[str, Any] = {"userInterruptions": interruptions}
    if summary.count:
        for name, q in (("latencyP50", 0.5), ("latencyP90", 0.9), ("latencyP99", 0.99)):
            metrics[name] = round(summary.quantile(q), 1)
    return metrics
