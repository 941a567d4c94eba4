"""Persistence of sessions (partition = tenantId), session handles and channel events (partition = sessionId).

Only `shared.sessions` imports this module: every other domain goes through `shared.sessions.aggregate`.
"""

from __future__ import annotations

from shared.platform.store.repository import CrossPartitionReader, Document, Repository


class SessionRepository(Repository):
    """One document per demo session; its id is the session id."""

    container_name = "sessions"
    doc_type = "session"

    def count_for_tenant(self, tenant_id: str, where: list[str], params: dict) -> int:
        """How many of a tenant's sessions match the filters."""
        clauses = " AND ".join(["c.tenantId = @tenantId", *where])
        rows = self.query(f"SELECT VALUE COUNT(1) FROM c WHERE {clauses}", {"tenantId": tenant_id, **params}, tenant_id)
        return int(rows[0]) if rows else 0

    def expired_artifacts(self, now: str, limit: int) -> list[Document]:
        """Sessions whose retention has run out and that were not purged yet (the purge timer only)."""
        return CrossPartitionReader(self).query(
            "SELECT * FROM c WHERE c.consentRetention.artifactExpiresAt <= @now AND NOT IS_DEFINED(c.purgedAt)",
            {"now": now},
            limit=limit,
        )

    def tenants_active_between(self, start: str, end: str) -> set[str]:
        """Tenants with a session created, finalized or first confirmed in [start, end) (the metrics timer only)."""
        rows = CrossPartitionReader(self).stream(
            "SELECT VALUE c.tenantId FROM c WHERE (c.createdAt >= @start AND c.createdAt < @end) "
            "OR (c.finalizedAt >= @start AND c.finalizedAt < @end) "
            "OR (c.bookingConfirmedAt >= @start AND c.bookingConfirmedAt < @end)",
            {"start": start, "end": end},
        )
        return {row for row in rows if isinstance(row, str)}


class SessionHandleRepository(Repository):
    """A session's handle (id = partition = sessionId): tenant, key hash, expiry and the live call state.

    It is what a caller that knows only a session id can read in one point read: the tenant the
    session document lives in, and the key hash that proves access to the call state.
    """

    container_name = "session_handles"
    doc_type = "sessionHandle"


class ChannelEventRepository(Repository):
    """Append-only telephony channel events, one item each (partition = sessionId)."""

    container_name = "channel_events"
    doc_type = "channelEvent"

    def for_session(self, session_id: str, limit: int = 500) -> list[Document]:
        """A session's events in the order they happened (time, then the provider's sequence number)."""
        events = self.query(
            "SELECT * FROM c WHERE c.sessionId = @sessionId ORDER BY c.timestamp ASC",
            {"sessionId": session_id},
            session_id,
            limit=limit,
        )
        # A composite index would be needed to order by two fields; one partition is small enough to sort here.
        return sorted(events, key=lambda event: (event.get("timestamp", ""), event.get("sequence", 0)))
