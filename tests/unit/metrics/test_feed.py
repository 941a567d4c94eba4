"""The session feed: gapless per-tenant sequence under concurrent writers, JSON view, SSE batches and resume."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from pydantic import ValidationError

from shared.metrics import feed
from shared.metrics.feed import (
    RETRY_MORE_MS,
    RETRY_MS,
    Cursor,
    FeedEvent,
    append,
    build_item,
    effective_cursor,
    events_response,
    item_id,
    next_cursor,
    parse_cursor,
    select,
    sse_batch,
    wants_event_stream,
)
from shared.metrics.models import FeedQuery
from shared.platform.clock import parse_iso
from shared.platform.errors import BadRequest, Conflict
from tests.support.concurrency import run_in_threads
from tests.support.contract import validate_response
from tests.support.sse import parse_stream

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PATH = "/api/cp/metrics/sessions/events"


def feed_event(number: int, at: datetime = T0, kind: str = "session.started", tenant: str = "t1") -> FeedEvent:
    extra: dict[str, Any] = {}
    if kind == "session.tool.invoked":
        extra = {"toolName": "check_availability", "durationMs": 120.5}
    elif kind == "session.exception":
        extra = {"exceptionReasonCode": "connector_unavailable"}
    elif kind == "session.completed":
        extra = {"durationMs": 93_000}
    return FeedEvent(
        eventType=kind,
        tenantId=tenant,
        sessionId=f"s{number}",
        scenarioId="healthcare-intake",
        scenarioTitle="New Patient Intake and First Visit",
        occurredAt=at,
        **extra,
    )


class FeedStore:
    """One tenant's feed items by id, with the create-if-absent semantics of Cosmos create_item (409)."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.conflicts = 0

    def try_create(self, item: dict[str, Any]) -> bool:
        with self.lock:
            if item["id"] in self.items:
                self.conflicts += 1
                return False
            self.items[item["id"]] = item
            return True

    def read(self, seq: int) -> dict[str, Any] | None:
        with self.lock:
            return self.items.get(item_id(seq))

    def head(self) -> dict[str, Any] | None:
        with self.lock:
            return max(self.items.values(), key=lambda item: item["seq"], default=None)

    def append(self, event: FeedEvent, head: dict[str, Any] | None = None) -> dict[str, Any]:
        return append(event, head=head, try_create=self.try_create, read_head=self.head)

    def ordered(self) -> list[dict[str, Any]]:
        return sorted(self.items.values(), key=lambda item: item["seq"])


def assert_gapless(items: list[dict[str, Any]]) -> None:
    assert [item["seq"] for item in items] == list(range(1, len(items) + 1))
    times = [parse_iso(item["occurredAt"]) for item in items]
    assert all(later > earlier for earlier, later in pairwise(times))


# Events and items


@pytest.mark.parametrize(
    "kind, extra",
    [
        ("session.started", {"toolName": "x"}),
        ("session.tool.invoked", {}),
        ("session.exception", {}),
        ("session.started", {"durationMs": 5}),
        ("session.completed", {"durationMs": float("inf")}),
        ("session.completed", {"exceptionReasonCode": "x"}),
        ("session.ended", {}),
    ],
)
def test_feed_events_fit_their_type(kind: str, extra: dict) -> None:
    with pytest.raises(ValidationError):
        FeedEvent(
            eventType=kind,
            tenantId="t1",
            sessionId="s1",
            scenarioId="healthcare-intake",
            scenarioTitle="Intake",
            occurredAt=T0,
            **extra,
        )


def test_items_have_sortable_ids_and_strictly_increasing_times() -> None:
    first = build_item(feed_event(1, T0), 1, None)
    assert first["id"] == "0000000000000001" and first["seq"] == 1 and first["ttl"] == feed.FEED_TTL_SECONDS
    assert first["occurredAt"] == "2025-03-03T09:00:00.000Z" == first["sourceOccurredAt"]
    same_time = build_item(feed_event(2, T0), 2, first)
    assert same_time["occurredAt"] == "2025-03-03T09:00:00.001Z"  # moved 1 ms past its predecessor
    assert same_time["sourceOccurredAt"] == "2025-03-03T09:00:00.000Z"
    earlier = build_item(feed_event(3, T0 - timedelta(seconds=5)), 3, same_time)
    assert earlier["occurredAt"] == "2025-03-03T09:00:00.002Z"
    later = build_item(feed_event(4, T0 + timedelta(seconds=5)), 4, earlier)
    assert later["occurredAt"] == "2025-03-03T09:00:05.000Z"
    assert item_id(10) < item_id(9_000) < item_id(123_456_789)
    with pytest.raises(ValueError):
        build_item(feed_event(5), 6, later)  # a gap
    with pytest.raises(ValueError):
        item_id(0)


def test_concurrent_writers_leave_a_gapless_sequence() -> None:
    store = FeedStore()
    per_writer, writers = 40, 6
    barrier = threading.Barrier(writers)

    def writer(number: int) -> None:
        barrier.wait()
        for step in range(per_writer):
            head = store.head()
            time.sleep(0)  # let the others move on: the head goes stale between query and create, as across instances
            store.append(feed_event(number * 1000 + step, T0), head)

    run_in_threads(writer, [(number,) for number in range(writers)])
    items = store.ordered()
    assert len(items) == per_writer * writers
    assert_gapless(items)
    assert sorted(item["sessionId"] for item in items) == sorted(
        f"s{number * 1000 + step}" for number in range(writers) for step in range(per_writer)
    )
    assert store.conflicts > 0  # the race really happened


def test_a_writer_with_a_stale_head_moves_to_the_newest_item() -> None:
    store = FeedStore()
    stale = store.append(feed_event(0, T0))
    for number in range(1, 8):
        store.append(feed_event(number, T0 + timedelta(seconds=number)))
    item = store.append(feed_event(99, T0), stale)
    assert item["seq"] == 9 and store.conflicts == 1
    assert item["occurredAt"] == "2025-03-03T09:00:07.001Z"  # after its real predecessor, not the stale head
    assert_gapless(store.ordered())


def test_append_gives_up_with_conflict_rather_than_spinning() -> None:
    first = build_item(feed_event(1), 1, None)
    second = build_item(feed_event(2), 2, first)
    heads = iter([first, first, second, first, first, first])  # a lagging replica: the head seen goes backwards

    def taken(item: dict[str, Any]) -> bool:
        return False

    with pytest.raises(Conflict):
        append(feed_event(9), try_create=taken, read_head=lambda: next(heads), max_attempts=4)
    attempts: list[int] = []

    def record(item: dict[str, Any]) -> bool:
        attempts.append(item["seq"])
        return False

    heads = iter([None, first, second, first, None])
    with pytest.raises(Conflict):
        append(feed_event(9), try_create=record, read_head=lambda: next(heads), max_attempts=4)
    assert attempts == [1, 2, 3, 3]  # never behind a number known to be taken


# Cursors


def test_parse_cursor() -> None:
    assert parse_cursor(None, None) == Cursor()
    assert parse_cursor("42", "2025-01-01T00:00:00Z") == Cursor(seq=42)  # Last-Event-ID wins
    assert parse_cursor(" 7 ", None) == Cursor(seq=7)
    assert parse_cursor("", "2025-01-01T00:00:00Z") == Cursor(since=datetime(2025, 1, 1, tzinfo=UTC))
    assert parse_cursor(None, T0) == Cursor(since=T0)
    for bad in ("-1", "1e3", "abc", "٣", "9" * 17):
        with pytest.raises(BadRequest):
            parse_cursor(bad, None)
    with pytest.raises(BadRequest):
        parse_cursor(None, "yesterday")
    with pytest.raises(BadRequest):
        parse_cursor(None, datetime(2025, 1, 1))


def test_feed_query_takes_only_date_times() -> None:
    assert FeedQuery().since is None
    assert FeedQuery(since="2025-03-03T09:00:00.123Z").since == T0 + timedelta(milliseconds=123)
    assert FeedQuery(since="2025-03-03T10:00:00+01:00").since == T0
    assert FeedQuery(since="2025-03-03T09:00:00").since == T0  # no offset means UTC
    for bad in ("2025-03-03", "1741000000", "soon", "2025-03-03T25:00:00Z", "2025-03-03T09:00:00Z" + " " * 40):
        with pytest.raises(ValidationError):
            FeedQuery(since=bad)
    with pytest.raises(ValidationError):
        FeedQuery(since=1_741_000_000)


def test_a_cursor_from_a_feed_that_restarted_reads_from_the_start() -> None:
    assert effective_cursor(Cursor(seq=500), 3) == Cursor(seq=0)
    assert effective_cursor(Cursor(seq=3), 3) == Cursor(seq=3)
    assert effective_cursor(Cursor(since=T0), 0) == Cursor(since=T0)


def test_select() -> None:
    store = FeedStore()
    for number in range(10):
        store.append(feed_event(number, T0 + timedelta(seconds=number)))
    items = list(reversed(store.ordered()))  # order of the input does not matter
    assert [item["seq"] for item in select(items, Cursor(seq=4), limit=3)] == [5, 6, 7]
    assert [item["seq"] for item in select(items, Cursor(), limit=3)] == [8, 9, 10]
    since = parse_iso(store.ordered()[5]["occurredAt"])
    assert [item["seq"] for item in select(items, Cursor(since=since), limit=100)] == [7, 8, 9, 10]
    assert select(items, Cursor(seq=10)) == []


# Views


def test_json_view_matches_the_contract() -> None:
    store = FeedStore()
    kinds = ["session.started", "session.tool.invoked", "session.exception", "session.completed"]
    for number, kind in enumerate(kinds):
        store.append(feed_event(number, T0, kind))
    body = events_response("t1", store.ordered())
    validate_response("GET", PATH, 200, "application/json", json.dumps(body).encode())
    assert [event["eventType"] for event in body["events"]] == kinds
    assert body["events"][1]["toolName"] == "check_availability" and body["events"][1]["durationMs"] == 120.5
    assert body["events"][2]["exceptionReasonCode"] == "connector_unavailable"
    assert "toolName" not in body["events"][0] and "seq" not in body["events"][0]
    validate_response("GET", PATH, 200, "application/json", json.dumps(events_response("t1", [])).encode())


def test_sse_batch_format() -> None:
    store = FeedStore()
    store.append(feed_event(1, T0))
    store.append(feed_event(2, T0, "session.tool.invoked"))
    text = sse_batch(store.ordered(), resume_seq=0)
    validate_response("GET", PATH, 200, "text/event-stream", text.encode())
    first = json.dumps(events_response("t1", store.ordered())["events"][0], separators=(",", ":"))
    assert text.startswith(f"retry: {RETRY_MS}\nid: 1\nevent: session.started\ndata: {first}\n\nid: 2\n")
    assert text.endswith("\n\n") and text.count("\ndata: ") == 2
    assert sse_batch([], resume_seq=17) == f"retry: {RETRY_MS}\nid: 17\n\n"
    assert sse_batch(store.ordered(), resume_seq=0, more=True).startswith(f"retry: {RETRY_MORE_MS}\n")


def test_sse_data_stays_on_one_line_whatever_the_text() -> None:
    event = FeedEvent(
        eventType="session.exception",
        tenantId="t1",
        sessionId="s1",
        scenarioId="legal-pi-intake",
        scenarioTitle="Line one\nline two\r\nمرحبا",
        occurredAt=T0,
        exceptionReasonCode="no_slot",
    )
    text = sse_batch([build_item(event, 1, None)], resume_seq=0)
    parsed = EventSourceClient().feed(text)
    assert json.loads(parsed[0][2])["scenarioTitle"] == "Line one\nline two\r\nمرحبا"


def test_accept_negotiation() -> None:
    assert wants_event_stream("text/event-stream")
    assert wants_event_stream("text/event-stream, application/json;q=0.5")
    assert wants_event_stream("TEXT/EVENT-STREAM;charset=utf-8")
    assert not wants_event_stream(None)
    assert not wants_event_stream("")
    assert not wants_event_stream("application/json")
    assert not wants_event_stream("*/*")
    assert not wants_event_stream("text/event-stream;q=0.5, application/json")
    assert not wants_event_stream("text/event-stream;q=0")
    assert not wants_event_stream("text/event-stream, */*")  # a tie goes to JSON


# Resume, as a browser's EventSource experiences it


class EventSourceClient:
    """The parsing and reconnect state of the HTML EventSource: last event id, retry, dispatched events.

    The WHATWG parser starts each connection's id buffer empty (`fresh_id_buffer`); some implementations seed it
    with the last event id instead. A batch must resume correctly under both.
    """

    def __init__(self, fresh_id_buffer: bool = True) -> None:
        self.fresh_id_buffer = fresh_id_buffer
        self.last_event_id = ""
        self.retry_ms: int | None = None
        self.seen: list[tuple[str, str, str]] = []  # (id, event type, data)

    def feed(self, text: str) -> list[tuple[str, str, str]]:
        """Process one response body (one connection); the events it dispatched."""
        id_buffer = "" if self.fresh_id_buffer else self.last_event_id
        events, self.last_event_id, retry_ms = parse_stream(text, self.last_event_id, id_buffer)
        if retry_ms is not None:
            self.retry_ms = retry_ms
        dispatched = [(event.id, event.type, event.data) for event in events]
        self.seen += dispatched
        return dispatched


def serve_sse(store: FeedStore, last_event_id: str | None, since: str | None = None, limit: int = 5) -> str:
    """What the operation answers to an EventSource: the pure functions, wired as the handler will wire them."""
    items = store.ordered()
    head = items[-1]["seq"] if items else 0
    cursor = effective_cursor(parse_cursor(last_event_id, since), head)
    batch = select(items, cursor, limit)
    return sse_batch(batch, resume_seq=next_cursor(batch, cursor, head), more=len(batch) == limit)


@pytest.mark.parametrize("fresh_id_buffer", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_an_eventsource_that_reconnects_sees_every_later_event_exactly_once(seed: int, fresh_id_buffer: bool) -> None:
    rng = random.Random(seed)
    store = FeedStore()
    for number in range(rng.choice([0, 3, 12])):  # history from before the client connected
        store.append(feed_event(number, T0))
    client = EventSourceClient(fresh_id_buffer)
    client.feed(serve_sse(store, None))
    first_batch = len(client.seen)
    written_after = []
    moment = T0
    for _ in range(60):
        for _ in range(rng.choice([0, 0, 1, 2, 7])):
            moment += timedelta(milliseconds=rng.choice([0, 0, 1, 250]))  # ties included
            item = store.append(feed_event(1000 + len(written_after), moment, rng.choice(feed.FEED_EVENT_TYPES[:1])))
            written_after.append(item)
        # The browser sends Last-Event-ID once it has one; the first URL may carry `since` for ever.
        text = serve_sse(store, client.last_event_id or None, since="2020-01-01T00:00:00Z" if seed % 2 else None)
        if rng.random() < 0.3:
            text = text[: rng.randint(0, len(text))]  # the connection dropped mid-batch
        client.feed(text)
        assert client.retry_ms in (RETRY_MS, RETRY_MORE_MS)
    for _ in range(30):  # drain what the last rounds left
        client.feed(serve_sse(store, client.last_event_id or None))
    later_ids = [seen_id for seen_id, _, _ in client.seen[first_batch:]]
    assert later_ids == [str(item["seq"]) for item in written_after]
    all_ids = [int(seen_id) for seen_id, _, _ in client.seen]
    assert all_ids == sorted(set(all_ids))  # never a repeat, always in order


@pytest.mark.parametrize("fresh_id_buffer", [True, False])
def test_an_empty_first_batch_still_anchors_the_cursor(fresh_id_buffer: bool) -> None:
    store = FeedStore()
    client = EventSourceClient(fresh_id_buffer)
    client.feed(serve_sse(store, None))
    assert client.seen == [] and client.last_event_id == "0"
    for number in range(12):
        store.append(feed_event(number, T0))
    # With a plain reconnect (no id) the client would get only the latest 5; anchored, it gets all 12 in order.
    while len(client.seen) < 12:
        before = len(client.seen)
        client.feed(serve_sse(store, client.last_event_id))
        assert len(client.seen) > before
    assert [int(seen_id) for seen_id, _, _ in client.seen] == list(range(1, 13))


def test_a_json_client_resuming_with_since_sees_every_event_exactly_once() -> None:
    rng = random.Random(4)
    store = FeedStore()
    seen: list[dict[str, Any]] = []
    since: str | None = None
    moment = T0
    for _ in range(80):
        for _ in range(rng.choice([0, 1, 3])):
            # Many events share one source millisecond, and some arrive with an older source time.
            moment += timedelta(milliseconds=rng.choice([0, 0, 1]))
            store.append(feed_event(len(store.items), moment - timedelta(milliseconds=rng.choice([0, 0, 3]))))
        cursor = parse_cursor(None, since)
        body = events_response("t1", select(store.ordered(), cursor, limit=4) if since else [])
        seen += body["events"]
        if body["events"]:
            since = body["events"][-1]["occurredAt"]
        elif since is None:
            since = "2000-01-01T00:00:00.000Z"
    while True:
        body = events_response("t1", select(store.ordered(), parse_cursor(None, since), limit=4))
        if not body["events"]:
            break
        seen += body["events"]
        since = body["events"][-1]["occurredAt"]
    assert [event["sessionId"] for event in seen] == [item["sessionId"] for item in store.ordered()]
