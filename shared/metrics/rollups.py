"""Rollup documents: per-tenant counters by hour, by day and in total, updated by pure `apply(event, doc)`.

Documents. Each tenant (partition `/tenantId`) has one document per UTC hour (`hour:2025-01-02T03`), one per UTC
day (`day:2025-01-02`) and one running total (`total`). A MetricEvent lands in the hour and day of its
`occurredAt` and in the total, except realtime latency samples, which no total-based view reads. Every document
holds the same shape:

- `counters`: monotone event counts (COUNTERS), e.g. sessionsStarted, toolsFailed, costMicroUsd;
- `latency`: the merged latency histogram (shared.metrics.histogram JSON) or null;
- `leadsByStatus`, `leadsByTier`, `pilotsByStatus`: net changes of those gauges within the bucket (creation +1,
  a move -1 / +1), so the `total` document holds the current distribution;
- `scenarios`: the same counters and histogram per scenario id (at most MAX_SCENARIOS; the catalog has ~20);
- `applied` and `watermark`: the idempotency record (below).

Idempotency: a bounded set of applied event ids per document, made sound by a watermark. `applied` maps a 64-bit
hash of each applied event id to its occurredAt (epoch ms); `watermark` is an epoch-ms bound below which no event
is accepted. `apply` refuses (status "stale") an event older than the watermark or older than REPLAY_HORIZON
before `now`, skips (status "duplicate") an event whose id is recorded, and otherwise counts it and records it.
After each apply the watermark rises to `now - REPLAY_HORIZON` (and, past MAX_APPLIED_IDS ids, to just above the
oldest dropped id), and ids below it are dropped. An id leaves the set only when every replay of it is already
refused as stale, so a replay never counts twice and the document stays bounded (≤ MAX_APPLIED_IDS ids). The
price: an event first delivered more than REPLAY_HORIZON late is not counted at write time; the reconciliation
timer (`rebuild` from source data, `drift` to report) restores it. Each document is idempotent on its own, so a
writer that updated the hour document and failed before the day document can simply re-apply the event to all.

Documents are written with ETags (read, apply, replace If-Match, retry on 412); `apply` never mutates its input.
Hour documents expire after HOUR_TTL_SECONDS, day documents after DAY_TTL_SECONDS (the container must have a
default TTL, e.g. -1, for the per-item `ttl` to count); the total never expires. The JSON paths `/applied/*`,
`/latency/*` and `/scenarios/*` need no index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from shared.metrics.histogram import Histogram
from shared.metrics.models import MetricEvent
from shared.platform.clock import iso

ROLLUP_TYPE = "metrics_rollup"
SCHEMA_VERSION = 1
REPLAY_HORIZON = timedelta(hours=24)
MAX_APPLIED_IDS = 1000
MAX_SCENARIOS = 200
HOUR_TTL_SECONDS = 14 * 86_400
DAY_TTL_SECONDS = 400 * 86_400

# Successful executions of these registry tools count as the overview's documentsRequested / paymentsFollowedUp.
DOCUMENT_REQUEST_TOOLS = frozenset({"collect_documents_request"})
PAYMENT_FOLLOW_UP_TOOLS = frozenset({"payment_reminder", "create_payment_plan_request", "send_payment_link"})

COUNTERS = (
    "sessionsStarted",
    "sessionsFinalized",
    "outcomesSuccess",
    "outcomesFailure",
    "durationMsSum",
    "costMicroUsd",
    "costReported",
    "toolsOk",
    "toolsFailed",
    "documentsRequested",
    "paymentsFollowedUp",
    "exceptionsOpened",
    "exceptionsResolved",
    "leadsCreated",
    "leadsHot",
    "pilotsCreated",
    "pilotsConverted",
    "bookingsRequested",
    "bookingsConfirmed",
    "scenarioOverflow",
)
GAUGES = ("leadsByStatus", "leadsByTier", "pilotsByStatus")

Granularity = Literal["hour", "day", "total"]
ApplyStatus = Literal["applied", "duplicate", "stale"]

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_HORIZON_MS = int(REPLAY_HORIZON.total_seconds() * 1000)


@dataclass(frozen=True, order=True)
class RollupKey:
    """Which rollup document: an hour (bucket `YYYY-MM-DDTHH`), a day (`YYYY-MM-DD`) or the total (`all`)."""

    granularity: Granularity
    bucket: str

    @property
    def id(self) -> str:
        """The document id within the tenant's partition."""
        return "total" if self.granularity == "total" else f"{self.granularity}:{self.bucket}"

    @property
    def start(self) -> datetime | None:
        """The first instant of the bucket (None for the total)."""
        if self.granularity == "hour":
            return datetime.strptime(self.bucket, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        if self.granularity == "day":
            return datetime.strptime(self.bucket, "%Y-%m-%d").replace(tzinfo=UTC)
        return None

    @property
    def end(self) -> datetime | None:
        """The first instant after the bucket (None for the total)."""
        start = self.start
        if start is None:
            return None
        return start + (_HOUR if self.granularity == "hour" else _DAY)

    @property
    def ttl(self) -> int | None:
        """The document's time to live in seconds, None for never."""
        return {"hour": HOUR_TTL_SECONDS, "day": DAY_TTL_SECONDS}.get(self.granularity)


TOTAL = RollupKey("total", "all")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("rollup times must be timezone-aware")
    return moment.astimezone(UTC)


def hour_key(moment: datetime) -> RollupKey:
    """The hour document holding `moment`."""
    return RollupKey("hour", _utc(moment).strftime("%Y-%m-%dT%H"))


def day_key(moment: datetime) -> RollupKey:
    """The day document holding `moment`."""
    return RollupKey("day", _utc(moment).strftime("%Y-%m-%d"))


@lru_cache(maxsize=4096)  # pure, and asked on every apply
def key_from_id(document_id: str) -> RollupKey:
    """The key of a rollup document id; ValueError for anything else."""
    if document_id == "total":
        return TOTAL
    granularity, _, bucket = document_id.partition(":")
    if granularity not in ("hour", "day"):
        raise ValueError(f"not a rollup document id: {document_id!r}")
    key = RollupKey(granularity, bucket)
    try:
        start = key.start
    except ValueError:
        raise ValueError(f"not a rollup document id: {document_id!r}") from None
    if (hour_key(start) if granularity == "hour" else day_key(start)) != key:
        raise ValueError(f"not a rollup document id: {document_id!r}")
    return key


def _keys_between(
    start: datetime, end: datetime, step: timedelta, key: Callable[[datetime], RollupKey], **floor: int
) -> list[RollupKey]:
    """The documents `step` apart overlapping [start, end), oldest first; `floor` truncates start to its bucket."""
    start, end = _utc(start), _utc(end)
    if start >= end:
        return []
    moment = start.replace(**floor)
    keys = []
    while moment < end:
        keys.append(key(moment))
        moment += step
    return keys


def hour_keys(start: datetime, end: datetime) -> list[RollupKey]:
    """The hour documents overlapping [start, end), oldest first: one per hour of the window."""
    return _keys_between(start, end, _HOUR, hour_key, minute=0, second=0, microsecond=0)


def day_keys(start: datetime, end: datetime) -> list[RollupKey]:
    """The day documents overlapping [start, end), oldest first: one per day of the window."""
    return _keys_between(start, end, _DAY, day_key, hour=0, minute=0, second=0, microsecond=0)


def last_hours(now: datetime, count: int) -> list[RollupKey]:
    """The `count` hour documents ending with the hour of `now`, oldest first."""
    current = _utc(now).replace(minute=0, second=0, microsecond=0)
    return hour_keys(current - _HOUR * (count - 1), current + _HOUR)


def last_days(now: datetime, count: int) -> list[RollupKey]:
    """The `count` day documents ending with the day of `now`, oldest first."""
    current = _utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return day_keys(current - _DAY * (count - 1), current + _DAY)


def keys_for_event(event: MetricEvent) -> list[RollupKey]:
    """The documents an event updates: its hour, its day and (except latency samples) the total."""
    keys = [hour_key(event.occurredAt), day_key(event.occurredAt)]
    if event.kind != "realtime.latency":
        keys.append(TOTAL)
    return keys


def new_document(tenant_id: str, key: RollupKey) -> dict[str, Any]:
    """An empty rollup document for one tenant and key."""
    document: dict[str, Any] = {
        "id": key.id,
        "tenantId": tenant_id,
        "type": ROLLUP_TYPE,
        "schemaVersion": SCHEMA_VERSION,
        "granularity": key.granularity,
        "bucket": key.bucket,
        "start": iso(key.start) if key.start else None,
        "counters": {},
        "latency": None,
        "leadsByStatus": {},
        "leadsByTier": {},
        "pilotsByStatus": {},
        "scenarios": {},
        "applied": {},
        "watermark": 0,
        "updatedAt": None,
    }
    if key.ttl is not None:
        document["ttl"] = key.ttl
    return document


class Applied(NamedTuple):
    """What `apply` did: the resulting document and whether the event counted."""

    doc: dict[str, Any]
    status: ApplyStatus


def event_mark(event_id: str) -> str:
    """The 64-bit hash under which a document records an applied event id (short, fixed size)."""
    return hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:16]


def _epoch_ms(moment: datetime) -> int:
    return int(_utc(moment).timestamp() * 1000)


def apply(event: MetricEvent, doc: dict[str, Any], *, now: datetime) -> Applied:
    """Count `event` into a copy of `doc` unless it was applied before or is past the replay horizon.

    `doc` must be the tenant's document for one of `keys_for_event(event)` (new_document() when none exists yet);
    anything else is a programming error (ValueError). The input is never mutated; a "duplicate" or "stale"
    result returns it unchanged, so the caller skips the write.
    """
    _check_document(doc)
    if doc["tenantId"] != event.tenantId:
        raise ValueError("the event belongs to another tenant")
    if key_from_id(doc["id"]) not in keys_for_event(event):
        raise ValueError(f"a {event.kind} event at {iso(event.occurredAt)} does not belong in {doc['id']}")
    occurred, now_ms = _epoch_ms(event.occurredAt), _epoch_ms(now)
    if occurred < doc["watermark"] or occurred < now_ms - _HORIZON_MS:
        return Applied(doc, "stale")
    if event_mark(event.id) in doc["applied"]:
        return Applied(doc, "duplicate")
    result = _copy(doc)
    _count(result, event)
    result["applied"][event_mark(event.id)] = occurred
    _prune(result, now_ms)
    result["updatedAt"] = iso(now)
    return Applied(result, "applied")


def rebuild(tenant_id: str, key: RollupKey, events: Iterable[MetricEvent], *, now: datetime) -> dict[str, Any]:
    """The document `key` recomputed from source events (for the reconciliation timer); no horizon applies.

    Events of other tenants or buckets are ignored and repeated ids count once, so the result is what live
    `apply` calls would have produced had every event arrived in time. Its idempotency record is pruned as of
    `now`, so it can replace the stored document (If-Match) and live writers carry on.
    """
    doc = new_document(tenant_id, key)
    for event in sorted(events, key=lambda item: (item.occurredAt, item.id)):
        mark = event_mark(event.id)
        if event.tenantId != tenant_id or key not in keys_for_event(event) or mark in doc["applied"]:
            continue
        _count(doc, event)
        doc["applied"][mark] = _epoch_ms(event.occurredAt)
    _prune(doc, _epoch_ms(now))
    doc["updatedAt"] = iso(now)
    return doc


def merge_applied(doc: dict[str, Any], marks: dict[str, int], *, now: datetime) -> None:
    """Record `marks` (an idempotency record, e.g. a rebuilt document's) in `doc` too, then prune as `apply` does.

    Reconciliation calls this when it writes recounted numbers into a stored document, so a late live `apply`
    of an event the recount already counted is a duplicate, not a second count. Marks below the watermark are
    skipped: such events are refused as stale anyway.
    """
    applied = dict(doc["applied"])
    for mark, moment in marks.items():
        if moment >= doc["watermark"]:
            applied[mark] = moment
    doc["applied"] = applied
    _prune(doc, _epoch_ms(now))


def drift(stored: dict[str, Any], expected: dict[str, Any]) -> dict[str, int]:
    """Where a stored document's numbers differ from a rebuilt one: path -> expected minus stored (empty if none)."""
    mine, theirs = _numbers(stored), _numbers(expected)
    return {
        path: theirs.get(path, 0) - mine.get(path, 0)
        for path in sorted(set(mine) | set(theirs))
        if theirs.get(path, 0) != mine.get(path, 0)
    }


@dataclass
class ScenarioAggregate:
    """One scenario's counters and latency over some documents."""

    counters: dict[str, int] = field(default_factory=dict)
    latency: Histogram = field(default_factory=Histogram)

    def count(self, name: str) -> int:
        """A counter's value (0 when never counted)."""
        return self.counters.get(name, 0)


@dataclass
class Aggregate:
    """The sum of some rollup documents: counters, latency, gauge changes and per-scenario figures."""

    counters: dict[str, int] = field(default_factory=dict)
    latency: Histogram = field(default_factory=Histogram)
    leadsByStatus: dict[str, int] = field(default_factory=dict)
    leadsByTier: dict[str, int] = field(default_factory=dict)
    pilotsByStatus: dict[str, int] = field(default_factory=dict)
    scenarios: dict[str, ScenarioAggregate] = field(default_factory=dict)

    def count(self, name: str) -> int:
        """A counter's value (0 when never counted)."""
        return self.counters.get(name, 0)

    def add(self, doc: dict[str, Any]) -> None:
        """Add one rollup document."""
        _check_document(doc)
        _add_all(self.counters, doc["counters"])
        if doc["latency"]:
            self.latency.update(Histogram.from_json(doc["latency"]))
        for gauge in GAUGES:
            _add_all(getattr(self, gauge), doc[gauge])
        for scenario_id, part in doc["scenarios"].items():
            target = self.scenarios.setdefault(scenario_id, ScenarioAggregate())
            _add_all(target.counters, part["counters"])
            if part["latency"]:
                target.latency.update(Histogram.from_json(part["latency"]))


def aggregate(docs: Iterable[dict[str, Any]]) -> Aggregate:
    """The sum of rollup documents (any granularity, any tenants: the caller picks them)."""
    total = Aggregate()
    for doc in docs:
        total.add(doc)
    return total


def _check_document(doc: dict[str, Any]) -> None:
    if not isinstance(doc, dict) or doc.get("type") != ROLLUP_TYPE:
        raise ValueError("not a rollup document")
    if doc.get("schemaVersion") != SCHEMA_VERSION:
        raise ValueError(f"rollup document schema version {doc.get('schemaVersion')!r} is not {SCHEMA_VERSION}")


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    # Copies exactly what _count and _prune change; histogram JSON is shared because it is replaced, never edited.
    result = dict(doc)
    for name in ("counters", *GAUGES, "applied"):
        result[name] = dict(doc[name])
    result["scenarios"] = {
        scenario_id: {"counters": dict(part["counters"]), "latency": part["latency"]}
        for scenario_id, part in doc["scenarios"].items()
    }
    return result


def _increments(event: MetricEvent) -> dict[str, int]:
    kind = event.kind
    if kind == "session.started":
        return {"sessionsStarted": 1}
    if kind == "session.finalized":
        counts = {"sessionsFinalized": 1, "durationMsSum": round(event.durationSeconds * 1000)}
        if event.outcome == "success":
            counts["outcomesSuccess"] = 1
        elif event.outcome == "failure":
            counts["outcomesFailure"] = 1
        if event.costUsd is not None:
            # Integer micro-dollars: the session cost has 6 decimals, and integer sums merge exactly.
            counts["costMicroUsd"] = round(event.costUsd * 1_000_000)
            counts["costReported"] = 1
        return counts
    if kind == "tool.executed":
        if not event.ok:
            return {"toolsFailed": 1}
        counts = {"toolsOk": 1}
        if event.toolName in DOCUMENT_REQUEST_TOOLS:
            counts["documentsRequested"] = 1
        if event.toolName in PAYMENT_FOLLOW_UP_TOOLS:
            counts["paymentsFollowedUp"] = 1
        return counts
    if kind == "exception.opened":
        return {"exceptionsOpened": 1}
    if kind == "exception.resolved":
        return {"exceptionsResolved": 1}
    if kind == "lead.created":
        return {"leadsCreated": 1, **({"leadsHot": 1} if event.tier == "hot" else {})}
    if kind == "lead.updated":
        return {"leadsHot": 1} if event.tier == "hot" and event.previousTier != "hot" else {}
    if kind == "pilot.moved":
        counts = {"pilotsCreated": 1} if event.previousStatus is None else {}
        if event.status == "converted" and event.previousStatus != "converted":
            counts["pilotsConverted"] = 1
        return counts
    if kind == "booking.requested":
        return {"bookingsRequested": 1}
    if kind == "booking.confirmed":
        return {"bookingsConfirmed": 1}
    return {}  # realtime.latency only feeds the histogram


def _gauge_changes(event: MetricEvent) -> list[tuple[str, str, int]]:
    changes: list[tuple[str, str, int]] = []

    def move(gauge: str, before: str | None, after: str | None) -> None:
        if before == after:
            return
        if before is not None:
            changes.append((gauge, before, -1))
        if after is not None:
            changes.append((gauge, after, 1))

    if event.kind == "lead.created":
        move("leadsByStatus", None, event.status)
        move("leadsByTier", None, event.tier)
    elif event.kind == "lead.updated":
        if event.status is not None:
            move("leadsByStatus", event.previousStatus, event.status)
        if event.tier is not None:
            move("leadsByTier", event.previousTier, event.tier)
    elif event.kind == "pilot.moved":
        move("pilotsByStatus", event.previousStatus, event.status)
    return changes


def _count(doc: dict[str, Any], event: MetricEvent) -> None:
    increments = _increments(event)
    _add_all(doc["counters"], increments)
    if event.latencyMs is not None:
        doc["latency"] = _with_sample(doc["latency"], event.latencyMs)
    for gauge, name, change in _gauge_changes(event):
        _add_all(doc[gauge], {name: change})
    if event.scenarioId is None:
        return
    scenarios = doc["scenarios"]
    if event.scenarioId not in scenarios and len(scenarios) >= MAX_SCENARIOS:
        # Bounded document: an unexpected flood of scenario ids still counts at tenant level, and is visible.
        _add_all(doc["counters"], {"scenarioOverflow": 1})
        return
    part = scenarios.setdefault(event.scenarioId, {"counters": {}, "latency": None})
    _add_all(part["counters"], increments)
    if event.latencyMs is not None:
        part["latency"] = _with_sample(part["latency"], event.latencyMs)


def _with_sample(stored: dict[str, Any] | None, value: float) -> dict[str, Any]:
    histogram = Histogram.from_json(stored) if stored else Histogram()
    histogram.add(value)
    return histogram.to_json()


def _add_all(target: dict[str, int], changes: dict[str, int]) -> None:
    for name, change in changes.items():
        value = target.get(name, 0) + change
        if value:
            target[name] = value
        else:
            target.pop(name, None)  # sparse: a gauge back at zero takes no room


def _prune(doc: dict[str, Any], now_ms: int) -> None:
    applied: dict[str, int] = doc["applied"]
    watermark = max(doc["watermark"], now_ms - _HORIZON_MS)
    if len(applied) > MAX_APPLIED_IDS:
        times = sorted(applied.values())
        # Just above the newest id that must go, so ids sharing its time go too: a kept id is never below the mark.
        watermark = max(watermark, times[len(times) - MAX_APPLIED_IDS - 1] + 1)
    doc["watermark"] = watermark
    if applied and min(applied.values()) < watermark:
        doc["applied"] = {mark: moment for mark, moment in applied.items() if moment >= watermark}


def _numbers(doc: dict[str, Any]) -> dict[str, int]:
    flat: dict[str, int] = {}
    for name, value in doc["counters"].items():
        flat[f"counters.{name}"] = value
    for gauge in GAUGES:
        for name, value in doc[gauge].items():
            flat[f"{gauge}.{name}"] = value
    if doc["latency"]:
        flat["latency.count"] = doc["latency"]["n"]
    for scenario_id, part in doc["scenarios"].items():
        for name, value in part["counters"].items():
            flat[f"scenarios.{scenario_id}.counters.{name}"] = value
        if part["latency"]:
            flat[f"scenarios.{scenario_id}.latency.count"] = part["latency"]["n"]
    return flat
