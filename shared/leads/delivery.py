"""Handing lead emails to the `emails` queue without losing any: queue now, or park for the re-queue timer.

`queue_or_park` sends the rendered message to the queue. When the queue cannot be reached (the storage
account is down, throttling, not configured), the message is parked as an item of `pending_emails` in the
tenant's partition — keyed by its idempotency key, so parking the same email twice keeps one — and the
caller answers that the email was not queued (the contract's 202). `requeue_pending` is the timer's work:
it queues the oldest parked emails and deletes each once the queue took it; while the queue is still down
it stops at the first failure and leaves the rest for the next run.

If parking fails too (Cosmos is down), the error reaches the caller as a 503: the request may be retried,
and a retried lead submission merges into the stored lead and notifies again.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.email.models import EmailMessage
from shared.leads.repository import PendingEmailRepository, pending_email_id
from shared.platform import clock
from shared.platform.errors import ServiceUnavailable

logger = logging.getLogger("tellgence.leads")

REQUEUE_BATCH = 100

pending = PendingEmailRepository()


def _queue(message: EmailMessage) -> str | None:
    """The queue message id, or None when the queue could not take the message (the reason is logged)."""
    from azure.core.exceptions import AzureError

    from shared.email.service import enqueue_email

    try:
        # One attempt: a request must not wait out the storage SDK's backoff; the re-queue timer is the retry.
        return enqueue_email(message, retries=0)
    except (AzureError, ServiceUnavailable) as error:
        logger.warning("email %s not queued: %s", message.idempotency_key, type(error).__name__)
        return None


def queue_or_park(message: EmailMessage, *, tenant_id: str, kind: str, ref: str | None = None) -> bool:
    """Queue `message`; True when queued, False when it was parked for the re-queue timer instead."""
    if _queue(message) is not None:
        return True
    item: dict[str, Any] = {
        "id": pending_email_id(message.idempotency_key),
        "tenantId": tenant_id,
        "kind": kind,
        "message": message.model_dump(mode="json", exclude_none=True),
        "createdAt": clock.now_iso(),
    }
    if ref:
        item["ref"] = ref
    pending.upsert(item)
    logger.info("email %s parked for the re-queue timer", message.idempotency_key)
    return False


def requeue_pending(limit: int = REQUEUE_BATCH) -> dict[str, int]:
    """Queue up to `limit` parked emails, oldest first; each one queued is deleted. The timer's work."""
    queued = dropped = 0
    parked = pending.oldest(limit)
    for item in parked:
        try:
            message = EmailMessage.model_validate(item.get("message"))
        except ValueError:
            # Parked by this code from a valid message, so this is corruption: keep nothing that can never send.
            logger.error("pending email %s is not a valid message; dropped", item.get("id"))
            pending.delete(item["id"], item["tenantId"])
            dropped += 1
            continue
        if _queue(message) is None:
            break  # the queue is still unreachable: the rest waits for the next run
        pending.delete(item["id"], item["tenantId"])
        queued += 1
    return {"queued": queued, "dropped": dropped, "waiting": len(parked) - queued - dropped}
