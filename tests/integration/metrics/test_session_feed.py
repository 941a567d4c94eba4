"""The live session feed over HTTP: JSON and SSE, resuming with since or Last-Event-ID, under concurrent writers."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

from shared.catalog import content
from shared.metrics import service as metrics
from shared.metrics.feed import BATCH_LIMIT, RETRY_MORE_MS, RETRY_MS
from shared.metrics.models import MetricEvent
from shared.platform import clock
from tests.support.concurrency import run_in_threads
from tests.support.identity import new_tenant_id
from tests.support.sessions import finalize_payload, key_headers, start_session
from tests.support.sse import FEED_PATH, EventSourceClient


def started(tenant: str, session_id: str, at: datetime, scenario: str = "banking-lost-card") -> MetricEvent:
    return MetricEvent(
        id=f"session.started:{session_id}",
        kind="session.started",
        tenantId=tenant,
        occurredAt=at,
        sessionId=session_id,
        scenarioId=scenario,
    )


def write_concurrently(tenant: str, writers: int, batches: int, per_batch: int) -> list[str]:
    """Writers apply batches of session starts at once, as concurrent queue invocations do; returns the ids."""
    written: list[list[str]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for batch in range(batches):
                ids = [f"w{number}-b{batch}-s{index}" for index in range(per_batch)]
                now = clock.utc_now()
                metrics.apply([started(tenant, session_id, now) for session_id in ids])
                written[number].extend(ids)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    run_in_threads(writer, [(number,) for number in range(writers)], timeout=120)
    assert not errors, errors
    return [session_id for ids in written for session_id in ids]


def test_an_sse_client_that_disconnects_and_resumes_sees_every_event_exactly_once(client, tokens):
    tenant = new_tenant_id("feed")
    source = EventSourceClient(client, tokens.headers(tenant, "operator"))
    assert source.poll() == [] and source.last_event_id == "0" and source.retry_ms == RETRY_MS

    rng = random.Random(3)
    done = threading.Event()
    written: list[str] = []

    def produce() -> None:
        written.extend(write_concurrently(tenant, writers=4, batches=8, per_batch=4))
        done.set()

    producer = threading.Thread(target=produce)
    producer.start()
    # Read while the writers append: some connections drop mid-batch, and every one resumes from the last
    # event the client dispatched.
    while not done.is_set():
        if rng.random() < 0.4:
            source.cut_off(rng.randint(0, 900))
        else:
            source.poll()
    producer.join()
    for _ in range(10):  # catch up: the writers produced more than one batch holds
        if not source.poll() and source.retry_ms == RETRY_MS:
            break

    seen = [event.json()["sessionId"] for event in source.events]
    assert len(written) == 128 and sorted(seen) == sorted(written)  # every event, none twice
    ids = [int(event.id) for event in source.events]
    assert ids == list(range(1, len(written) + 1))  # the gapless per-tenant sequence, in order
    assert {event.type for event in source.events} == {"session.started"}
    assert all(event.json()["tenantId"] == tenant for event in source.events)


def test_a_full_batch_asks_for_a_quick_reconnect_and_json_resumes_with_since(client, tokens):
    tenant = new_tenant_id("feed")
    operator = tokens.headers(tenant, "operator")
    now = clock.utc_now()
    metrics.apply([started(tenant, f"s{index}", now) for index in range(BATCH_LIMIT + 20)])
    source = EventSourceClient(client, operator)
    source.last_event_id = "0"
    assert len(source.poll()) == BATCH_LIMIT and source.retry_ms == RETRY_MORE_MS
    assert len(source.poll()) == 20 and source.retry_ms == RETRY_MS
    assert source.poll() == [] and source.last_event_id == str(BATCH_LIMIT + 20)

    # JSON without a cursor: the latest events; with `since` (the last occurredAt seen): only newer ones.
    latest = client.get(FEED_PATH, headers=operator).json()["events"]
    assert [event["sessionId"] for event in latest] == [f"s{index}" for index in range(20, BATCH_LIMIT + 20)]
    since = latest[-30]["occurredAt"]
    newer = client.get(FEED_PATH, params={"since": since}, headers=operator).json()["events"]
    assert [event["sessionId"] for event in newer] == [event["sessionId"] for event in latest[-29:]]
    assert client.get(FEED_PATH, params={"since": latest[-1]["occurredAt"]}, headers=operator).json()["events"] == []
    # A UTC offset other than Z names the same instant.
    shifted = clock.parse_iso(since).astimezone(UTC).replace(tzinfo=None).isoformat() + "+00:00"
    assert client.get(FEED_PATH, params={"since": shifted}, headers=operator).json()["events"] == newer


def test_real_sessions_appear_with_their_catalog_title_and_duration(client, tokens, drain):
    tenant = new_tenant_id("feed")
    operator = tokens.headers(tenant, "operator")
    session = start_session(client, "vet-appointment-booking", headers=operator)
    payload = finalize_payload("vet-appointment-booking", sessionId=session["sessionId"], duration=95.5)
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    # Finalizing again is the same event: no second completion.
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    drain()
    events = client.get(FEED_PATH, headers=operator).json()["events"]
    assert [(event["eventType"], event["sessionId"]) for event in events] == [
        ("session.started", session["sessionId"]),
        ("session.completed", session["sessionId"]),
    ]
    assert {event["scenarioTitle"] for event in events} == {content.scenarios()["vet-appointment-booking"]["title"]}
    assert events[1]["durationMs"] == 95_500 and "durationMs" not in events[0]
    # Another tenant's operators see none of it.
    assert client.get(FEED_PATH, headers=tokens.headers(new_tenant_id("feed"), "operator")).json()["events"] == []


def test_one_event_applied_by_eight_writers_at_once_counts_and_feeds_once(client, tokens):
    tenant = new_tenant_id("feed")
    event = started(tenant, "dup-1", clock.utc_now())
    barrier = threading.Barrier(8)
    results: list[metrics.Recorded] = []

    def apply_once() -> None:
        barrier.wait()
        results.append(metrics.apply([event]))

    run_in_threads(apply_once, [()] * 8, timeout=60)
    assert sorted(result.statuses[event.id] for result in results) == ["applied"] + ["duplicate"] * 7
    assert sum(len(result.feed_items) for result in results) == 1
    operator = tokens.headers(tenant, "operator")
    assert client.get("/api/cp/metrics", headers=operator).json()["totalSessions"] == 1
    assert len(client.get(FEED_PATH, headers=operator).json()["events"]) == 1


def test_cursors_and_content_negotiation(client, tokens):
    tenant = new_tenant_id("feed")
    operator = tokens.headers(tenant, "operator")
    metrics.apply([started(tenant, f"s{index}", clock.utc_now()) for index in range(3)])
    sse = {**operator, "Accept": "text/event-stream"}

    # A Last-Event-ID above the head is from a feed that restarted (every item expired): read it from the start.
    restarted = client.get(FEED_PATH, headers={**sse, "Last-Event-ID": "999"})
    assert restarted.text.count("event: session.started") == 3
    # Last-Event-ID wins over since; a caught-up client is told where it is.
    caught_up = client.get(FEED_PATH, params={"since": "2000-01-01T00:00:00Z"}, headers={**sse, "Last-Event-ID": "3"})
    assert caught_up.text == f"retry: {RETRY_MS}\nid: 3\n\n"
    assert caught_up.headers["cache-control"] == "no-store"

    # q-values decide between JSON and SSE; ties go to JSON.
    assert (
        client.get(FEED_PATH, headers={**operator, "Accept": "application/json;q=0.5, text/event-stream"})
        .headers["content-type"]
        .startswith("text/event-stream")
    )
    for accept in ("text/event-stream;q=0.2, application/json", "*/*", "text/event-stream, application/json"):
        answer = client.get(FEED_PATH, headers={**operator, "Accept": accept})
        assert answer.headers["content-type"].startswith("application/json"), accept

    for bad in ({"Last-Event-ID": "abc"}, {"Last-Event-ID": "-1"}, {"Last-Event-ID": "1" * 17}):
        assert client.get(FEED_PATH, headers={**sse, **bad}).status_code == 400
    for since in ("yesterday", "2025-13-01T00:00:00Z", "2025-01-01", "1735689600"):
        answer = client.get(FEED_PATH, params={"since": since}, headers=operator)
        assert answer.status_code == 400 and answer.json()["error"] == "validation_error", since


def test_events_older_than_the_replay_horizon_are_not_fed(client, tokens):
    tenant = new_tenant_id("feed")
    late = started(tenant, "late-1", clock.utc_now() - timedelta(hours=30))
    assert metrics.apply([late]).statuses == {late.id: "stale"}
    assert client.get(FEED_PATH, headers=tokens.headers(tenant, "operator")).json()["events"] == []
