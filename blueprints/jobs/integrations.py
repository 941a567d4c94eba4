"""Integrations: the retry queue of failed connector deliveries."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job
from shared.platform.store.registry import INTEGRATION_RETRIES_QUEUE

bp = func.Blueprint()


@queue_job(bp, INTEGRATION_RETRIES_QUEUE, message="shared.integrations.models:RetryMessage")
def retry_integration_delivery(message) -> str:
    """Try one failed delivery again: delivered, re-queued with a longer delay, or given up to the poison queue."""
    from shared.integrations import deliveries

    return deliveries.run_retry(message)
