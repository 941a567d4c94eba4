"""Bookings: the reminder timer, reminder delivery and no-show recovery."""

from __future__ import annotations

import json
import logging

import azure.functions as func

from shared.platform import telemetry
from shared.platform.store.registry import BOOKING_RECOVERY_QUEUE, BOOKING_REMINDERS_QUEUE

bp = func.Blueprint()
logger = logging.getLogger("tellgence.jobs.bookings")


@bp.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=False, use_monitor=True)
@telemetry.traced_job
def enqueue_due_booking_reminders(timer: func.TimerRequest) -> None:
    """Every 5 minutes: queue the reminders that fell due."""
    from shared.bookings import service as bookings

    queued = bookings.enqueue_due_reminders()
    if queued:
        logger.info("queued %d booking reminder(s)", queued)


@bp.queue_trigger(arg_name="msg", queue_name=BOOKING_REMINDERS_QUEUE, connection="AzureWebJobsStorage")
@telemetry.traced_job
def send_booking_reminder(msg: func.QueueMessage) -> None:
    """Send one reminder; the outcome (sent, or failed with an exception) lands on the session."""
    from shared.bookings import service as bookings

    payload = json.loads(msg.get_body())
    bookings.deliver_reminder(payload["sessionId"], payload["tenantId"], payload.get("dueAt"))


@bp.queue_trigger(arg_name="msg", queue_name=BOOKING_RECOVERY_QUEUE, connection="AzureWebJobsStorage")
@telemetry.traced_job
def recover_no_show_booking(msg: func.QueueMessage) -> None:
    """Offer a no-show a new time (a failed send is retried by the queue, then poisoned)."""
    from shared.bookings import service as bookings

    payload = json.loads(msg.get_body())
    bookings.recover_no_show(payload["sessionId"], payload["tenantId"])
