"""The emails job: sends each message queued on `emails` with the configured provider.

A failure raises, so the queue retries it and, after maxDequeueCount attempts, moves it to `emails-poison`.
"""

from __future__ import annotations

import azure.functions as func

from shared.platform import telemetry
from shared.platform.store.registry import EMAILS_QUEUE

bp = func.Blueprint()


@bp.function_name("send_email")
@bp.queue_trigger(arg_name="msg", queue_name=EMAILS_QUEUE, connection="AzureWebJobsStorage")
@telemetry.traced_job
def send_email(msg: func.QueueMessage) -> None:
    """Parse the queued EmailMessage and deliver it; an invalid one raises too (it ends in poison)."""
    # Imported here: pydantic and the providers stay out of the cold start.
    from shared.email import service

    service.deliver(service.parse_queued(msg.get_body()))
