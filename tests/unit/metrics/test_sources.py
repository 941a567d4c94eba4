"""The events a session document stands for, and `record`'s promise never to fail its caller."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.metrics import rollups, sources
from shared.metrics import service as metrics
from shared.metrics.models import MetricBatch, MetricEvent
from shared.platform.store import queues
from shared.results import cost

CREATED = "2025-04-02T09:15:00.000Z"
FINALIZED = "2025-04-02T09:21:30.500Z"


def session(**fields: Any) -> dict[str, Any]:
    doc = {
        "id": "s1",
        "tenantId": "t1",
        "scenarioId": "legal-pi-intake",
        "createdAt": CREATED,
        "beatsCompleted": 3,
        "totalBeats": 5,
        "duration": 0,
    }
    doc.update(fields)
    return doc


def finalized(**fields: Any) -> dict[str, Any]:
    defaults = {
        "finalizedAt": FINALIZED,
        "duration": 391.5,
        "tokenUsage": {"inputTokens": 12_000, "outputTokens": 3_000, "totalTokens": 15_000},
        "interactionSummary": {"disposition": "booked"},
    }
    return session(**{**defaults, **fields})


def test_a_started_session_is_one_event_at_its_creation():
    (event,) = sources.session_started(session())
    assert (event.id, event.kind, event.tenantId, event.sessionId, event.scenarioId) == (
        "session.started:s1",
        "session.started",
        "t1",
        "s1",
        "legal-pi-intake",
    )
    assert event.occurredAt == datetime(2025, 4, 2, 9, 15, tzinfo=UTC)
    assert sources.session_finalized(session()) == [] and sources.booking_confirmed(session()) == []
    assert sources.session_started(session(createdAt=None)) == []


def test_a_finalized_session_carries_outcome_duration_and_the_cost_its_endpoint_answers():
    (event,) = sources.session_finalized(finalized())
    assert (event.id, event.outcome, event.durationSeconds) == ("session.finalized:s1", "success", 391.5)
    expected = cost.estimate(12_000, 3_000, "gpt-realtime", cost.price_table(""))["estimatedCostUsd"]
    assert event.costUsd == expected
    assert event.occurredAt == datetime(2025, 4, 2, 9, 21, 30, 500_000, tzinfo=UTC)
    # The session's own realtime deployment prices it.
    (mini,) = sources.session_finalized(finalized(realtimeSnapshot={"realtimeDeployment": "gpt-realtime-mini"}))
    assert mini.costUsd == cost.estimate(12_000, 3_000, "gpt-realtime-mini", cost.price_table(""))["estimatedCostUsd"]


@pytest.mark.parametrize(
    ("summary", "beats", "outcome"),
    [
        ({"disposition": "resolved"}, (0, 5), "success"),
        ({"disposition": "qualified"}, (0, 5), "success"),
        ({"disposition": "abandoned"}, (5, 5), "failure"),
        ({"disposition": "escalated"}, (5, 5), "other"),
        ({}, (5, 5), "success"),
        ({}, (4, 5), "other"),
        (None, (0, 0), "other"),
    ],
)
def test_the_outcome_follows_the_disposition_then_the_beats(summary, beats, outcome):
    doc = finalized(beatsCompleted=beats[0], totalBeats=beats[1])
    doc["interactionSummary"] = summary
    assert sources.session_finalized(doc)[0].outcome == outcome


def test_a_finalized_call_with_a_booking_requested_it_at_finalize_time_and_confirmed_it_once():
    doc = finalized(bookingOutcome={"status": "slot_selected"}, bookingConfirmedAt="2025-04-02T10:00:00.000Z")
    kinds = [(event.kind, event.id) for event in sources.session_events(doc)]
    assert kinds == [
        ("session.started", "session.started:s1"),
        ("session.finalized", "session.finalized:s1"),
        ("booking.requested", "booking.requested:s1"),
        ("booking.confirmed", "booking.confirmed:s1"),
    ]
    (confirmed,) = sources.booking_confirmed(doc)
    assert confirmed.occurredAt == datetime(2025, 4, 2, 10, tzinfo=UTC)


def test_unpriceable_or_odd_figures_never_break_the_derivation(monkeypatch):
    from shared.platform import settings as settings_module

    broken = dataclasses.replace(settings_module.get_settings(), realtime_price_table="{oops")
    monkeypatch.setattr(settings_module, "get_settings", lambda: broken)
    doc = finalized(duration=float("nan"), beatsCompleted=True, tokenUsage="lots")
    (event,) = sources.session_finalized(doc)
    assert (event.costUsd, event.durationSeconds) == (None, 0.0)
    assert sources.session_finalized(finalized(duration=10**9))[0].durationSeconds == 24 * 3600


def test_the_feed_names_a_scenario_by_its_catalog_title():
    from shared.catalog import content

    assert sources.scenario_title("legal-pi-intake") == content.scenarios()["legal-pi-intake"]["title"]
    assert sources.scenario_title("not-in-catalog") == "not-in-catalog"


def events(count: int) -> list[MetricEvent]:
    return [
        MetricEvent(
            id=f"session.started:x{index}",
            kind="session.started",
            tenantId="t1",
            occurredAt=datetime(2025, 4, 2, tzinfo=UTC),
            scenarioId="legal-pi-intake",
        )
        for index in range(count)
    ]


def test_record_queues_one_message_per_call_split_at_the_batch_limit(monkeypatch):
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(queues, "enqueue", lambda name, payload, **kwargs: sent.append((name, payload)) or "id")
    metrics.record(*events(MetricBatch.MAX_EVENTS * 2 + 1))
    assert [len(payload["events"]) for _, payload in sent] == [100, 100, 1]
    assert {name for name, _ in sent} == {"metrics-events"}
    # What goes on the queue is what the queue function parses back.
    batch = MetricBatch.model_validate(json.loads(json.dumps(sent[0][1])))
    assert batch.events[0] == events(1)[0]


def test_record_never_raises(monkeypatch, caplog):
    def down(name: str, payload: dict, **kwargs: Any) -> str:
        raise RuntimeError("queue down")

    monkeypatch.setattr(queues, "enqueue", down)
    metrics.record(*events(3))
    metrics.record_session({"id": "broken"}, started=True, finalized=True)  # not even a session
    metrics.record_booking_confirmed({"id": "broken", "bookingConfirmedAt": "2025-01-01T00:00:00Z"})
    assert "queueing 3 event(s) failed" in caplog.text
    assert "could not be derived" in caplog.text


def test_a_batch_holds_one_to_a_hundred_events():
    with pytest.raises(ValidationError):
        MetricBatch(events=[])
    with pytest.raises(ValidationError):
        MetricBatch(events=events(101))


def test_exceptions_may_carry_a_reason_code_for_the_feed_and_other_kinds_may_not():
    opened = MetricEvent(
        id="exception.opened:e1",
        kind="exception.opened",
        tenantId="t1",
        occurredAt=datetime(2025, 4, 2, tzinfo=UTC),
        scenarioId="legal-pi-intake",
        reasonCode="connector_unavailable",
    )
    assert rollups.apply(opened, rollups.new_document("t1", rollups.TOTAL), now=opened.occurredAt).status == "applied"
    with pytest.raises(ValidationError):
        MetricEvent(**{**opened.model_dump(), "kind": "session.started", "id": "session.started:x"})
    with pytest.raises(ValidationError):
        MetricEvent(**{**opened.model_dump(), "reasonCode": "has spaces"})


def test_reconciliation_raises_counters_to_the_recount_and_never_lowers_them():
    doc = rollups.new_document("t1", rollups.TOTAL)
    doc["counters"] = {"sessionsStarted": 5, "toolsOk": 7}
    doc["scenarios"] = {"a": {"counters": {"sessionsStarted": 5}, "latency": None}}
    expected = {(None, "sessionsStarted"): 6, ("a", "sessionsStarted"): 4, ("b", "sessionsFinalized"): 2}
    added = metrics._raise_to(doc, expected)
    assert added == {(None, "sessionsStarted"): 1, ("b", "sessionsFinalized"): 2}
    assert doc["counters"] == {"sessionsStarted": 6, "toolsOk": 7}  # other domains' counters untouched
    assert doc["scenarios"]["a"]["counters"] == {"sessionsStarted": 5}
    assert doc["scenarios"]["b"] == {"counters": {"sessionsFinalized": 2}, "latency": None}


def pilot(**fields: Any) -> dict[str, Any]:
    doc = {
        "pilotId": "PILOT-ABCDEFGH",
        "tenantId": "t1",
        "status": "invited",
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "statusChangedAt": CREATED,
        "_etag": '"etag-1"',
    }
    doc.update(fields)
    return doc


def test_a_pilot_creation_and_each_status_move_are_pilot_moved_events_keyed_by_the_etag():
    [created] = sources.pilot_moved(None, pilot())
    assert (created.id, created.kind, created.status, created.previousStatus) == (
        "pilot.moved:PILOT-ABCDEFGH:etag-1",
        "pilot.moved",
        "invited",
        None,
    )
    assert created.occurredAt == datetime(2025, 4, 2, 9, 15, tzinfo=UTC)
    moved = pilot(status="setup", statusChangedAt=FINALIZED, _etag='"etag-2"')
    [event] = sources.pilot_moved(pilot(), moved)
    assert (event.id, event.status, event.previousStatus) == ("pilot.moved:PILOT-ABCDEFGH:etag-2", "setup", "invited")
    assert event.occurredAt.second == 30
    assert sources.pilot_moved(pilot(), pilot(organizationName="Renamed", _etag='"etag-3"')) == []
    assert sources.pilot_moved(None, pilot(_etag=None)) == []
    rollup_counts = [rollups.keys_for_event(event) for event in (created, event)]
    assert all(rollup_counts)
