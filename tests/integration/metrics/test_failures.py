"""Failure paths: the store down (503, queue retries), bad messages (poison), the queue down (business goes on)."""

from __future__ import annotations

import json
import logging
from typing import Any

from azure.core.exceptions import ServiceRequestError
from azure.storage.queue import QueueClient, TextBase64DecodePolicy

from shared.metrics import service as metrics
from shared.metrics.models import MetricEvent
from shared.platform import clock
from shared.platform.settings import get_settings
from shared.platform.store import queues
from shared.platform.store.registry import METRICS_EVENTS_QUEUE
from tests.support.identity import new_tenant_id
from tests.support.sessions import start_session


class FlakyContainer:
    """A Cosmos container proxy whose first `failures` data calls fail as if the store were unreachable."""

    def __init__(self, real: Any, failures: int) -> None:
        self._real = real
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if name not in ("read_item", "query_items", "replace_item", "create_item", "upsert_item"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.failures > 0:
                self.failures -= 1
                raise ServiceRequestError("connection refused")
            return attribute(*args, **kwargs)

        return call


def poisoned() -> list[dict]:
    client = QueueClient.from_connection_string(
        get_settings().storage_connection_string,
        METRICS_EVENTS_QUEUE + "-poison",
        message_decode_policy=TextBase64DecodePolicy(),
    )
    try:
        return [json.loads(message.content) for message in client.peek_messages(max_messages=32)]
    except Exception:
        return []


def test_the_store_down_answers_503_and_a_queued_event_is_retried_until_it_counts(client, tokens, drain, monkeypatch):
    tenant = new_tenant_id("fail")
    operator = tokens.headers(tenant, "operator")
    flaky = FlakyContainer(metrics.rollup_store.container, failures=1)
    monkeypatch.setattr(metrics.rollup_store, "_explicit_container", flaky)
    down = client.get("/api/cp/metrics", headers=operator)
    assert down.status_code == 503 and down.json()["error"] == "store_unavailable"

    event = MetricEvent(
        id="session.started:retry-1",
        kind="session.started",
        tenantId=tenant,
        occurredAt=clock.utc_now(),
        sessionId="retry-1",
        scenarioId="legal-pi-intake",
    )
    drain()  # nothing else of this test's making is queued when the store fails next
    flaky.failures = 1
    metrics.record(event)
    drain()
    assert flaky.failures == 0  # the first attempt failed, and the queue tried again
    assert client.get("/api/cp/metrics", headers=operator).json()["totalSessions"] == 1
    assert all(message.get("events", [{}])[0].get("id") != event.id for message in poisoned())
    # Recording it once more changes nothing: the event id is already counted.
    metrics.record(event)
    drain()
    assert client.get("/api/cp/metrics", headers=operator).json()["totalSessions"] == 1


def test_a_message_that_is_not_a_batch_of_events_goes_to_the_poison_queue(drain):
    marker = new_tenant_id("poison")
    queues.enqueue(METRICS_EVENTS_QUEUE, {"events": [], "marker": marker})
    queues.enqueue(METRICS_EVENTS_QUEUE, {"events": [{"id": "x", "kind": "session.exploded", "marker": marker}]})
    drain()
    markers = [message.get("marker") or message["events"][0].get("marker") for message in poisoned()]
    assert markers.count(marker) == 2


def test_the_metrics_queue_down_never_fails_the_session_it_counts(client, monkeypatch, caplog):
    def down(name: str, payload: dict, **kwargs: Any) -> str:
        raise ConnectionError("queue service unreachable")

    monkeypatch.setattr(queues, "enqueue", down)
    with caplog.at_level(logging.ERROR, logger="tellgence.metrics"):
        session = start_session(client, "legal-pi-intake")
    assert session["sessionId"]
    assert "metrics: queueing 1 event(s) failed" in caplog.text


def test_a_window_the_contract_does_not_list_is_400(client, tokens):
    operator = tokens.headers(new_tenant_id("fail"), "operator")
    for window in ("1h", "90d", ""):
        response = client.get("/api/cp/metrics/trends", params={"window": window}, headers=operator)
        assert response.status_code == 400 and response.json()["error"] == "validation_error", window
    assert client.get("/api/cp/metrics/trends", headers=operator).json()["resolution"] == "hour"
    assert client.get("/api/cp/metrics/trends", params={"window": "7d"}, headers=operator).json()["resolution"] == "day"


def test_viewers_and_other_tenants_see_no_metrics(client, tokens):
    tenant = new_tenant_id("fail")
    metrics.apply(
        [
            MetricEvent(
                id="session.started:own-1",
                kind="session.started",
                tenantId=tenant,
                occurredAt=clock.utc_now(),
                sessionId="own-1",
                scenarioId="legal-pi-intake",
            )
        ]
    )
    assert client.get("/api/cp/metrics", headers=tokens.headers(tenant, "viewer")).status_code == 403
    assert client.get("/api/cp/metrics", headers=tokens.headers(tenant, "admin")).json()["totalSessions"] == 1
    stranger = tokens.headers(new_tenant_id("fail"), "owner")
    assert client.get("/api/cp/metrics", headers=stranger).json()["totalSessions"] == 0
    assert client.get("/api/cp/metrics/scenarios", headers=stranger).json()["scenarios"] == []
