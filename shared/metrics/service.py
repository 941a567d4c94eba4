"""Metrics: record events at write time, answer the dashboard from rollups, the session feed, the public SLOs.

`record(*events)` is the one function every domain calls after its own write succeeded. It puts the events on
the `metrics-events` queue (one message per call; Queue Storage, so the calling request makes no Cosmos call for
metrics and its store-call budget is unchanged) and never raises: a failure is logged and the business operation
carries on; the reconciliation timer recounts from source data and repairs what was missed.

`apply(events)` is what the queue function runs: each event is counted into its hour, day and total rollup
documents (rollups.apply: idempotent per event id, ETag-safe, so the queue's retries and concurrent messages never
count an event twice), then the session-feed item of a feed kind is appended when the event was new. Its cost: one
query reads the hour, day and total documents together, one write per document an event changed (a duplicate
writes nothing), and, for a new feed event, one head query and one create per feed item; a lost race (412 / 409)
re-reads the one document and tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared.metrics import feed, rollups, sources, views
from shared.metrics.models import MetricBatch, MetricEvent
from shared.metrics.repository import FeedRepository, RollupRepository, SloSnapshotRepository
from shared.platform import clock
from shared.platform.errors import Conflict, ServiceUnavailable

if TYPE_CHECKING:
    from shared.platform.principal import Principal

logger = logging.getLogger("tellgence.metrics")

rollup_store = RollupRepository()
feed_store = FeedRepository()
slo_store = SloSnapshotRepository()

# Metric event kind -> the session feed's event type.
FEED_TYPES = {
    "session.started": "session.started",
    "session.finalized": "session.completed",
    "tool.executed": "session.tool.invoked",
    "exception.opened": "session.exception",
}

# The counters reconciliation can recount from session documents (sources.session_events); the others come
# from domains whose records it does not read, so it leaves them alone.
SESSION_COUNTERS = (
    "sessionsStarted",
    "sessionsFinalized",
    "outcomesSuccess",
    "outcomesFailure",
    "durationMsSum",
    "costMicroUsd",
    "costReported",
    "bookingsRequested",
    "bookingsConfirmed",
)
RECONCILED_DAYS_KEPT = 45
_STATUS_RANK = {"applied": 2, "duplicate": 1, "stale": 0}


@dataclass
class Recorded:
    """What `apply` did: each event's status (applied, duplicate or stale) and the feed items it added."""

    statuses: dict[str, str] = field(default_factory=dict)
    feed_items: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> str:
        """One log line: how many events counted, were duplicates or stale, and the feed items added."""
        counts = {status: list(self.statuses.values()).count(status) for status in _STATUS_RANK}
        return ", ".join(f"{count} {status}" for status, count in counts.items()) + f", {len(self.feed_items)} fed"


# --- write time -------------------------------------------------------------------------------------------


def record(*events: MetricEvent) -> None:
    """Queue events for counting (one message per call, split at the batch limit); never raises."""
    from shared.platform.store import queues
    from shared.platform.store.registry import METRICS_EVENTS_QUEUE

    size = MetricBatch.MAX_EVENTS
    for first in range(0, len(events), size):
        chunk = events[first : first + size]
        try:
            queues.enqueue(
                METRICS_EVENTS_QUEUE,
                {"events": [event.model_dump(mode="json", exclude_none=True) for event in chunk]},
            )
        except Exception:
            logger.exception("metrics: queueing %d event(s) failed: %s", len(chunk), [e.id for e in chunk][:5])


def record_session(doc: dict[str, Any], *, started: bool = False, finalized: bool = False) -> None:
    """Record what a stored session stands for: its start and/or its finalization (see sources); never raises."""
    try:
        events = [
            *(sources.session_started(doc) if started else []),
            *(sources.session_finalized(doc) if finalized else []),
        ]
    except Exception:
        logger.exception("metrics: the events of session %s could not be derived", doc.get("id"))
        return
    record(*events)


def record_booking_confirmed(doc: dict[str, Any]) -> None:
    """Record the first confirmation of a session's booking (the same event however often it is confirmed)."""
    try:
        events = sources.booking_confirmed(doc)
    except Exception:
        logger.exception("metrics: the booking event of session %s could not be derived", doc.get("id"))
        return
    record(*events)


def on_session_started(doc: dict[str, Any]) -> None:
    """Subscriber of `session.started`."""
    record_session(doc, started=True)


def on_session_finalized(doc: dict[str, Any], extracted: dict[str, Any], created: bool) -> None:
    """Subscriber of `session.finalized`: a session finalize created was never started on its own, so it is both."""
    record_session(doc, started=created, finalized=True)


def on_booking_confirmed(doc: dict[str, Any]) -> None:
    """Subscriber of `booking.confirmed`."""
    record_booking_confirmed(doc)


def _record_derived(derive: Any, *args: Any) -> None:
    try:
        events = derive(*args)
    except Exception:
        logger.exception("metrics: the events of %s could not be derived", getattr(derive, "__name__", derive))
        return
    if events:
        record(*events)


def on_lead_stored(before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Subscriber of `lead.stored`."""
    _record_derived(sources.lead_stored, before, after)


def on_pilot_moved(before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Subscriber of `pilot.moved`: creation and every status change of a pilot."""
    _record_derived(sources.pilot_moved, before, after)


def on_exception_changed(doc: dict[str, Any]) -> None:
    """Subscriber of `exception.opened` and `exception.resolved`."""
    _record_derived(sources.exception_changed, doc)


def on_tool_executed(doc: dict[str, Any]) -> None:
    """Subscriber of `tool.executed`: one event per finished execution."""
    _record_derived(sources.tool_executed, doc)


def on_realtime_stats(runtime_session: dict[str, Any], samples: list[float], first_index: int) -> None:
    """Subscriber of `realtime.stats`: one latency event per sample."""
    _record_derived(sources.latency_samples, runtime_session, samples, first_index)


def apply(events: Iterable[MetricEvent]) -> Recorded:
    """Count events into their rollups and append the new feed items (the queue function).

    A rollup that cannot be written raises (ServiceUnavailable when it stays contended), so the queue retries the
    message; events already counted are duplicates then. A feed item that cannot be appended is logged and lost:
    the feed is live, the rollups are the record.
    """
    result = Recorded()
    by_tenant: dict[str, list[MetricEvent]] = {}
    for event in events:
        by_tenant.setdefault(event.tenantId, []).append(event)
    for tenant_id, tenant_events in by_tenant.items():
        _apply_tenant(tenant_id, tenant_events, result)
    return result


def _apply_tenant(tenant_id: str, events: list[MetricEvent], result: Recorded) -> None:
    by_key: dict[rollups.RollupKey, list[MetricEvent]] = {}
    for event in events:
        for key in rollups.keys_for_event(event):
            by_key.setdefault(key, []).append(event)
    total_status: dict[str, str] = {}
    stored = rollup_store.read_full(tenant_id, [key.id for key in by_key])
    for key, key_events in by_key.items():
        try:
            statuses = rollup_store.apply_events(
                tenant_id, key, key_events, current=stored.get(key.id), now=clock.utc_now
            )
        except Conflict as exc:
            # Contention is worth a retry of the message, not the poison queue a 4xx would send it to.
            raise ServiceUnavailable("metrics rollups are contended; retry", code="store_unavailable") from exc
        for event_id, status in statuses.items():
            # Concurrent appliers of one event may each win a different document, so the total document, whose
            # ETag serialises them, gives the event's status; events that skip it (latency samples) take the
            # best status of their documents.
            if key == rollups.TOTAL:
                total_status[event_id] = status
            elif _STATUS_RANK[status] > _STATUS_RANK.get(result.statuses.get(event_id, ""), -1):
                result.statuses[event_id] = status
    result.statuses.update(total_status)
    _append_feed(tenant_id, events, total_status, result)


def _append_feed(tenant_id: str, events: list[MetricEvent], total_status: dict[str, str], result: Recorded) -> None:
    # The total document decides whether an event is new: its ETag serialises concurrent appliers of one event
    # (a retried or repeated message), so exactly one of them sees "applied" there and appends the item.
    head: dict[str, Any] | None = None
    have_head = False
    for event in events:
        feed_type = FEED_TYPES.get(event.kind)
        if feed_type is None or total_status.get(event.id) != "applied":
            continue
        if not event.sessionId or not event.scenarioId:
            continue
        try:
            item_event = feed.FeedEvent(
                eventType=feed_type,
                tenantId=tenant_id,
                sessionId=event.sessionId,
                scenarioId=event.scenarioId,
                scenarioTitle=sources.scenario_title(event.scenarioId),
                occurredAt=event.occurredAt,
                toolName=event.toolName if feed_type == "session.tool.invoked" else None,
                durationMs=event.durationSeconds * 1000 if feed_type == "session.completed" else None,
                exceptionReasonCode=(event.reasonCode or "unspecified") if feed_type == "session.exception" else None,
            )
            if not have_head:
                head, have_head = feed_store.head(tenant_id), True
            head = feed.append(
                item_event,
                try_create=feed_store.try_create,
                read_head=lambda: feed_store.head(tenant_id),
                head=head,
            )
            result.feed_items.append(head)
        except Exception:
            logger.exception("metrics: appending %s of tenant %s to the session feed failed", event.id, tenant_id)
            have_head = False


# --- the Metrics tag --------------------------------------------------------------------------------------


def _docs(tenant_id: str, keys: list[rollups.RollupKey]) -> list[dict[str, Any]]:
    return rollup_store.read_many(tenant_id, keys)


def dashboard(principal: Principal) -> dict[str, Any]:
    """GET /api/cp/metrics: one query over the total and the last 24 hour documents."""
    now = clock.utc_now()
    docs = _docs(principal.tenant_id, views.dashboard_keys(now))
    return views.dashboard(docs, tenant_id=principal.tenant_id, now=now)


def overview(principal: Principal) -> dict[str, Any]:
    """GET /api/cp/metrics/overview: one point read of the total."""
    now = clock.utc_now()
    return views.overview(_docs(principal.tenant_id, views.overview_keys()), tenant_id=principal.tenant_id, now=now)


def summary(principal: Principal) -> dict[str, Any]:
    """GET /api/cp/metrics/summary: one query over the total and the last 48 hour documents."""
    now = clock.utc_now()
    return views.summary(_docs(principal.tenant_id, views.summary_keys(now)), tenant_id=principal.tenant_id, now=now)


def trends(principal: Principal, window: str) -> dict[str, Any]:
    """GET /api/cp/metrics/trends: one query over the window's hour (24h) or day (7d, 30d) documents."""
    now = clock.utc_now()
    docs = _docs(principal.tenant_id, views.trends_keys(window, now))
    return views.trends(docs, tenant_id=principal.tenant_id, window=window, now=now)


def scenario_health(principal: Principal) -> dict[str, Any]:
    """GET /api/cp/metrics/scenario-health: one query over the total and the last 24 hour documents."""
    now = clock.utc_now()
    docs = _docs(principal.tenant_id, views.scenario_health_keys(now))
    return views.scenario_health(docs, tenant_id=principal.tenant_id, now=now)


def pipeline(principal: Principal) -> dict[str, Any]:
    """GET /api/cp/metrics/pipeline: one query over the total and the last 7 day documents."""
    now = clock.utc_now()
    return views.pipeline(_docs(principal.tenant_id, views.pipeline_keys(now)), tenant_id=principal.tenant_id, now=now)


def scenario_metrics(principal: Principal) -> dict[str, Any]:
    """GET /api/cp/metrics/scenarios: one point read of the total."""
    return views.scenario_metrics(
        _docs(principal.tenant_id, views.scenario_metrics_keys()), tenant_id=principal.tenant_id
    )


# --- the session feed -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedBatch:
    """One read of the feed: its items (oldest first), the sequence to resume after, whether more are waiting."""

    items: list[dict[str, Any]]
    resume_seq: int
    more: bool


def feed_batch(tenant_id: str, cursor: feed.Cursor, limit: int = feed.BATCH_LIMIT) -> FeedBatch:
    """The items after `cursor` (feed.select's rule), in at most three single-partition queries."""
    head_seq: int | None = None
    if cursor.seq is not None:
        items = feed_store.after_seq(tenant_id, cursor.seq, limit + 1)
        if not items:
            head = feed_store.head(tenant_id)
            head_seq = head["seq"] if head else 0
            effective = feed.effective_cursor(cursor, head_seq)
            if effective != cursor:  # a cursor from before the feed restarted: read it from the start
                cursor = effective
                items = feed_store.after_seq(tenant_id, cursor.seq, limit + 1)
    elif cursor.since is not None:
        # The stored time text has milliseconds: read from the cursor's millisecond and drop what is not after it.
        # Feed times strictly increase, so at most one item is dropped and limit + 2 rows leave limit + 1.
        rows = feed_store.from_time(tenant_id, clock.iso(cursor.since), limit + 2)
        items = feed.select(rows, cursor, limit + 1)
        if not items:
            head = feed_store.head(tenant_id)
            head_seq = head["seq"] if head else 0
    else:
        items = feed_store.latest(tenant_id, limit)
        return FeedBatch(items, items[-1]["seq"] if items else 0, False)
    more = len(items) > limit
    items = items[:limit]
    return FeedBatch(items, feed.next_cursor(items, cursor, head_seq or 0), more)


# --- public SLOs ------------------------------------------------------------------------------------------


def public_slos() -> dict[str, Any]:
    """The stored SLO snapshot; 503 until the refresh timer has computed the first one."""
    doc = slo_store.current()
    if doc is None or not isinstance(doc.get("snapshot"), dict):
        raise ServiceUnavailable("The SLO snapshot is being computed; try again shortly", code="slo_snapshot_pending")
    return doc["snapshot"]


def refresh_public_slos(now: datetime | None = None) -> dict[str, Any]:
    """Recompute the SLO snapshot from every tenant's day documents of the period and store it (the timer)."""
    now = now or clock.utc_now()
    keys = views.slo_keys(now)
    wanted = {key.id for key in keys}
    figures = rollups.Aggregate()
    seen: set[tuple[str, str]] = set()
    for doc in rollup_store.days_across_tenants(keys[0].bucket, keys[-1].bucket):
        mark = (doc.get("tenantId"), doc.get("id"))
        if doc.get("id") not in wanted or mark in seen:
            continue
        seen.add(mark)
        figures.add(doc)
    snapshot = views.public_slos_of(figures, now=now)
    slo_store.save(snapshot, documents_read=len(seen), tenants=len({tenant for tenant, _ in seen}))
    return snapshot


# --- reconciliation ---------------------------------------------------------------------------------------


@dataclass
class DocumentDrift:
    """One rollup document whose session counters differ from the recount: path -> recount minus stored."""

    tenant_id: str
    document_id: str
    drift: dict[str, int]
    repaired: dict[str, int]


@dataclass
class Reconciliation:
    """What one reconciliation run checked and found."""

    day: str
    tenants: int = 0
    documents: int = 0
    sessions: int = 0
    drifts: list[DocumentDrift] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One log line."""
        return (
            f"day {self.day}: {self.tenants} tenant(s), {self.sessions} session(s), {self.documents} document(s) "
            f"checked, {len(self.drifts)} with drift, {len(self.failures)} tenant(s) failed"
        )


def _session_figures(doc: dict[str, Any]) -> dict[tuple[str | None, str], int]:
    figures: dict[tuple[str | None, str], int] = {}
    for name in SESSION_COUNTERS:
        if doc["counters"].get(name):
            figures[(None, name)] = doc["counters"][name]
    for scenario_id, part in doc["scenarios"].items():
        for name in SESSION_COUNTERS:
            if part["counters"].get(name):
                figures[(scenario_id, name)] = part["counters"][name]
    return figures


def _path(scope: str | None, name: str) -> str:
    return f"counters.{name}" if scope is None else f"scenarios[{scope}].counters.{name}"


def _raise_to(doc: dict[str, Any], expected: dict[tuple[str | None, str], int]) -> dict[tuple[str | None, str], int]:
    """Raise each of doc's session counters that is below the recount to it; returns what was added."""
    added: dict[tuple[str | None, str], int] = {}
    current = _session_figures(doc)
    for (scope, name), value in expected.items():
        gap = value - current.get((scope, name), 0)
        if gap > 0:
            added[(scope, name)] = gap
    if not added:
        return added
    doc["counters"] = dict(doc["counters"])
    doc["scenarios"] = {sid: {**part, "counters": dict(part["counters"])} for sid, part in doc["scenarios"].items()}
    for (scope, name), gap in added.items():
        if scope is None:
            target = doc["counters"]
        else:
            target = doc["scenarios"].setdefault(scope, {"counters": {}, "latency": None})["counters"]
        target[name] = target.get(name, 0) + gap
    return added


def reconcile_day(
    day: date, *, tenants: Iterable[str] | None = None, now: datetime | None = None, repair: bool = True
) -> Reconciliation:
    """Recount one UTC day's hour and day rollups of every tenant (or of `tenants`) from their sessions.

    Drift (recount minus stored, session counters only) is logged per document. A stored figure below the recount
    (a metrics write that failed) is raised to it, and the total document gets the day's additions once (its
    `reconciled` record names the days already added). A stored figure above the recount is reported, not
    lowered: the source sessions may have expired (SESSION_TTL_SECONDS) since they were counted.
    """
    from shared.sessions import aggregate

    now = now or clock.utc_now()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    report = Reconciliation(day=day.isoformat())
    if tenants is None:
        tenants = rollup_store.tenants_with(rollups.day_key(start).id) | aggregate.tenants_active_between(
            clock.iso(start), clock.iso(end)
        )
    for tenant_id in sorted(set(tenants)):
        try:
            _reconcile_tenant(tenant_id, start, end, now, report, repair=repair)
        except Exception:
            logger.exception("metrics: reconciling tenant %s for %s failed", tenant_id, report.day)
            report.failures.append(tenant_id)
        report.tenants += 1
    logger.info("metrics reconciliation %s", report.summary())
    return report


def _reconcile_tenant(
    tenant_id: str, start: datetime, end: datetime, now: datetime, report: Reconciliation, *, repair: bool
) -> None:
    from shared.sessions import aggregate

    fields = ", ".join(f"c.{name}" for name in sources.SESSION_FIELDS)
    docs = aggregate.query(
        tenant_id,
        f"SELECT {fields} FROM c WHERE c.tenantId = @tenantId AND ((c.createdAt >= @start AND c.createdAt < @end) "
        "OR (c.finalizedAt >= @start AND c.finalizedAt < @end) "
        "OR (c.bookingConfirmedAt >= @start AND c.bookingConfirmedAt < @end))",
        {"start": clock.iso(start), "end": clock.iso(end)},
    )
    report.sessions += len(docs)
    events = [event for doc in docs for event in sources.session_events(doc) if start <= event.occurredAt < end]
    keys = [*rollups.hour_keys(start, end), rollups.day_key(start)]
    stored = rollup_store.read_full(tenant_id, [key.id for key in keys])
    day_added: dict[tuple[str | None, str], int] = {}
    for key in keys:
        report.documents += 1
        expected_doc = rollups.rebuild(tenant_id, key, events, now=now)
        expected = _session_figures(expected_doc)
        current = _session_figures(stored.get(key.id) or rollups.new_document(tenant_id, key))
        drift = {
            pair: expected.get(pair, 0) - current.get(pair, 0)
            for pair in set(expected) | set(current)
            if expected.get(pair, 0) != current.get(pair, 0)
        }
        if not drift:
            continue
        added: dict[tuple[str | None, str], int] = {}
        if repair and any(value > 0 for value in drift.values()):
            added = _repair(tenant_id, key, expected, expected_doc["applied"], now)
            if key.granularity == "day":
                day_added = added
        entry = DocumentDrift(
            tenant_id,
            key.id,
            {_path(*pair): value for pair, value in sorted(drift.items(), key=str)},
            {_path(*pair): value for pair, value in sorted(added.items(), key=str)},
        )
        report.drifts.append(entry)
        logger.warning(
            "metrics drift tenant=%s document=%s drift=%s repaired=%s",
            tenant_id,
            key.id,
            entry.drift,
            entry.repaired,
        )
    if day_added:
        _add_to_total(tenant_id, start.date().isoformat(), day_added, now)


def _repair(
    tenant_id: str,
    key: rollups.RollupKey,
    expected: dict[tuple[str | None, str], int],
    marks: dict[str, int],
    now: datetime,
) -> dict[tuple[str | None, str], int]:
    """Raise a document's session counters below the recount to it (ETag-safe); returns what the write added."""
    added: dict[tuple[str | None, str], int] = {}

    def change(doc: dict[str, Any]) -> bool:
        added.clear()
        added.update(_raise_to(doc, expected))
        if not added:
            return False
        rollups.merge_applied(doc, marks, now=now)
        doc["updatedAt"] = clock.iso(now)
        return True

    rollup_store.reconcile(tenant_id, key, change)
    return added


def _add_to_total(tenant_id: str, day: str, added: dict[tuple[str | None, str], int], now: datetime) -> None:
    def change(doc: dict[str, Any]) -> bool:
        reconciled = dict(doc.get("reconciled") or {})
        if day in reconciled:
            return False
        current = _session_figures(doc)
        _raise_to(doc, {pair: current.get(pair, 0) + gap for pair, gap in added.items()})
        cutoff = (now - timedelta(days=RECONCILED_DAYS_KEPT)).date().isoformat()
        reconciled = {name: at for name, at in reconciled.items() if name >= cutoff}
        reconciled[day] = clock.iso(now)
        doc["reconciled"] = reconciled
        doc["updatedAt"] = clock.iso(now)
        return True

    rollup_store.reconcile(tenant_id, rollups.TOTAL, change)
