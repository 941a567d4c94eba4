"""Rollup documents: bucket keys, counting, idempotency under replays, bounded size, rebuild and drift."""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from shared.metrics import rollups
from shared.metrics.histogram import Histogram
from shared.metrics.models import MetricEvent, classify_outcome
from shared.metrics.rollups import (
    TOTAL,
    RollupKey,
    aggregate,
    apply,
    day_key,
    day_keys,
    drift,
    hour_key,
    hour_keys,
    key_from_id,
    keys_for_event,
    last_days,
    last_hours,
    new_document,
    rebuild,
)
from tests.unit.metrics.events import Store, event, scripted

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def counters_by_doc(store: Store) -> dict[tuple[str, str], dict]:
    keep = ("counters", "latency", "leadsByStatus", "leadsByTier", "pilotsByStatus", "scenarios")
    return {slot: {name: doc[name] for name in keep} for slot, doc in store.docs.items()}


# Keys


def test_hour_and_day_keys() -> None:
    moment = datetime(2025, 3, 4, 10, 59, 59, 999_000, tzinfo=UTC)
    assert hour_key(moment) == RollupKey("hour", "2025-03-04T10")
    assert hour_key(moment).id == "hour:2025-03-04T10"
    assert day_key(moment).id == "day:2025-03-04"
    assert TOTAL.id == "total"
    assert hour_key(moment).start == datetime(2025, 3, 4, 10, tzinfo=UTC)
    assert hour_key(moment).end == datetime(2025, 3, 4, 11, tzinfo=UTC)
    assert day_key(moment).end == datetime(2025, 3, 5, tzinfo=UTC)
    # Another offset names the same UTC bucket.
    assert hour_key(moment.astimezone(ZoneInfo("Asia/Tokyo"))) == hour_key(moment)
    with pytest.raises(ValueError):
        hour_key(datetime(2025, 3, 4, 10))


def test_window_keys_are_one_per_bucket_of_the_window() -> None:
    now = datetime(2025, 3, 1, 0, 30, tzinfo=UTC)
    hours = last_hours(now, 24)
    assert len(hours) == 24 and len(set(hours)) == 24
    assert hours[-1] == hour_key(now) and hours[0].id == "hour:2025-02-28T01"
    assert all(later.start - earlier.start == timedelta(hours=1) for earlier, later in pairwise(hours))
    days = last_days(now, 30)
    assert len(days) == 30 and days[-1].id == "day:2025-03-01" and days[0].id == "day:2025-01-31"
    # A window that starts and ends inside buckets touches each overlapping bucket once.
    assert [key.id for key in hour_keys(now - timedelta(minutes=90), now)] == [
        "hour:2025-02-28T23",
        "hour:2025-03-01T00",
    ]
    assert len(day_keys(datetime(2024, 2, 27, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC))) == 4  # leap day
    assert hour_keys(now, now) == []


def test_key_from_id_round_trips_and_refuses_other_ids() -> None:
    for key in [TOTAL, *last_hours(T0, 3), *last_days(T0, 3)]:
        assert key_from_id(key.id) == key
    for bad in ["", "hour:", "hour:2025-13-01T00", "hour:2025-01-01T3", "day:2025-1-01", "week:2025-01", "totals"]:
        with pytest.raises(ValueError):
            key_from_id(bad)


def test_an_event_lands_in_its_hour_its_day_and_the_total() -> None:
    at = datetime(2025, 3, 4, 23, 59, tzinfo=UTC)
    started = event("session.started", "a", "t1", at, scenarioId="healthcare-intake")
    assert keys_for_event(started) == [hour_key(at), day_key(at), TOTAL]
    latency = event("realtime.latency", "b", "t1", at, latencyMs=300)
    assert keys_for_event(latency) == [hour_key(at), day_key(at)]


# Events


@pytest.mark.parametrize(
    "kind, fields",
    [
        ("session.started", {}),  # no scenario
        ("session.started", {"scenarioId": "x", "ok": True}),  # a field of another kind
        ("session.finalized", {"scenarioId": "x", "outcome": "success"}),  # no duration
        ("tool.executed", {"toolName": "t"}),
        ("realtime.latency", {"latencyMs": float("nan")}),
        ("realtime.latency", {"latencyMs": -1}),
        ("lead.created", {"status": "archived"}),
        ("lead.updated", {}),
        ("lead.updated", {"status": "contacted"}),  # no previous status
        ("pilot.moved", {"status": "flying"}),
        ("session.started", {"scenarioId": "../etc"}),
    ],
)
def test_events_are_checked_against_their_kind(kind: str, fields: dict) -> None:
    with pytest.raises(ValidationError):
        event(kind, "id-1", "t1", T0, **fields)


def test_event_times_must_carry_a_zone() -> None:
    with pytest.raises(ValidationError):
        MetricEvent(id="a", kind="exception.opened", tenantId="t", occurredAt=datetime(2025, 1, 1))


def test_outcome_classification() -> None:
    assert classify_outcome("booked") == classify_outcome("resolved") == classify_outcome("qualified") == "success"
    assert classify_outcome("abandoned") == "failure"
    assert classify_outcome("escalated") == classify_outcome("follow_up_required") == "other"
    assert classify_outcome(None, 5, 5) == "success"
    assert classify_outcome(None, 3, 5) == classify_outcome(None) == "other"


# Counting


def test_apply_counts_each_kind() -> None:
    store = Store()
    at = T0 + timedelta(hours=3)
    items = [
        event("session.started", "s1", "t1", at, scenarioId="healthcare-intake"),
        event(
            "session.finalized",
            "f1",
            "t1",
            at,
            scenarioId="healthcare-intake",
            outcome="success",
            durationSeconds=90.5,
            costUsd=0.158004,
        ),
        event("tool.executed", "x1", "t1", at, scenarioId="healthcare-intake", toolName="payment_reminder", ok=True),
        event("tool.executed", "x2", "t1", at, toolName="collect_documents_request", ok=True),
        event("tool.executed", "x3", "t1", at, toolName="collect_documents_request", ok=False),
        event("realtime.latency", "l1", "t1", at, scenarioId="healthcare-intake", latencyMs=420),
        event("lead.created", "ld1", "t1", at, status="new", tier="hot"),
        event(
            "lead.updated", "ld2", "t1", at, status="contacted", previousStatus="new", tier="warm", previousTier="hot"
        ),
        event("lead.updated", "ld3", "t1", at, tier="hot", previousTier="warm"),
        event("pilot.moved", "p1", "t1", at, status="invited"),
        event("pilot.moved", "p2", "t1", at, status="converted", previousStatus="invited"),
        event("exception.opened", "e1", "t1", at, scenarioId="healthcare-intake"),
        event("booking.requested", "b1", "t1", at),
        event("booking.confirmed", "b2", "t1", at),
    ]
    store.apply_all(items)
    hour = store.docs[("t1", hour_key(at).id)]
    total = store.docs[("t1", "total")]
    assert hour["counters"] == {
        "sessionsStarted": 1,
        "sessionsFinalized": 1,
        "outcomesSuccess": 1,
        "durationMsSum": 90_500,
        "costMicroUsd": 158_004,
        "costReported": 1,
        "toolsOk": 2,
        "toolsFailed": 1,
        "documentsRequested": 1,
        "paymentsFollowedUp": 1,
        "leadsCreated": 1,
        "leadsHot": 2,  # created hot, then hot again after a warm spell
        "pilotsCreated": 1,
        "pilotsConverted": 1,
        "exceptionsOpened": 1,
        "bookingsRequested": 1,
        "bookingsConfirmed": 1,
    }
    assert hour["leadsByStatus"] == {"contacted": 1}  # new +1 then -1: zero entries are dropped
    assert hour["leadsByTier"] == {"hot": 1}
    assert hour["pilotsByStatus"] == {"converted": 1}
    assert Histogram.from_json(hour["latency"]).count == 1
    assert total["latency"] is None  # latency samples stay in hour and day documents
    scenario = hour["scenarios"]["healthcare-intake"]
    assert scenario["counters"]["sessionsStarted"] == 1 and scenario["counters"]["paymentsFollowedUp"] == 1
    assert "documentsRequested" not in scenario["counters"]  # that tool call named no scenario
    assert Histogram.from_json(scenario["latency"]).quantile(0.5) == 420


def test_apply_never_mutates_its_input_and_checks_the_document() -> None:
    item = event("session.started", "s1", "t1", T0, scenarioId="healthcare-intake")
    doc = new_document("t1", hour_key(T0))
    before = copy.deepcopy(doc)
    result = apply(item, doc, now=T0)
    assert result.status == "applied" and doc == before and result.doc is not doc
    with pytest.raises(ValueError):
        apply(item, new_document("t2", hour_key(T0)), now=T0)  # another tenant
    with pytest.raises(ValueError):
        apply(item, new_document("t1", hour_key(T0 + timedelta(hours=1))), now=T0)  # another bucket
    with pytest.raises(ValueError):
        apply(item, {**doc, "schemaVersion": 99}, now=T0)


# Idempotency


def test_replaying_every_event_changes_nothing() -> None:
    items = scripted("t1", T0, 48, seed=7)
    store = Store()
    store.apply_all(items)
    first = counters_by_doc(store)
    applied = Counter(store.statuses)
    assert applied == Counter({"applied": applied["applied"]})
    # Replay everything twice, shuffled, within the horizon of the last event.
    now = items[-1].occurredAt
    replay = [item for item in items if item.occurredAt >= now - rollups.REPLAY_HORIZON] * 2
    random.Random(1).shuffle(replay)
    store.statuses.clear()
    for item in replay:
        store.apply(item, now=now)
    assert counters_by_doc(store) == first
    assert set(store.statuses) <= {"duplicate", "stale"}
    # Older replays are refused as stale rather than recounted.
    store.statuses.clear()
    for item in items[:50]:
        store.apply(item, now=now + timedelta(hours=1))
    assert counters_by_doc(store) == first
    assert set(store.statuses) == {"stale"}


def test_a_writer_that_failed_halfway_reapplies_to_every_document() -> None:
    item = event("session.started", "s1", "t1", T0, scenarioId="healthcare-intake")
    store = Store()
    hour_only = apply(item, new_document("t1", hour_key(T0)), now=T0)
    store.docs[("t1", hour_key(T0).id)] = hour_only.doc  # the day and total writes were lost
    assert store.apply(item) == ["duplicate", "applied", "applied"]
    assert all(doc["counters"] == {"sessionsStarted": 1} for doc in store.docs.values())


def test_the_applied_set_is_bounded_and_a_dropped_id_is_never_counted_again(monkeypatch) -> None:
    monkeypatch.setattr(rollups, "MAX_APPLIED_IDS", 50)
    rng = random.Random(2)
    store = Store()
    seen: list[MetricEvent] = []
    now = T0
    for number in range(600):
        now += timedelta(seconds=rng.choice([0, 0, 1, 5]))  # many events share a millisecond
        if seen and rng.random() < 0.3:
            item = rng.choice(seen)  # a replay, recent or old
        else:
            item = event("session.started", f"s{number}", "t1", now, scenarioId="healthcare-intake")
            seen.append(item)
        store.apply(item, now=now)
        for doc in store.docs.values():
            assert len(doc["applied"]) <= 50
            assert all(moment >= doc["watermark"] for moment in doc["applied"].values())
    total = store.docs[("t1", "total")]
    # Every distinct event counted at most once; each was applied at its own time, so exactly once.
    assert total["counters"]["sessionsStarted"] == len(seen)


def test_late_first_deliveries_past_the_horizon_are_refused_and_left_to_reconciliation() -> None:
    item = event("session.started", "s1", "t1", T0, scenarioId="healthcare-intake")
    later = T0 + rollups.REPLAY_HORIZON + timedelta(milliseconds=1)
    assert apply(item, new_document("t1", TOTAL), now=later).status == "stale"
    assert apply(item, new_document("t1", TOTAL), now=T0 + rollups.REPLAY_HORIZON).status == "applied"


def test_documents_stay_small_under_load() -> None:
    store = Store()
    now = T0
    for number in range(1200):  # 2400 events: past the applied-id cap of the total document
        now += timedelta(seconds=7)
        scenario = f"scenario-{number % 25}"
        store.apply(event("session.started", f"s{number}", "t1", now, scenarioId=scenario))
        store.apply(
            event("realtime.latency", f"l{number}", "t1", now, scenarioId=scenario, latencyMs=50 + number % 900)
        )
    for doc in store.docs.values():
        assert len(doc["applied"]) <= rollups.MAX_APPLIED_IDS
        assert len(json.dumps(doc)) < 200_000  # far below the 2 MB item cap


def test_scenarios_past_the_cap_count_at_tenant_level(monkeypatch) -> None:
    monkeypatch.setattr(rollups, "MAX_SCENARIOS", 2)
    store = Store()
    for number in range(4):
        store.apply(event("session.started", f"s{number}", "t1", T0, scenarioId=f"sc{number}"))
    total = store.docs[("t1", "total")]
    assert sorted(total["scenarios"]) == ["sc0", "sc1"]
    assert total["counters"] == {"sessionsStarted": 4, "scenarioOverflow": 2}


# Rebuild, drift and aggregation


def test_rebuild_reproduces_the_live_documents_and_drift_finds_differences() -> None:
    items = scripted("t1", T0, 30, seed=3)
    store = Store()
    store.apply_all(items)
    now = items[-1].occurredAt
    noise = [event("session.started", "other", "t2", T0, scenarioId="x")]
    for key in [TOTAL, *day_keys(T0, now + timedelta(seconds=1)), *hour_keys(T0, now)]:
        stored = store.docs.get(("t1", key.id)) or new_document("t1", key)
        rebuilt = rebuild("t1", key, [*items, *items[:10], *noise], now=now)
        assert drift(stored, rebuilt) == {}, key
    # A lost update shows up as drift, by path.
    day = day_key(T0)
    stored = copy.deepcopy(store.docs[("t1", day.id)])
    stored["counters"]["sessionsStarted"] -= 2
    stored["scenarios"]["healthcare-intake"]["counters"].pop("toolsOk", None)
    rebuilt = rebuild("t1", day, items, now=now)
    found = drift(stored, rebuilt)
    assert found["counters.sessionsStarted"] == 2
    assert found["scenarios.healthcare-intake.counters.toolsOk"] == rebuilt["scenarios"]["healthcare-intake"][
        "counters"
    ].get("toolsOk")


def test_a_rebuilt_document_keeps_refusing_replays() -> None:
    items = scripted("t1", T0, 5, seed=9)
    now = items[-1].occurredAt
    rebuilt = rebuild("t1", TOTAL, items, now=now)
    for item in items:
        if TOTAL in keys_for_event(item):
            assert apply(item, rebuilt, now=now).status in ("duplicate", "stale")


def test_aggregate_sums_documents() -> None:
    items = scripted("t1", T0, 24, seed=4)
    store = Store()
    store.apply_all(items)
    hours = aggregate(doc for doc in store.list() if doc["granularity"] == "hour")
    days = aggregate(doc for doc in store.list() if doc["granularity"] == "day")
    total = aggregate([store.docs[("t1", "total")]])
    assert hours.counters == days.counters == total.counters
    assert hours.latency == days.latency
    assert hours.latency.count == sum(item.kind == "realtime.latency" for item in items)
    assert total.leadsByStatus == days.leadsByStatus
    started = Counter(item.scenarioId for item in items if item.kind == "session.started")
    assert {sid: part.count("sessionsStarted") for sid, part in total.scenarios.items() if started[sid]} == started
