"""Queue triggers against real Azurite: retries, poison queue, base64 interop, background polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import azure.functions as func
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy, TextBase64EncodePolicy

from devhost.host import DevHost

FAST_RETRIES = {"visibilityTimeout": "00:00:00", "maxDequeueCount": 3}


def producer(connection_string: str, queue_name: str) -> QueueClient:
    client = QueueClient.from_connection_string(
        connection_string, queue_name, message_encode_policy=TextBase64EncodePolicy()
    )
    client.create_queue()
    return client


def messages_in(connection_string: str, queue_name: str) -> list[str]:
    client = QueueClient.from_connection_string(
        connection_string, queue_name, message_decode_policy=TextBase64DecodePolicy()
    )
    try:
        return [message.content for message in client.peek_messages(max_messages=32)]
    except ResourceNotFoundError:
        return []


def queue_host(
    queue_name: str, connection_string: str, handler: Callable[[func.QueueMessage], None], **overrides: object
) -> DevHost:
    app = func.FunctionApp()

    @app.function_name("on_message")
    @app.queue_trigger(arg_name="msg", queue_name=queue_name, connection="AzureWebJobsStorage")
    def on_message(msg: func.QueueMessage) -> None:
        handler(msg)

    return DevHost(
        app,
        storage_connection_string=connection_string,
        host_overrides={**FAST_RETRIES, **overrides},
        cors_origins=[],
    )


def test_a_message_failing_twice_then_succeeding_is_processed(storage_connection_string: str, queue_name: str):
    dequeue_counts: list[int] = []

    def flaky(msg: func.QueueMessage) -> None:
        dequeue_counts.append(msg.dequeue_count)
        if len(dequeue_counts) < 3:
            raise RuntimeError("transient failure")

    host = queue_host(queue_name, storage_connection_string, flaky)
    producer(storage_connection_string, queue_name).send_message("retry me")
    assert host.drain_queues(timeout=10) == 3
    assert dequeue_counts == [1, 2, 3]
    assert messages_in(storage_connection_string, queue_name) == []
    assert messages_in(storage_connection_string, f"{queue_name}-poison") == []


def test_a_message_that_always_fails_ends_in_the_poison_queue_unchanged(
    storage_connection_string: str, queue_name: str
):
    attempts: list[int] = []

    def always_fails(msg: func.QueueMessage) -> None:
        attempts.append(msg.dequeue_count)
        raise RuntimeError("permanent failure")

    host = queue_host(queue_name, storage_connection_string, always_fails)
    text = '{"to": "ops@example.com", "subject": "Zürich ✓"}'
    producer(storage_connection_string, queue_name).send_message(text)
    assert host.drain_queues(timeout=10) == 3
    assert attempts == [1, 2, 3]
    assert messages_in(storage_connection_string, queue_name) == []
    assert messages_in(storage_connection_string, f"{queue_name}-poison") == [text]


def test_the_function_receives_the_decoded_body_and_metadata(storage_connection_string: str, queue_name: str):
    received: list[func.QueueMessage] = []
    host = queue_host(queue_name, storage_connection_string, received.append)
    text = '{"lead": "été", "n": 1}'
    sent = producer(storage_connection_string, queue_name).send_message(text)
    assert host.drain_queues(timeout=10) == 1
    (message,) = received
    assert message.get_body() == text.encode("utf-8")
    assert message.get_json() == {"lead": "été", "n": 1}
    assert message.id == sent.id
    assert message.dequeue_count == 1
    assert message.insertion_time is not None and message.expiration_time > message.insertion_time
    assert message.pop_receipt


def test_a_message_that_is_not_base64_goes_to_poison_without_an_invocation(
    storage_connection_string: str, queue_name: str
):
    received: list[func.QueueMessage] = []
    host = queue_host(queue_name, storage_connection_string, received.append)
    raw = QueueClient.from_connection_string(storage_connection_string, queue_name)
    raw.create_queue()
    raw.send_message("not base64!")
    assert host.drain_queues(timeout=10) == 0
    assert received == []
    poison = QueueClient.from_connection_string(storage_connection_string, f"{queue_name}-poison")
    assert [message.content for message in poison.peek_messages()] == ["not base64!"]


def test_drain_waits_for_a_retry_hidden_by_the_visibility_timeout(storage_connection_string: str, queue_name: str):
    calls: list[float] = []

    def fails_once(msg: func.QueueMessage) -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("first attempt fails")

    host = queue_host(queue_name, storage_connection_string, fails_once, visibilityTimeout="00:00:01")
    producer(storage_connection_string, queue_name).send_message("later")
    assert host.drain_queues(timeout=10) == 2
    assert calls[1] - calls[0] >= 0.9


def test_drain_of_a_missing_queue_returns_at_once(storage_connection_string: str, queue_name: str):
    host = queue_host(queue_name, storage_connection_string, lambda msg: None)
    started = time.monotonic()
    assert host.drain_queues(timeout=5) == 0
    assert time.monotonic() - started < 2


def test_background_pollers_pick_messages_up(storage_connection_string: str, queue_name: str):
    done = threading.Event()
    bodies: list[bytes] = []

    def record(msg: func.QueueMessage) -> None:
        bodies.append(msg.get_body())
        done.set()

    host = queue_host(queue_name, storage_connection_string, record, maxPollingInterval="00:00:00.2")
    client = producer(storage_connection_string, queue_name)
    host.start_background()
    try:
        client.send_message("in the background")
        assert done.wait(5)
    finally:
        host.stop()
    assert bodies == [b"in the background"]


def test_background_work_starts_once(storage_connection_string: str, queue_name: str):
    host = queue_host(queue_name, storage_connection_string, lambda msg: None)
    host.start_background()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            host.start_background()
    finally:
        host.stop()
