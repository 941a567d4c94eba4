"""A scripted day of real sessions, finalizes and bookings: the dashboard equals a recount of the raw sessions.

The clock is moved through yesterday (UTC), so the nightly reconciliation timer, fired at 02:15 the next day,
recounts exactly the scripted day. The recount below reads the session documents themselves and applies the
definitions of docs/ARCHITECTURE.md independently of the metrics code.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from shared.metrics import rollups
from shared.metrics import service as metrics
from shared.platform import clock
from shared.platform.store import queues
from shared.platform.store.registry import METRICS_EVENTS_QUEUE
from shared.results import cost
from shared.sessions import aggregate
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id
from tests.support.sessions import finalize_payload, key_headers, start_session

DAY = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
READ_AT = DAY + timedelta(days=1, hours=2, minutes=15)
SCENARIOS = ("legal-pi-intake", "banking-lost-card", "vet-appointment-booking", "dental-recall-booking")
DISPOSITIONS = ("resolved", "booked", "qualified", "abandoned", "escalated", "follow_up_required", None)
SUCCESS = {"resolved", "booked", "qualified"}


@dataclass
class Call:
    at: datetime
    scenario: str
    disposition: str | None
    beats: tuple[int, int]
    duration: int
    tokens: tuple[int, int]
    booking: str | None  # None, "requested", "confirmed" or "reconfirmed"
    held: bool


def script(seed: int) -> list[Call]:
    rng = random.Random(seed)
    calls = []
    for hour in range(6, 23):
        for _ in range(rng.choice((0, 1, 1, 2))):
            total = rng.randint(4, 7)
            calls.append(
                Call(
                    at=DAY + timedelta(hours=hour, minutes=rng.randint(0, 40)),
                    scenario=rng.choice(SCENARIOS),
                    disposition=rng.choice(DISPOSITIONS),
                    beats=(rng.choice((total, rng.randint(0, total))), total),
                    duration=rng.randint(30, 900),
                    tokens=(rng.randint(1_000, 40_000), rng.randint(500, 9_000)),
                    booking=rng.choice((None, None, "requested", "confirmed", "reconfirmed")),
                    held=rng.random() < 0.8,
                )
            )
    return calls


def in_days(moment: datetime, days: int) -> str:
    return clock.iso(moment + timedelta(days=days))


def finalize_body(call: Call, session_id: str | None) -> dict:
    summary: dict = {"channel": "voice"}
    if call.disposition:
        summary["disposition"] = call.disposition
    if call.booking:
        summary["booking"] = {"requested": True, "status": "pending", "scheduledFor": in_days(call.at, 2)}
    body = finalize_payload(
        call.scenario,
        interactionSummary=summary,
        beatsCompleted=call.beats[0],
        totalBeats=call.beats[1],
        duration=call.duration,
        totalInputTokens=call.tokens[0],
        totalOutputTokens=call.tokens[1],
        extractedData={"fullName": "Sam"},
    )
    if session_id:
        body["sessionId"] = session_id
    return body


def run_call(client, fake_clock, operator: dict, call: Call) -> None:
    fake_clock.set(call.at)
    if call.held:
        session = start_session(client, call.scenario, headers=operator)
        fake_clock.set(call.at + timedelta(minutes=5))
        response = client.post(
            "/api/sessions/finalize", json=finalize_body(call, session["sessionId"]), headers=key_headers(session)
        )
    else:
        fake_clock.set(call.at + timedelta(minutes=5))
        response = client.post("/api/sessions/finalize", json=finalize_body(call, None), headers=operator)
        session = response.json()
    assert response.status_code == 200, response.text
    if call.booking in ("confirmed", "reconfirmed"):
        fake_clock.set(call.at + timedelta(minutes=20))
        path = f"/api/sessions/{session['sessionId']}/booking-lifecycle"
        assert client.patch(path, json={"action": "confirm"}, headers=key_headers(session)).status_code == 200
        if call.booking == "reconfirmed":
            fake_clock.set(call.at + timedelta(minutes=40))
            assert (
                client.patch(path, json={"action": "request_reschedule"}, headers=key_headers(session)).status_code
                == 200
            )
            again = {"action": "confirm", "scheduledFor": in_days(call.at, 3)}
            assert client.patch(path, json=again, headers=key_headers(session)).status_code == 200


def raw_sessions(tenant: str) -> list[dict]:
    return aggregate.query(tenant, "SELECT * FROM c WHERE c.tenantId = @tenantId", {})


def outcome(doc: dict) -> str:
    disposition = (doc.get("interactionSummary") or {}).get("disposition")
    if disposition in SUCCESS:
        return "success"
    if disposition == "abandoned":
        return "failure"
    if disposition is None and doc["totalBeats"] > 0 and doc["beatsCompleted"] >= doc["totalBeats"]:
        return "success"
    return "other"


def at(value: str) -> datetime:
    return clock.parse_iso(value)


def recount(tenant: str, now: datetime) -> dict:
    """The dashboard's figures, counted from the session documents."""
    docs = raw_sessions(tenant)
    finalized = [doc for doc in docs if doc.get("finalizedAt")]
    window_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    recent_start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    in_window = [doc for doc in docs if at(doc["createdAt"]) >= window_start]
    finalized_in_window = [doc for doc in finalized if at(doc["finalizedAt"]) >= window_start]
    recent_started = [doc for doc in docs if at(doc["createdAt"]) >= recent_start]
    recent_finalized = [doc for doc in finalized if at(doc["finalizedAt"]) >= recent_start]
    table = cost.price_table("")
    spent = sum(
        cost.estimate(doc["tokenUsage"]["inputTokens"], doc["tokenUsage"]["outputTokens"], "gpt-realtime", table)[
            "estimatedCostUsd"
        ]
        for doc in finalized_in_window
    )
    per_scenario: dict[str, dict] = {}
    for doc in docs:
        row = per_scenario.setdefault(
            doc["scenarioId"], {"started": 0, "finalized": 0, "success": 0, "failure": 0, "duration": 0.0}
        )
        row["started"] += 1
        if doc.get("finalizedAt"):
            row["finalized"] += 1
            row["duration"] += doc["duration"]
            row[outcome(doc)] = row.get(outcome(doc), 0) + 1
    calls_by_hour: dict[str, int] = {}
    for doc in in_window:
        hour = at(doc["createdAt"]).replace(minute=0, second=0, microsecond=0)
        calls_by_hour[clock.iso(hour)] = calls_by_hour.get(clock.iso(hour), 0) + 1
    return {
        "totalSessions": len(docs),
        "callsHandled": len(finalized),
        "activeSessions": len(recent_started) - len(recent_finalized),
        "bookingsRequested": sum(1 for doc in finalized if doc.get("bookingOutcome")),
        "bookingsConfirmed": sum(1 for doc in docs if doc.get("bookingConfirmedAt")),
        "callsToday": len(in_window),
        "cost24hUsd": round(spent, 6),
        "perScenario": per_scenario,
        "callsByHour": calls_by_hour,
    }


def check_dashboard(client, operator: dict, expected: dict) -> None:
    dashboard = client.get("/api/cp/metrics", headers=operator).json()
    assert dashboard["totalSessions"] == expected["totalSessions"]
    assert dashboard["activeSessions"] == expected["activeSessions"]
    assert (dashboard["totalLeads"], dashboard["errorRate"], dashboard["systemHealth"]) == (0, 0, "healthy")

    overview = client.get("/api/cp/metrics/overview", headers=operator).json()
    assert overview["callsHandled"] == expected["callsHandled"]
    assert overview["bookingsRequested"] == expected["bookingsRequested"]
    assert overview["bookingsConfirmed"] == expected["bookingsConfirmed"]

    summary = client.get("/api/cp/metrics/summary", headers=operator).json()
    assert summary["callsToday"] == expected["callsToday"]
    assert summary["callsTodayDelta"] == expected["callsToday"]  # nothing in the 24 h before
    assert summary["cost24hUsd"] == pytest.approx(expected["cost24hUsd"], abs=1e-6)
    assert summary["activeScenarios"] == len(expected["perScenario"])
    assert summary["avgLatencyMs"] is None and summary["errorRatePct"] is None

    rows = {
        row["scenarioId"]: row for row in client.get("/api/cp/metrics/scenarios", headers=operator).json()["scenarios"]
    }
    assert set(rows) == set(expected["perScenario"])
    for scenario, figures in expected["perScenario"].items():
        row = rows[scenario]
        assert row["totalSessions"] == figures["started"]
        assert row["successfulOutcomes"] == figures["success"]
        assert row["failedOutcomes"] == figures["failure"]
        mean = figures["duration"] / figures["finalized"] if figures["finalized"] else 0.0
        assert row["averageDurationSeconds"] == round(mean, 1)

    health = client.get("/api/cp/metrics/scenario-health", headers=operator).json()
    by_id = {row["scenarioId"]: row for row in health["rows"]}
    for scenario, figures in expected["perScenario"].items():
        row = by_id[scenario]
        assert row["callsLast24h"] == figures["started"]
        rate = round(figures["success"] / figures["finalized"] * 100, 2) if figures["finalized"] else None
        assert row["completionRatePct"] == rate

    trends = client.get("/api/cp/metrics/trends", params={"window": "24h"}, headers=operator).json()
    assert trends["resolution"] == "hour" and len(trends["series"]["callsByHour"]) == 24
    assert {point["t"]: point["value"] for point in trends["series"]["callsByHour"] if point["value"]} == expected[
        "callsByHour"
    ]


def test_a_scripted_day_matches_a_recount_and_reconciliation_repairs_a_lost_event(
    client, tokens, fake_clock, drain, settings_env, caplog
):
    settings_env.setenv("RATE_LIMITS", "create_session=1000/60,finalize_session=1000/60")
    reset_clients()
    tenant, bystander = new_tenant_id("day"), new_tenant_id("day")
    operator, other = tokens.headers(tenant, "operator"), tokens.headers(bystander, "operator")
    calls = script(seed=17)
    assert len(calls) >= 15 and any(call.booking == "reconfirmed" for call in calls)
    for call in calls:
        run_call(client, fake_clock, operator, call)
        drain()  # the queue trigger runs within seconds of the request
    # Two calls of another tenant, and two calls of ours that never end: one yesterday, one live at read time.
    for call in script(seed=5)[:2]:
        run_call(client, fake_clock, other, call)
    fake_clock.set(DAY + timedelta(hours=9))
    start_session(client, SCENARIOS[0], headers=operator)
    fake_clock.set(READ_AT - timedelta(minutes=20))
    start_session(client, SCENARIOS[1], headers=operator)
    fake_clock.set(READ_AT)
    drain()

    expected = recount(tenant, READ_AT)
    assert expected["activeSessions"] == 1 and expected["bookingsConfirmed"] < expected["bookingsRequested"]
    check_dashboard(client, operator, expected)

    # The live feed: every start and every completion, once, oldest first.
    feed = client.get("/api/cp/metrics/sessions/events", headers=operator).json()
    kinds = [event["eventType"] for event in feed["events"]]
    assert kinds.count("session.started") == expected["totalSessions"]
    assert kinds.count("session.completed") == expected["callsHandled"]
    assert {event["tenantId"] for event in feed["events"]} == {tenant}
    assert [event["occurredAt"] for event in feed["events"]] == sorted(event["occurredAt"] for event in feed["events"])

    # A call whose metrics message is lost (the queue refuses it): the call itself still succeeds.
    real_enqueue = queues.enqueue

    def refuse_metrics(name, payload, **kwargs):
        if name == METRICS_EVENTS_QUEUE:
            raise ConnectionError("queue down")
        return real_enqueue(name, payload, **kwargs)

    lost = Call(DAY + timedelta(hours=23, minutes=10), SCENARIOS[2], "booked", (5, 5), 120, (2_000, 800), None, True)
    fake_clock.set(lost.at)
    session = start_session(client, lost.scenario, headers=operator)
    fake_clock.set(lost.at + timedelta(minutes=5))
    settings_env.setattr(queues, "enqueue", refuse_metrics)
    with caplog.at_level(logging.ERROR, logger="tellgence.metrics"):
        response = client.post(
            "/api/sessions/finalize", json=finalize_body(lost, session["sessionId"]), headers=key_headers(session)
        )
    assert response.status_code == 200
    assert "queueing 2 event(s) failed" not in caplog.text and "queueing 1 event(s) failed" in caplog.text
    settings_env.setattr(queues, "enqueue", real_enqueue)
    fake_clock.set(READ_AT)
    drain()
    expected = recount(tenant, READ_AT)
    overview = client.get("/api/cp/metrics/overview", headers=operator).json()
    assert overview["callsHandled"] == expected["callsHandled"] - 1

    # 02:15 the next day: the reconciliation timer recounts yesterday, reports the drift and repairs it.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tellgence.metrics"):
        report = metrics.reconcile_day(DAY.date(), tenants=[tenant, bystander])
    drifts = {entry.document_id: entry for entry in report.drifts if entry.tenant_id == tenant}
    hour_id, day_id = rollups.hour_key(lost.at).id, rollups.day_key(lost.at).id
    assert set(drifts) == {hour_id, day_id}
    for entry in drifts.values():
        assert entry.drift["counters.sessionsFinalized"] == 1
        assert entry.drift[f"scenarios[{lost.scenario}].counters.outcomesSuccess"] == 1
        assert entry.repaired == entry.drift
    assert f"metrics drift tenant={tenant} document={day_id}" in caplog.text
    check_dashboard(client, operator, expected)
    assert client.get("/api/cp/metrics/overview", headers=operator).json()["callsHandled"] == expected["callsHandled"]

    # Idempotent: a second run finds nothing, and the total is not added to twice.
    again = metrics.reconcile_day(DAY.date(), tenants=[tenant, bystander])
    assert (again.drifts, again.sessions, again.documents) == ([], report.sessions, 50)
    check_dashboard(client, operator, expected)

    # A stored figure above the recount (its sessions expired) is reported, never lowered.
    day_doc = metrics.rollup_store.read(day_id, tenant)
    day_doc["counters"]["sessionsStarted"] += 3
    metrics.rollup_store.replace(day_doc)
    surplus = metrics.reconcile_day(DAY.date(), tenants=[tenant])
    assert [(entry.document_id, entry.drift, entry.repaired) for entry in surplus.drifts] == [
        (day_id, {"counters.sessionsStarted": -3}, {})
    ]
    assert (
        metrics.rollup_store.read(day_id, tenant)["counters"]["sessionsStarted"]
        == day_doc["counters"]["sessionsStarted"]
    )


def test_the_reconciliation_timer_recounts_yesterday(client, tokens, fake_clock, drain, devhost, caplog):
    tenant = new_tenant_id("recon")
    operator = tokens.headers(tenant, "operator")
    call = Call(DAY + timedelta(hours=4), SCENARIOS[3], "resolved", (5, 5), 300, (5_000, 1_000), "confirmed", True)
    run_call(client, fake_clock, operator, call)
    fake_clock.set(READ_AT)
    drain()
    with caplog.at_level(logging.INFO, logger="tellgence.metrics"):
        devhost.fire_timer("reconcile_metrics_rollups")
    assert f"metrics reconciliation day {DAY.date().isoformat()}:" in caplog.text
    assert f"metrics drift tenant={tenant}" not in caplog.text
