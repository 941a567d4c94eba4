"""Queue clients that encode messages as base64, as the Functions queue trigger expects."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shared.platform.store import clients

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient, QueueServiceClient

_queues: dict[str, QueueClient] = {}


def get_queue_service() -> QueueServiceClient:
    """The process-wide QueueServiceClient."""
    return clients.queue_service()


def get_queue(name: str) -> QueueClient:
    """A cached client for one declared queue, encoding message text as base64."""
    client = _queues.get(name)
    if client is None:
        from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy

        client = get_queue_service().get_queue_client(
            name, message_encode_policy=TextBase64EncodePolicy(), message_decode_policy=TextBase64DecodePolicy()
        )
        _queues[name] = client
    return client


def enqueue(name: str, payload: dict[str, Any], *, delay_seconds: int = 0, retries: int | None = None) -> str:
    """Send one JSON message; returns its message id.

    `retries` overrides the client's retry count for this call: a request path that has its own fallback
    passes 0, so an unreachable queue fails in one attempt instead of after the storage SDK's backoff (15 s+).
    """
    options = {} if retries is None else {"retry_total": retries}
    message = get_queue(name).send_message(
        json.dumps(payload, separators=(",", ":")), visibility_timeout=max(0, delay_seconds) or None, **options
    )
    return message.id


def reset() -> None:
    """Drop the cached clients (settings changed)."""
    clients.reset("queue")
    _queues.clear()
