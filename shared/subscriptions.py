"""Who hears which domain event: the one place where domains are wired to each other's facts.

`function_app` calls `connect()` once. Each line names a subscriber by reference, so nothing here is
imported until the event first happens.
"""

from __future__ import annotations

from shared.platform import events

SUBSCRIPTIONS: tuple[tuple[str, str], ...] = (
    ("session.started", "shared.metrics.service:on_session_started"),
    ("session.finalized", "shared.metrics.service:on_session_finalized"),
    ("session.finalized", "shared.integrations.intake:on_session_finalized"),
    ("session.finalized", "shared.evidence.service:on_session_finalized"),
    ("session.finalized", "shared.onboarding.service:on_session_finalized"),
    ("session.purging", "shared.evidence.service:on_session_purge"),
    ("session.purged", "shared.evidence.service:on_session_purge"),
    ("booking.confirmed", "shared.metrics.service:on_booking_confirmed"),
    ("lead.stored", "shared.metrics.service:on_lead_stored"),
    ("exception.opened", "shared.metrics.service:on_exception_changed"),
    ("exception.resolved", "shared.metrics.service:on_exception_changed"),
    ("realtime.stats", "shared.metrics.service:on_realtime_stats"),
    ("tool.executed", "shared.metrics.service:on_tool_executed"),
    ("exception.resolved", "shared.tools.service:on_exception_resolved"),
    ("pilot.moved", "shared.metrics.service:on_pilot_moved"),
    ("session.finalized", "shared.quality.service:on_session_finalized"),
    ("evidence.indexed", "shared.quality.service:on_evidence_indexed"),
)


def connect() -> None:
    """Subscribe every subscriber above (idempotent)."""
    for topic, reference in SUBSCRIPTIONS:
        events.subscribe(topic, reference)
