"""The live session feed: events as items with a gapless per-tenant sequence, their JSON view and SSE batches.

Ids: a per-tenant sequence 1, 2, 3, ... (the item id is the sequence zero-padded to SEQ_DIGITS, so ids also sort
as text). A writer appends by *creating* the item with sequence head + 1, where head is an existing item it has
read (the newest: `SELECT TOP 1 * ... ORDER BY c.seq DESC` in the tenant's partition); if the id exists (409),
another writer won that number, so it reads the head again and tries the number after it (`append`). Creating
n + 1 therefore always follows seeing n, and the items present are always the whole range 1..N: a reader that
asks for "after n" can never skip an item that is written later with a smaller number, which is what a
time-ordered id (two writers, clocks and commit order disagreeing) could not promise. A reader never repeats
one either, since numbers are never reused while items live. The cost is one head read and one create per
event, plus one of each per lost race.

Times: an item's `occurredAt` is its source time, moved to 1 ms after the previous item's when it would
otherwise not be later. Feed times thus strictly increase with the sequence, so the JSON `since` (the last
`occurredAt` a client saw) resumes exactly like `Last-Event-ID` (the last sequence it saw) does.

Resume: `Last-Event-ID` (what EventSource sends on reconnect) wins over `since`; with neither, a reader gets
the most recent events. Items expire after FEED_TTL_SECONDS; a cursor older than that resumes at the oldest
item still kept. The sequence restarts only if every item of the tenant expired; a cursor above the head is
then from a previous run of the feed and `effective_cursor` resumes from the start.

SSE: a finite batch (the Functions host does not stream): per event `id:`, `event:` and one `data:` line of
JSON, with `retry:` in the first block. The batch always leaves the client's cursor set: when it carries no
event it is a bare `id:` block (per the EventSource rules it sets the last event id and dispatches nothing), so
the reconnect resumes exactly where this batch left off.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.platform.clock import iso, parse_iso
from shared.platform.errors import BadRequest, Conflict

FEED_ITEM_TYPE = "session_feed_event"
SCHEMA_VERSION = 1
SEQ_DIGITS = 16
FEED_TTL_SECONDS = 7 * 86_400
BATCH_LIMIT = 100
RETRY_MS = 3000
RETRY_MORE_MS = 250  # reconnect quickly when the batch stopped at its limit
MAX_APPEND_ATTEMPTS = 25

FeedEventType = Literal["session.started", "session.tool.invoked", "session.completed", "session.exception"]
FEED_EVENT_TYPES: tuple[str, ...] = FeedEventType.__args__
_OPTIONAL_FIELDS = ("toolName", "durationMs", "exceptionReasonCode")
_MAX_SEQ = 10**SEQ_DIGITS - 1


class FeedEvent(BaseModel):
    """One event of a tenant's session feed, as its owning domain reports it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    eventType: FeedEventType
    tenantId: str = Field(min_length=1, max_length=128)
    sessionId: str = Field(min_length=1, max_length=128)
    scenarioId: str = Field(min_length=1, max_length=120)
    scenarioTitle: str = Field(min_length=1, max_length=200)
    occurredAt: AwareDatetime
    toolName: str | None = Field(default=None, min_length=1, max_length=120)
    durationMs: float | None = Field(default=None, ge=0, le=7 * 86_400_000)
    exceptionReasonCode: str | None = Field(default=None, min_length=1, max_length=120)

    @model_validator(mode="after")
    def _fields_fit_type(self) -> FeedEvent:
        if self.durationMs is not None and not math.isfinite(self.durationMs):
            raise ValueError("durationMs must be finite")
        tool_event, exception_event = self.eventType == "session.tool.invoked", self.eventType == "session.exception"
        if (self.toolName is not None) != tool_event:
            raise ValueError("toolName is given exactly on session.tool.invoked")
        if (self.exceptionReasonCode is not None) != exception_event:
            raise ValueError("exceptionReasonCode is given exactly on session.exception")
        if self.durationMs is not None and self.eventType not in ("session.tool.invoked", "session.completed"):
            raise ValueError("durationMs belongs to session.tool.invoked and session.completed")
        return self


def item_id(seq: int) -> str:
    """The item id of a sequence number (zero-padded so ids sort like numbers)."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= _MAX_SEQ:
        raise ValueError("a feed sequence is a positive integer")
    return str(seq).zfill(SEQ_DIGITS)


def build_item(event: FeedEvent, seq: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The stored item for `event` at sequence `seq`, right after `previous` (the item seq - 1, None for seq 1)."""
    expected = 1 if previous is None else previous["seq"] + 1
    if seq != expected:
        raise ValueError(f"item {seq} must follow item {expected - 1}")
    moment = event.occurredAt
    if previous is not None:
        # Strictly increasing feed times make `since` as exact a cursor as the sequence.
        moment = max(moment, parse_iso(previous["occurredAt"]) + timedelta(milliseconds=1))
    item: dict[str, Any] = {
        "id": item_id(seq),
        "tenantId": event.tenantId,
        "type": FEED_ITEM_TYPE,
        "schemaVersion": SCHEMA_VERSION,
        "seq": seq,
        "eventType": event.eventType,
        "sessionId": event.sessionId,
        "scenarioId": event.scenarioId,
        "scenarioTitle": event.scenarioTitle,
        "occurredAt": iso(moment),
        "sourceOccurredAt": iso(event.occurredAt),
        "ttl": FEED_TTL_SECONDS,
    }
    for name in _OPTIONAL_FIELDS:
        value = getattr(event, name)
        if value is not None:
            item[name] = value
    return item


def append(
    event: FeedEvent,
    *,
    try_create: Callable[[dict[str, Any]], bool],
    read_head: Callable[[], dict[str, Any] | None],
    head: dict[str, Any] | None = None,
    max_attempts: int = MAX_APPEND_ATTEMPTS,
) -> dict[str, Any]:
    """Append `event` to its tenant's feed with the next free sequence number; the stored item.

    `read_head()` returns the tenant's newest item (None for an empty feed); `head` may pass one already read.
    `try_create(item)` creates the item if its id is free and returns False when it exists (Cosmos 409). A lost
    race re-reads the head and tries the number after it; after `max_attempts` lost races this raises Conflict,
    so the caller retries later rather than spinning.
    """
    previous = read_head() if head is None else head
    for _ in range(max_attempts):
        seq = 1 if previous is None else previous["seq"] + 1
        item = build_item(event, seq, previous)
        if try_create(item):
            return item
        newest = read_head()
        # The number is taken, so the head is at least there; a replica that has not seen it yet is not trusted.
        if newest is not None and newest["seq"] >= seq:
            previous = newest
    raise Conflict("the session feed is busy; try again")


class Cursor(NamedTuple):
    """Where a reader resumes: after sequence `seq`, else after time `since`, else from the latest events."""

    seq: int | None = None
    since: datetime | None = None


def parse_cursor(last_event_id: str | None, since: datetime | str | None) -> Cursor:
    """The cursor of a request: Last-Event-ID (a sequence number) wins over `since`; BadRequest if malformed."""
    if last_event_id is not None and last_event_id.strip():
        text = last_event_id.strip()
        if not text.isascii() or not text.isdigit() or len(text) > SEQ_DIGITS:
            raise BadRequest("Last-Event-ID must be an event id this feed sent", code="invalid_last_event_id")
        return Cursor(seq=int(text))
    if since is None:
        return Cursor()
    if isinstance(since, str):
        try:
            since = parse_iso(since)
        except ValueError:
            raise BadRequest("since must be an ISO 8601 date-time", code="validation_error") from None
    if since.tzinfo is None:
        raise BadRequest("since must carry a time zone", code="validation_error")
    return Cursor(since=since)


def effective_cursor(cursor: Cursor, head_seq: int) -> Cursor:
    """The cursor to read with, given the feed's newest sequence: one above the head is from a restarted feed."""
    if cursor.seq is not None and cursor.seq > head_seq:
        return Cursor(seq=0)
    return cursor


def select(items: Iterable[dict[str, Any]], cursor: Cursor, limit: int = BATCH_LIMIT) -> list[dict[str, Any]]:
    """The items a batch carries, oldest first: the first `limit` after the cursor, or the latest `limit`.

    This is the reading rule the repository's query follows (ORDER BY seq, seq > @seq or occurredAt > @since).
    """
    ordered = sorted(items, key=lambda item: item["seq"])
    if cursor.seq is not None:
        return [item for item in ordered if item["seq"] > cursor.seq][:limit]
    if cursor.since is not None:
        return [item for item in ordered if parse_iso(item["occurredAt"]) > cursor.since][:limit]
    return ordered[-limit:] if limit > 0 else []


def event_json(item: dict[str, Any]) -> dict[str, Any]:
    """One item as the contract's feed event (no id: JSON clients resume with `since`)."""
    body = {
        "eventType": item["eventType"],
        "sessionId": item["sessionId"],
        "scenarioId": item["scenarioId"],
        "scenarioTitle": item["scenarioTitle"],
        "tenantId": item["tenantId"],
        "occurredAt": item["occurredAt"],
    }
    for name in _OPTIONAL_FIELDS:
        if item.get(name) is not None:
            body[name] = item[name]
    return body


def events_response(tenant_id: str, items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The JSON 200 body: the tenant and its events, oldest first."""
    return {"tenantId": tenant_id, "events": [event_json(item) for item in items]}


def next_cursor(items: list[dict[str, Any]], cursor: Cursor, head_seq: int) -> int:
    """The sequence a client should hold after this batch: its last event, else where it was, else the head."""
    if items:
        return items[-1]["seq"]
    if cursor.seq is not None:
        return cursor.seq
    # A `since` reader with nothing newer, or a first reader of an empty batch, is caught up to the head.
    return head_seq


def sse_batch(items: list[dict[str, Any]], *, resume_seq: int, more: bool = False) -> str:
    """A finite text/event-stream body: one block per item (`id:`, `event:`, `data:`), `retry:` in the first.

    Without items it is a bare `retry:` + `id: <resume_seq>` block so the client's Last-Event-ID is set anyway.
    Every block carries its id: a new connection starts with an empty id buffer, so a block without one would
    reset the client's Last-Event-ID. `more` (the batch hit its limit) asks the client to reconnect after
    RETRY_MORE_MS instead of RETRY_MS.
    """
    lines = [f"retry: {RETRY_MORE_MS if more else RETRY_MS}"]
    for item in items:
        data = json.dumps(event_json(item), ensure_ascii=False, separators=(",", ":"))
        lines += [f"id: {item['seq']}", f"event: {item['eventType']}", f"data: {data}", ""]
    if not items:
        lines += [f"id: {resume_seq}", ""]
    return "\n".join(lines) + "\n"


def wants_event_stream(accept: str | None) -> bool:
    """Whether an Accept header prefers text/event-stream over JSON (q-values honoured; ties go to JSON)."""
    if not accept:
        return False
    quality = {"text/event-stream": 0.0, "json": 0.0}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        media = media.lower()
        if media == "text/event-stream":
            quality["text/event-stream"] = max(quality["text/event-stream"], weight)
        elif media in ("application/json", "application/*", "*/*"):
            quality["json"] = max(quality["json"], weight)
    return quality["text/event-stream"] > quality["json"]
