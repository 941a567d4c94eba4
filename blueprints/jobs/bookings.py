"""Bookings: the reminder timer, reminder delivery and no-show recovery."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job, timer_job
from shared.platform.store.registry import BOOKING_RECOVERY_QUEUE, BOOKING_REMINDERS_QUEUE

bp = func.Blueprint()


@timer_job(bp, "0 */5 * * * *")
def enqueue_due_booking_reminders() -> str:
    """Every 5 minutes: queue the reminders that fell due."""
    from shared.bookings import service as bookings

    return f"{bookings.enqueue_due_reminders()} reminder(s) queued"


@queue_job(bp, BOOKING_REMINDERS_QUEUE, message="shared.bookings.models:ReminderMessage")
def send_booking_reminder(message) -> str:
    """Send one reminder; the outcome (sent, or failed with an exception) lands on the session."""
    from shared.bookings import service as bookings

    return bookings.deliver_reminder(message.sessionId, message.tenantId, message.dueAt)


@queue_job(bp, BOOKING_RECOVERY_QUEUE, message="shared.bookings.models:RecoveryMessage")
def recover_no_show_booking(message) -> str:
    """Offer a no-show a new time (a failed send is retried by the queue, then poisoned)."""
    from shared.bookings import service as bookings

    return bookings.recover_no_show(message.sessionId, message.tenantId)
