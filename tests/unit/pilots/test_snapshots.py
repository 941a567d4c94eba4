"""The weekly snapshot of a hand-built week: every number, the contract's shape and what a recompute changed."""

from __future__ import annotations

import random

from shared.pilots.snapshots import (
    METRIC_FIELDS,
    compute_snapshot,
    diff_snapshots,
    exceptions_from_sessions,
    snapshot_id,
    snapshot_view,
)
from shared.pilots.weeks import parse_week_id
from tests.unit.pilots.schemas import assert_valid, response_schema, snapshot_schema

TENANT = "clinic-north"
OTHER = "clinic-south"
PILOT = "PILOT-ABCDEFGH"
WEEK = parse_week_id("2026-W49")  # Monday 2026-11-30 .. Sunday 2026-12-06
NOW = "2026-12-07T06:00:00.000Z"
ROI = {
    "pilotId": PILOT,
    "tenantId": TENANT,
    "laborHourlyRateUsd": 30,
    "averageManualHandleTimeMinutes": 9,
    "appointmentValueUsd": 180,
    "noShowRecoveryValueUsd": 90,
    "collectionRecoveryValueUsd": 250,
    "afterHoursCaptureMultiplier": 1.5,
    "updatedAt": "2026-11-20T10:00:00.000Z",
}


def session(session_id: str, finalized_at: str | None, tenant: str = TENANT, **fields: object) -> dict:
    doc = {
        "id": session_id,
        "tenantId": tenant,
        "scenarioId": "healthcare-intake",
        "status": "finalized" if finalized_at else "active",
        "createdAt": "2026-11-30T07:55:00.000Z",
        **fields,
    }
    if finalized_at:
        doc["finalizedAt"] = finalized_at
    return doc


def ledger(entry_id: str, session_id: str, action: str, at: str, tenant: str = TENANT, **fields: object) -> dict:
    return {"id": entry_id, "sessionId": session_id, "tenantId": tenant, "action": action, "at": at, **fields}


def exception(item_id: str, status: str, created: str, tenant: str = TENANT, **fields: object) -> dict:
    return {"id": item_id, "tenantId": tenant, "sessionId": "s1", "status": status, "createdAt": created, **fields}


SESSIONS = [
    session(
        "s1",
        "2026-11-30T08:00:00.000Z",
        interactionSummary={"booking": {"requested": True, "status": "pending"}},
        workflowPolicy={"routingTag": "after_hours", "businessHoursOpen": False, "state": "completed"},
        _ts=1796000200,
    ),
    session("s2", "2026-12-02T15:00:00.000Z", bookingOutcome={"status": "slot_selected"}),
    session("s3", "2026-12-06T23:59:59.999Z", extractedData={"promiseToPayDate": "2026-12-15"}),
    session("s4", "2026-12-07T00:00:00.000Z", interactionSummary={"booking": {"requested": True}}),  # next week
    session("s5", "2026-11-29T23:59:59.999Z", bookingOutcome={"status": "captured"}),  # previous week
    session("s6", None, interactionSummary={"booking": {"requested": True}}),  # never finalized
    session("s7", "2026-12-01T10:00:00.000Z", tenant=OTHER, bookingOutcome={"status": "captured"}),
    session("s1", "2026-11-30T08:00:00.000Z", _ts=1796000100),  # an older copy of s1, read too
    session(
        "s8",
        "2026-12-03T21:30:00.000Z",
        workflowPolicy={"routingTag": "standard", "businessHoursOpen": False},
        toolsUsed=["lookup_client_engagement", "send_payment_link"],
        interactionSummary={"disposition": "resolved", "booking": {"requested": False}},
    ),
    session(
        "s9",
        "2026-12-04T11:00:00.000Z",
        toolsUsed=["send_payment_link"],
        interactionSummary={"disposition": "follow_up_required"},
        extractedData={"promiseToPayDate": "  "},
    ),
]
LEDGER = [
    ledger("e1", "s2", "confirm", "2026-12-03T10:00:00.000Z", fromStatus="slot_selected", toStatus="confirmed"),
    ledger("e2", "s2", "confirm", "2026-12-04T09:00:00.000Z", fromStatus="reschedule_requested", toStatus="confirmed"),
    ledger("e3", "s2", "send_reminder", "2026-12-05T09:00:00.000Z", fromStatus="confirmed", toStatus="confirmed"),
    ledger("e4", "s-old", "confirm", "2026-12-01T12:00:00.000Z"),  # a call of an earlier week, confirmed now
    ledger("e5", "s9", "confirm", "2026-12-07T00:00:00.000Z"),  # next week
    ledger("e6", "s7", "confirm", "2026-12-02T12:00:00.000Z", tenant=OTHER),
    ledger("e7", "s-old", "complete_no_show_recovery", "2026-12-02T08:00:00.000Z"),
    ledger("e8", "s-old", "complete_no_show_recovery", "2026-11-29T08:00:00.000Z"),  # previous week
]
EXCEPTIONS = [
    exception("x1", "open", "2026-11-20T10:00:00.000Z"),
    exception("x2", "resolved", "2026-11-25T10:00:00.000Z", resolvedAt="2026-12-03T10:00:00.000Z"),
    exception("x3", "resolved", "2026-12-01T10:00:00.000Z", resolvedAt="2026-12-08T10:00:00.000Z"),
    exception("x4", "open", "2026-12-07T00:00:00.000Z"),
    exception("x5", "ignored", "2026-11-28T10:00:00.000Z", updatedAt="2026-12-02T10:00:00.000Z"),
    {"id": "x6", "tenantId": TENANT, "sessionId": "s2", "errorType": "no_slot", "timestamp": "2026-12-02T10:00:00Z"}
    | {"status": "open", "errorMessage": "no slot"},
    exception("x7", "open", "2026-12-01T10:00:00.000Z", tenant=OTHER),
    exception("x8", "resolved", "2026-12-01T10:00:00.000Z", updatedAt="2026-12-04T10:00:00.000Z"),
    exception("x9", "resolved", "2026-11-10T10:00:00.000Z", resolvedAt="2026-11-29T10:00:00.000Z"),
    exception("x1", "open", "2026-11-20T10:00:00.000Z"),  # read twice
]


def compute(**overrides: object) -> dict:
    arguments = {
        "tenant_id": TENANT,
        "pilot_id": PILOT,
        "week": WEEK,
        "sessions": SESSIONS,
        "ledger_entries": LEDGER,
        "exceptions": EXCEPTIONS,
        "roi": ROI,
        "now": NOW,
    }
    arguments.update(overrides)
    return compute_snapshot(**arguments)


def test_the_hand_built_week() -> None:
    # Handled: s1, s2, s3, s8, s9 (s4 next week, s5 last week, s6 never finalized, s7 another tenant).
    # After hours: s1 (routing tag), s8 (closed). Bookings asked: s1 (summary), s2 (outcome).
    # Confirmed: s2 (twice, once), s-old. Collections: s3 (promise), s8 (link, resolved); s9 neither.
    # Exceptions open at week end: x1, x3 (resolved after the week), x6. Resolved in the week: x2, x8.
    hours = 5 * 9 / 60
    labour = (3 + 2 * 1.5) * 9 / 60 * 30
    value = labour + 2 * 180 + 1 * 90 + 2 * 250
    assert compute() == {
        "pilotId": PILOT,
        "tenantId": TENANT,
        "weekId": "2026-W49",
        "weekStart": "2026-11-30",
        "weekEnd": "2026-12-06",
        "callsHandled": 5,
        "missedCallsRecovered": 2,
        "bookingsRequested": 2,
        "bookingsConfirmed": 2,
        "exceptionsOpen": 3,
        "exceptionsResolved": 2,
        "estimatedTimeSavedHours": 0.75,
        "estimatedValueRecoveredUsd": 977.0,
        "createdAt": NOW,
    }
    assert round(hours, 2) == 0.75 and value == 977.0


def test_the_snapshot_is_the_contracts_object() -> None:
    snapshot = compute()
    assert_valid(snapshot_schema(), snapshot)
    listing = response_schema("/api/cp/pilots/{pilotId}/snapshots", "get")
    assert_valid(listing, {"tenantId": TENANT, "pilotId": PILOT, "snapshots": [snapshot]})
    assert list(snapshot_schema()["required"]) == [*snapshot_view(snapshot)]
    stored = {**snapshot, "id": snapshot_id(PILOT, WEEK), "type": "pilotSnapshot", "_etag": "x"}
    assert snapshot_view(stored) == snapshot


def test_input_order_does_not_matter() -> None:
    generator = random.Random(49)
    for _ in range(5):
        shuffled = {
            "sessions": generator.sample(SESSIONS, len(SESSIONS)),
            "ledger_entries": generator.sample(LEDGER, len(LEDGER)),
            "exceptions": generator.sample(EXCEPTIONS, len(EXCEPTIONS)),
        }
        assert compute(**shuffled) == compute()


def test_another_tenants_documents_change_nothing() -> None:
    foreign = [dict(doc, tenantId=OTHER, id=f"{doc['id']}-x") for doc in SESSIONS]
    assert compute(sessions=SESSIONS + foreign) == compute()
    only_foreign = compute(sessions=foreign, ledger_entries=[], exceptions=[])
    assert [only_foreign[name] for name in METRIC_FIELDS] == [0] * len(METRIC_FIELDS)


def test_without_roi_assumptions_nothing_is_estimated() -> None:
    snapshot = compute(roi=None)
    assert snapshot["estimatedTimeSavedHours"] == 0.0
    assert snapshot["estimatedValueRecoveredUsd"] == 0.0
    assert snapshot["callsHandled"] == 5


def test_missing_or_malformed_assumptions_contribute_nothing() -> None:
    labour_only = {"laborHourlyRateUsd": 30, "averageManualHandleTimeMinutes": 9}
    assert compute(roi=labour_only)["estimatedValueRecoveredUsd"] == 5 * 9 / 60 * 30
    hostile = {**labour_only, "appointmentValueUsd": float("nan"), "noShowRecoveryValueUsd": -5}
    hostile |= {"collectionRecoveryValueUsd": True, "afterHoursCaptureMultiplier": "2"}
    assert compute(roi=hostile)["estimatedValueRecoveredUsd"] == 22.5


def test_rounding_is_half_up_to_cents() -> None:
    snapshot = compute(roi={"laborHourlyRateUsd": 33.33, "averageManualHandleTimeMinutes": 7})
    assert snapshot["estimatedTimeSavedHours"] == 0.58  # 35 / 60 = 0.5833...
    assert snapshot["estimatedValueRecoveredUsd"] == 19.44  # 0.58333 × 33.33 = 19.4425


def test_an_empty_week_is_all_zero() -> None:
    snapshot = compute(sessions=[], ledger_entries=[], exceptions=[])
    assert [snapshot[name] for name in METRIC_FIELDS] == [0, 0, 0, 0, 0, 0, 0.0, 0.0]
    assert_valid(snapshot_schema(), snapshot)


def test_the_year_end_week_uses_its_own_bounds() -> None:
    week = parse_week_id("2026-W53")
    docs = [
        session("a", "2026-12-28T00:00:00.000Z"),
        session("b", "2027-01-03T23:59:59.000Z"),
        session("c", "2027-01-04T00:00:00.000Z"),
        session("d", "2026-12-27T23:59:59.999Z"),
    ]
    snapshot = compute(week=week, sessions=docs, ledger_entries=[], exceptions=[], roi=None)
    assert (snapshot["weekId"], snapshot["weekStart"], snapshot["weekEnd"]) == ("2026-W53", "2026-12-28", "2027-01-03")
    assert snapshot["callsHandled"] == 2


def test_booking_exceptions_embedded_in_sessions_are_collected() -> None:
    docs = [
        session("s1", "2026-12-01T10:00:00.000Z", bookingExceptions=[{"id": "b1", "status": "open", "createdAt": NOW}]),
        session("s2", "2026-12-01T10:00:00.000Z", tenant=OTHER, bookingExceptions=[{"id": "b2", "status": "open"}]),
        session("s3", "2026-12-01T10:00:00.000Z"),
    ]
    items = exceptions_from_sessions(docs)
    assert items == [
        {"tenantId": TENANT, "sessionId": "s1", "id": "b1", "status": "open", "createdAt": NOW},
        {"tenantId": OTHER, "sessionId": "s2", "id": "b2", "status": "open"},
    ]
    embedded = [
        session(
            "s1",
            "2026-12-01T10:00:00.000Z",
            bookingExceptions=[
                {"id": "b1", "status": "open", "createdAt": "2026-12-01T10:00:00.000Z"},
                {"id": "b2", "status": "resolved", "createdAt": "2026-12-01T10:00:00.000Z"}
                | {"resolvedAt": "2026-12-02T10:00:00.000Z"},
            ],
        )
    ]
    snapshot = compute(sessions=embedded, exceptions=exceptions_from_sessions(embedded))
    assert (snapshot["exceptionsOpen"], snapshot["exceptionsResolved"]) == (1, 1)


def test_a_recompute_says_what_changed() -> None:
    before = compute()
    later = compute(
        ledger_entries=[*LEDGER, ledger("e9", "s1", "confirm", "2026-12-05T10:00:00.000Z")],
        now="2026-12-08T09:00:00.000Z",
    )
    assert diff_snapshots(before, later) == {
        "bookingsConfirmed": {"from": 2, "to": 3},
        "estimatedValueRecoveredUsd": {"from": 977.0, "to": 1157.0},
    }
    assert diff_snapshots(before, compute(now="2026-12-09T00:00:00.000Z")) == {}


def test_a_first_snapshot_lists_every_metric_as_new() -> None:
    snapshot = compute()
    changes = diff_snapshots(None, snapshot)
    assert list(changes) == list(METRIC_FIELDS)
    assert changes["callsHandled"] == {"from": None, "to": 5}


def test_the_snapshot_id_is_one_per_pilot_and_week() -> None:
    assert snapshot_id(PILOT, WEEK) == "PILOT-ABCDEFGH:2026-W49"
    assert snapshot_id(PILOT, WEEK.next()) != snapshot_id(PILOT, WEEK)
