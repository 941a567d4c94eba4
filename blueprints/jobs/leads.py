"""The lead emails' safety net: a timer that queues the emails parked while the queue was unreachable."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import timer_job

bp = func.Blueprint()


@timer_job(bp, "0 */5 * * * *")
def requeue_pending_emails() -> dict:
    """Queue the oldest parked lead and prospect emails (a batch every five minutes)."""
    from shared.leads import delivery

    return delivery.requeue_pending()
