"""The emails job: sends each message queued on `emails` with the configured provider.

A malformed message goes to `emails-poison` at once; a provider failure raises, so the queue retries
it and, after maxDequeueCount attempts, moves it to `emails-poison`.
"""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job
from shared.platform.store.registry import EMAILS_QUEUE

bp = func.Blueprint()


@queue_job(bp, EMAILS_QUEUE, message="shared.email.models:EmailMessage")
def send_email(message) -> str:
    """Deliver one queued email; returns the provider's message id."""
    # Imported here: the providers stay out of the cold start.
    from shared.email import service

    return service.deliver(message)
