"""Persistence of the booking ledger (partition = sessionId) and reminders (partition = UTC due day)."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository


class BookingLedgerRepository(Repository):
    """Every booking transition of a session, one item each, never changed."""

    container_name = "booking_ledger"
    doc_type = "bookingLedgerEntry"

    def for_session(self, session_id: str) -> list[Document]:
        """A session's transitions in order."""
        return self.query(
            "SELECT * FROM c WHERE c.sessionId = @sessionId ORDER BY c.at ASC", {"sessionId": session_id}, session_id
        )


class ReminderRepository(Repository):
    """Reminders bucketed by the UTC day they fall due, so the timer reads one or two partitions."""

    container_name = "booking_reminders"
    doc_type = "bookingReminder"

    def due(self, day: str, now_iso: str, limit: int = 200) -> list[Document]:
        """Scheduled reminders of one day that are due by now."""
        return self.query(
            "SELECT * FROM c WHERE c.dueDay = @day AND c.status = 'scheduled' AND c.dueAt <= @now",
            {"day": day, "now": now_iso},
            day,
            limit=limit,
        )
