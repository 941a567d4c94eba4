"""Weekly snapshots from real finished sessions (the Monday timer through the dev host), recompute, attestations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from shared.pilots import attestations
from shared.platform import clock
from shared.platform.store import metering
from shared.sessions import aggregate
from tests.integration.pilots.conftest import create_pilot
from tests.support.identity import new_tenant_id
from tests.support.leads import outbox_messages
from tests.support.sessions import finalize_payload, key_headers, start_session

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # ISO week 2026-W10
WEEK = "2026-W10"
WEDNESDAY = MONDAY + timedelta(days=2, hours=10)
NEXT_MONDAY = MONDAY + timedelta(days=7, hours=6)
ROI = {
    "laborHourlyRateUsd": 30,
    "averageManualHandleTimeMinutes": 6,
    "appointmentValueUsd": 150,
    "noShowRecoveryValueUsd": 80,
}
LINK = re.compile(r"/attest/([A-Za-z0-9_.-]+)")


def finished_call(client, operator, *, booking: bool = True, email: str | None = "dana@example.com") -> dict:
    """A finalized call of the operator's tenant, with a booking request when `booking`."""
    session = start_session(client, "dental-recall-booking", headers=operator)
    summary: dict = {"channel": "voice", "disposition": "booked" if booking else "resolved"}
    if booking:
        scheduled = clock.iso(clock.utc_now() + timedelta(hours=30))
        summary["booking"] = {"requested": True, "status": "pending", "scheduledFor": scheduled}
    if email:
        summary["contact"] = {"displayName": "Dana", "email": email}
    payload = finalize_payload(
        "dental-recall-booking", sessionId=session["sessionId"], interactionSummary=summary, extractedData={}
    )
    response = client.post("/api/sessions/finalize", json=payload, headers=key_headers(session))
    assert response.status_code == 200, response.text
    return session


def lifecycle(client, session: dict, action: str) -> None:
    response = client.patch(
        f"/api/sessions/{session['sessionId']}/booking-lifecycle", json={"action": action}, headers=key_headers(session)
    )
    assert response.status_code == 200, response.text


def attestation_links(pilot_id: str) -> list[str]:
    """The attestation links emailed about the pilot's week, one per distinct set of numbers."""
    messages = outbox_messages(f"attestation_{pilot_id}_{WEEK}")
    links = []
    for message in messages:
        assert message["To"] == "avery.champion@riverside-dental.test"
        text = message.get_body(preferencelist=("plain",)).get_content()
        links.extend(LINK.findall(text))
    return links


@pytest.fixture
def week_of_calls(client, tokens, tenant, fake_clock, devhost) -> dict:
    """An active pilot with ROI assumptions, and a scripted week of real calls in its tenant (and around it)."""
    operator = tokens.headers(tenant, "operator")
    fake_clock.set(MONDAY - timedelta(days=3))
    pilot = create_pilot(client, operator, status="active")
    admin = tokens.headers(tenant, "admin")
    assert client.put(f"/api/cp/pilots/{pilot['pilotId']}/roi", json=ROI, headers=admin).status_code == 200
    finished_call(client, operator)  # the week before: not this week's

    fake_clock.set(WEDNESDAY)
    confirmed = finished_call(client, operator)
    lifecycle(client, confirmed, "confirm")
    finished_call(client, operator)  # requested, never confirmed
    finished_call(client, operator, booking=False)
    recovered = finished_call(client, operator)
    lifecycle(client, recovered, "confirm")
    lifecycle(client, recovered, "mark_no_show")
    unreachable = finished_call(client, operator, email=None)
    lifecycle(client, unreachable, "confirm")
    lifecycle(client, unreachable, "mark_no_show")
    start_session(client, "dental-recall-booking", headers=operator)  # never finished
    other = new_tenant_id("pilot")
    finished_call(client, tokens.headers(other, "operator"))  # another tenant's call
    devhost.drain_queues(timeout=120)  # the no-show recovery runs: one completes, one needs an operator
    assert aggregate.read_live(tenant, recovered["sessionId"])["bookingOutcome"]["noShowRecoveryStatus"] == "completed"
    return {"pilot": pilot, "operator": operator, "admin": admin, "tenant": tenant}


def expected_numbers(tenant: str) -> dict:
    """The week's numbers recounted from the stored sessions and the exceptions desk, independently of the app."""
    from shared.exceptions import service as exceptions

    docs = aggregate.query(tenant, "SELECT * FROM c WHERE c.tenantId = @tenantId", {})
    start, end = clock.iso(MONDAY), clock.iso(MONDAY + timedelta(days=7))
    handled = [doc for doc in docs if doc.get("finalizedAt") and start <= doc["finalizedAt"] < end]
    confirmed = [doc for doc in docs if doc.get("bookingConfirmedAt") and start <= doc["bookingConfirmedAt"] < end]
    recovered = [doc for doc in docs if (doc.get("bookingOutcome") or {}).get("noShowRecoveryStatus") == "completed"]
    open_items = [item for item in exceptions.exceptions.newest(tenant, 100) if item["status"] == "open"]
    value = len(handled) * 6 / 60 * 30 + len(confirmed) * 150 + len(recovered) * 80
    return {
        "callsHandled": len(handled),
        "missedCallsRecovered": 0,
        "bookingsRequested": sum(1 for doc in handled if doc.get("bookingOutcome")),
        "bookingsConfirmed": len(confirmed),
        "exceptionsOpen": len(open_items),
        "exceptionsResolved": 0,
        "estimatedTimeSavedHours": round(len(handled) * 6 / 60, 2),
        "estimatedValueRecoveredUsd": round(value, 2),
    }


def test_the_monday_timer_snapshots_the_week_and_emails_a_link_that_works_once(
    client, devhost, fake_clock, week_of_calls
):
    pilot, operator, tenant = week_of_calls["pilot"], week_of_calls["operator"], week_of_calls["tenant"]
    pilot_id = pilot["pilotId"]
    fake_clock.set(NEXT_MONDAY)
    devhost.fire_timer("queue_weekly_pilot_snapshots")
    devhost.drain_queues(timeout=120)

    listed = client.get(f"/api/cp/pilots/{pilot_id}/snapshots", headers=operator)
    assert listed.status_code == 200
    [snapshot] = listed.json()["snapshots"]
    numbers = {
        "callsHandled": 5,
        "missedCallsRecovered": 0,
        "bookingsRequested": 4,
        "bookingsConfirmed": 3,
        "exceptionsOpen": 1,
        "exceptionsResolved": 0,
        "estimatedTimeSavedHours": 0.5,
        "estimatedValueRecoveredUsd": 545.0,  # 5 calls × 0.1 h × $30 + 3 × $150 + 1 recovered no-show × $80
    }
    assert {name: snapshot[name] for name in numbers} == numbers == expected_numbers(tenant)
    assert (snapshot["weekId"], snapshot["weekStart"], snapshot["weekEnd"]) == (WEEK, "2026-03-02", "2026-03-08")
    assert client.get(f"/api/cp/pilots/{pilot_id}", headers=operator).json()["snapshots"] == [snapshot]

    # Firing the timer again stores nothing new and sends no second email.
    devhost.fire_timer("queue_weekly_pilot_snapshots")
    devhost.drain_queues(timeout=120)
    assert client.get(f"/api/cp/pilots/{pilot_id}/snapshots", headers=operator).json()["snapshots"] == [snapshot]
    [link] = attestation_links(pilot_id)

    body = {
        "pilotId": pilot_id,
        "weekId": WEEK,
        "attestedByEmail": "Avery.Champion@Riverside-Dental.test",
        "attestedByName": "Avery Champion",
        "acceptedMetrics": {"callsHandled": 5, "bookingsConfirmed": 3, "revenueBooked": 9000, "madeUp": 1},
        "freeFormNote": "Numbers match our front desk log.",
    }
    for mismatch in ({"weekId": "2026-W09"}, {"pilotId": "PILOT-22222222"}, {"tenantId": "someone-else"}):
        refused = client.post(f"/api/attestations/{link}", json={**body, **mismatch})
        assert refused.status_code == 400 and refused.json()["error"] == "attestation_mismatch"
        assert metering.recorded(refused.headers["x-correlation-id"])[1].calls == 0

    stored = client.post(f"/api/attestations/{link}", json=body)
    assert stored.status_code == 201, stored.text
    attestation = stored.json()["attestation"]
    assert attestation["acceptedMetrics"] == {"callsHandled": 5, "bookingsConfirmed": 3}
    assert (attestation["tenantId"], attestation["pilotId"], attestation["weekId"]) == (tenant, pilot_id, WEEK)
    assert attestation["attestedByEmail"] == "Avery.Champion@riverside-dental.test"
    assert attestation["token"] == link and attestation["attestationId"].startswith("ATT-")

    again = client.post(f"/api/attestations/{link}", json=body)
    assert again.status_code == 409 and again.json()["error"] == "already_attested"

    # Once attested, a recompute of the week sends no further link.
    recomputed = client.post(f"/api/cp/pilots/{pilot_id}/snapshot/recompute", params={"weekId": WEEK}, headers=operator)
    assert recomputed.status_code == 200 and recomputed.headers["x-snapshot-changes"] == "none"
    assert len(attestation_links(pilot_id)) == 1

    # Two weeks later the link has expired: the same 400 as any token that does not verify.
    fake_clock.set(NEXT_MONDAY + timedelta(days=15))
    expired = client.post(f"/api/attestations/{link}", json=body)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_token"


def test_tampered_unknown_and_snapshotless_tokens_are_refused_alike(client, fake_clock, tenant, tokens):
    fake_clock.set(NEXT_MONDAY)
    pilot = create_pilot(client, tokens.headers(tenant, "operator"), status="active")
    body = {"pilotId": pilot["pilotId"], "weekId": WEEK, "attestedByEmail": "avery@riverside-dental.test"}
    genuine = attestations.issue_token(tenant, pilot["pilotId"], WEEK)
    payload, tag = genuine.split(".")
    flipped = payload[:5] + ("A" if payload[5] != "A" else "B") + payload[6:]
    answers = [
        client.post(f"/api/attestations/{flipped}.{tag}", json=body),
        client.post(f"/api/attestations/{payload}.{tag[:-2]}xx", json=body),
        client.post("/api/attestations/abc.def", json=body),
        client.post("/api/attestations/not-a-token", json=body),
        client.post(f"/api/attestations/{genuine}", json=body),  # genuine, but the week has no snapshot
    ]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.json() == {"error": "invalid_token", "message": attestations.INVALID_TOKEN_MESSAGE}
        assert metering.recorded(answer.headers["x-correlation-id"])[1].writes == 0
    assert client.post(f"/api/attestations/{genuine}", json={"pilotId": pilot["pilotId"]}).status_code == 400


def test_recompute_replaces_the_week_and_says_what_changed(client, devhost, fake_clock, week_of_calls):
    pilot, operator, admin = week_of_calls["pilot"], week_of_calls["operator"], week_of_calls["admin"]
    pilot_id = pilot["pilotId"]
    url = f"/api/cp/pilots/{pilot_id}/snapshot/recompute"
    fake_clock.set(NEXT_MONDAY)
    first = client.post(url, params={"weekId": WEEK}, headers=operator)
    assert first.status_code == 200, first.text
    assert first.json()["estimatedValueRecoveredUsd"] == 545.0
    assert set(first.headers["x-snapshot-changes"].split(",")) >= {"callsHandled", "estimatedValueRecoveredUsd"}
    same = client.post(url, params={"weekId": WEEK}, headers=operator)
    assert same.headers["x-snapshot-changes"] == "none" and same.json() == first.json()
    assert metering.recorded(same.headers["x-correlation-id"])[1].writes == 0

    richer = {**ROI, "appointmentValueUsd": 200}
    assert client.put(f"/api/cp/pilots/{pilot_id}/roi", json=richer, headers=admin).status_code == 200
    changed = client.post(url, params={"weekId": WEEK}, headers=operator)
    assert changed.headers["x-snapshot-changes"] == "estimatedValueRecoveredUsd"
    assert changed.json()["estimatedValueRecoveredUsd"] == 695.0
    [snapshot] = client.get(f"/api/cp/pilots/{pilot_id}/snapshots", headers=operator).json()["snapshots"]
    assert snapshot == changed.json()
    # Each distinct set of numbers of a finished week got its own link; either works, once.
    devhost.drain_queues(timeout=120)
    links = attestation_links(pilot_id)
    assert len(links) == 2
    body = {"pilotId": pilot_id, "weekId": WEEK, "attestedByEmail": "avery@riverside-dental.test"}
    assert client.post(f"/api/attestations/{links[0]}", json=body).status_code == 201
    assert client.post(f"/api/attestations/{links[1]}", json=body).status_code == 409

    events = client.get("/api/cp/audit", headers=admin).json()["events"]
    recomputes = [e for e in events if e["targetId"] == pilot_id and e["action"] == "pilot.snapshot_recomputed"]
    values = [event["changes"]["estimatedValueRecoveredUsd"] for event in recomputes]
    assert sorted(values, key=str) == [{"from": 545, "to": 695}, {"from": None, "to": 545}]

    # The current week can be recomputed (its numbers still grow, so no link is sent); a future or
    # malformed week cannot.
    current = client.post(url, params={"weekId": "2026-W11"}, headers=operator)
    assert current.status_code == 200 and current.json()["callsHandled"] == 0
    assert outbox_messages(f"attestation_{pilot_id}_2026-W11") == []
    for bad in ("2026-W12", "2027-W01", "2026-W54", "2026-10", "2026w10", ""):
        refused = client.post(url, params={"weekId": bad}, headers=operator)
        assert refused.status_code == 400, bad
        assert metering.recorded(refused.headers["x-correlation-id"])[1].writes == 0
    assert client.post(url, headers=operator).status_code == 400


def test_a_pilot_still_being_set_up_gets_numbers_but_no_attestation_link(client, devhost, fake_clock, tenant, tokens):
    operator = tokens.headers(tenant, "operator")
    fake_clock.set(NEXT_MONDAY)
    pilot = create_pilot(client, operator, status="setup")
    url = f"/api/cp/pilots/{pilot['pilotId']}/snapshot/recompute"
    response = client.post(url, params={"weekId": WEEK}, headers=operator)
    assert response.status_code == 200 and response.json()["callsHandled"] == 0
    devhost.drain_queues(timeout=120)
    assert attestation_links(pilot["pilotId"]) == []
