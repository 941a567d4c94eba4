"""Queue-trigger pumps over Azure Queue Storage (Azurite), with the host's retry and poison-queue rules."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient

from devhost.invocation import IndexedFunction

logger = logging.getLogger("devhost.queues")

POISON_SUFFIX = "-poison"
# Storage returns at most 32 messages per receive call.
MAX_RECEIVE_BATCH = 32
# The host leases a message for as long as the function runs; ten minutes outlasts functionTimeout (5 min).
LEASE_SECONDS = 600
MIN_POLLING_INTERVAL_SECONDS = 0.1
_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?")


def parse_timespan(value: str) -> timedelta:
    """A .NET TimeSpan string as host.json writes it (`hh:mm:ss`, `d.hh:mm:ss`, `hh:mm:ss.fff`)."""
    match = _TIMESPAN.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"{value!r} is not a TimeSpan (expected hh:mm:ss)")
    days, hours, minutes, seconds, fraction = match.groups()
    return timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(7, "0")) / 10,
    )


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """host.json `extensions.queues` settings the dev host honours (the platform's defaults otherwise)."""

    max_dequeue_count: int = 5
    visibility_timeout: timedelta = timedelta(0)
    max_polling_interval: timedelta = timedelta(minutes=1)
    batch_size: int = 16

    @classmethod
    def from_host_json(cls, queues: Mapping[str, Any]) -> QueueOptions:
        """Read `extensions.queues` of host.json."""
        defaults = cls()
        return cls(
            max_dequeue_count=int(queues.get("maxDequeueCount", defaults.max_dequeue_count)),
            visibility_timeout=_timespan_setting(queues, "visibilityTimeout", defaults.visibility_timeout),
            max_polling_interval=_timespan_setting(queues, "maxPollingInterval", defaults.max_polling_interval),
            batch_size=max(1, min(MAX_RECEIVE_BATCH, int(queues.get("batchSize", defaults.batch_size)))),
        )


def _timespan_setting(queues: Mapping[str, Any], key: str, default: timedelta) -> timedelta:
    if key not in queues:
        return default
    try:
        return parse_timespan(queues[key])
    except ValueError as error:
        raise ValueError(f"host.json extensions.queues.{key}: {error}") from error


class QueuePump:
    """Receives the messages of one queue-triggered function's queue and invokes the function for each."""

    def __init__(self, function: IndexedFunction, connection_string: str, options: QueueOptions) -> None:
        self.function = function
        self.options = options
        self.queue_name: str = function.trigger.queue_name
        # Raw text on the wire: the body is base64-decoded here into bytes (binary payloads too), and a
        # poisoned message is copied byte for byte.
        self._client = QueueClient.from_connection_string(connection_string, self.queue_name)
        self._poison = QueueClient.from_connection_string(connection_string, self.queue_name + POISON_SUFFIX)

    def process_batch(self) -> tuple[int, int]:
        """Receive one batch of visible messages and handle each; returns (received, invocations)."""
        try:
            messages = list(
                self._client.receive_messages(
                    max_messages=self.options.batch_size,
                    messages_per_page=self.options.batch_size,
                    visibility_timeout=LEASE_SECONDS,
                )
            )
        except ResourceNotFoundError:
            # The host treats a queue that does not exist yet as empty.
            return 0, 0
        invocations = sum(self._handle(message) for message in messages)
        return len(messages), invocations

    def pending(self) -> int:
        """Messages in the queue, invisible ones (leased or waiting to be retried) included."""
        try:
            return self._client.get_queue_properties().approximate_message_count or 0
        except ResourceNotFoundError:
            return 0

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set: straight on while messages come, backing off to maxPollingInterval."""
        delay = MIN_POLLING_INTERVAL_SECONDS
        ceiling = max(MIN_POLLING_INTERVAL_SECONDS, self.options.max_polling_interval.total_seconds())
        while not stop.is_set():
            try:
                received, _ = self.process_batch()
            except Exception:
                logger.exception("polling queue %s for %s failed", self.queue_name, self.function.name)
                received = 0
            if received:
                delay = MIN_POLLING_INTERVAL_SECONDS
                continue
            stop.wait(delay)
            delay = min(delay * 2, ceiling)

    def _handle(self, message: Any) -> int:
        try:
            body = base64.b64decode(message.content or "", validate=True)
        except (binascii.Error, ValueError):
            logger.error(
                "queue %s: message %s is not base64 (producers must use TextBase64EncodePolicy); moving it to %s",
                self.queue_name,
                message.id,
                self.queue_name + POISON_SUFFIX,
            )
            self._move_to_poison(message)
            return 0
        # The worker builds azure.functions.queue.QueueMessage (func.QueueMessage lacks the metadata).
        queue_message = QueueMessage(
            id=message.id,
            body=body,
            dequeue_count=message.dequeue_count,
            insertion_time=message.inserted_on,
            expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on,
            pop_receipt=message.pop_receipt,
        )
        try:
            self.function.invoke(queue_message)
        except Exception:
            logger.exception(
                "function %s failed on message %s (dequeue count %s)",
                self.function.name,
                message.id,
                message.dequeue_count,
            )
            self._after_failure(message)
            return 1
        self._client.delete_message(message.id, message.pop_receipt)
        return 1

    def _after_failure(self, message: Any) -> None:
        if (message.dequeue_count or 0) >= self.options.max_dequeue_count:
            logger.warning(
                "message %s failed %s times; moving it to %s",
                message.id,
                message.dequeue_count,
                self.queue_name + POISON_SUFFIX,
            )
            self._move_to_poison(message)
            return
        # Passing the id (not the message) changes only the visibility, never the content.
        self._client.update_message(
            message.id,
            pop_receipt=message.pop_receipt,
            visibility_timeout=int(self.options.visibility_timeout.total_seconds()),
        )

    def _move_to_poison(self, message: Any) -> None:
        try:
            self._poison.send_message(message.content)
        except ResourceNotFoundError:
            with contextlib.suppress(ResourceExistsError):
                self._poison.create_queue()
            self._poison.send_message(message.content)
        self._client.delete_message(message.id, message.pop_receipt)
