"""Feature flags over HTTP: listed from the registry, changed and overridden by super-admins (audited),
evaluated by the code path they guard — booking orchestration — within seconds of a change."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from shared import flags
from shared.bookings import service as bookings
from shared.flags import service as flag_service
from shared.flags.registry import BOOKING_TEMPORAL_ORCHESTRATION, TOOL_EXECUTION_PERSISTENCE
from shared.flags.repository import FLAGS_SCOPE
from shared.platform.store import queues
from shared.platform.store.registry import BOOKING_ORCHESTRATION_QUEUE
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id
from tests.support.sessions import finalize_payload, key_headers, start_session

FLAG = BOOKING_TEMPORAL_ORCHESTRATION


@pytest.fixture
def tenant(client, tokens) -> str:
    tenant_id = new_tenant_id("ff")
    assert client.get("/api/cp/auth/session", headers=tokens.headers(tenant_id, "operator")).status_code == 200
    return tenant_id


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds").replace("+00:00", "Z")


def confirm_a_booking(client, tokens, tenant: str) -> dict:
    """An operator's session in `tenant` with a booked slot, confirmed; returns its bookingOutcome."""
    operator = tokens.headers(tenant, "operator")
    session = start_session(client, "dental-new-patient-emergency", headers=operator)
    summary = {
        "channel": "voice",
        "disposition": "booked",
        "booking": {"requested": True, "status": "pending", "scheduledFor": in_hours(72)},
        "contact": {"displayName": "Dana", "email": "dana@example.com"},
    }
    payload = finalize_payload(
        "dental-new-patient-emergency", sessionId=session["sessionId"], interactionSummary=summary
    )
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    confirmed = client.patch(
        f"/api/sessions/{session['sessionId']}/booking-lifecycle", json={"action": "confirm"}, headers=operator
    )
    assert confirmed.status_code == 200, confirmed.text
    return {"sessionId": session["sessionId"], **confirmed.json()["session"]["bookingOutcome"]}


def reminder_docs(session_id: str) -> list[dict]:
    """The app's scheduled reminders of one session (due about 48 hours from now)."""
    days = {in_hours(47)[:10], in_hours(48)[:10], in_hours(49)[:10]}
    docs = [doc for day in days for doc in bookings.reminders.due(day, "9999-12-31T00:00:00Z")]
    return [doc for doc in docs if doc["sessionId"] == session_id]


def orchestration_messages(session_id: str) -> list[dict]:
    import json

    queue = queues.get_queue(BOOKING_ORCHESTRATION_QUEUE)
    found = []
    for message in queue.peek_messages(max_messages=32):
        body = json.loads(message.content)  # the client decodes the base64 the trigger expects
        if body["sessionId"] == session_id:
            found.append(body)
    return found


def test_the_list_shows_every_registered_flag_with_its_default(client, tokens):
    response = client.get("/api/cp/feature-flags", headers=tokens.super_admin())
    assert response.status_code == 200
    listed = {flag["name"]: flag for flag in response.json()["flags"]}
    assert {FLAG, TOOL_EXECUTION_PERSISTENCE} <= set(listed)
    assert listed[TOOL_EXECUTION_PERSISTENCE]["scope"] == "global"
    assert listed[FLAG]["scope"] == "per_tenant" and "rolloutPct" in listed[FLAG]


def test_changes_are_super_admin_only_audited_and_unknown_flags_are_404(client, tokens, tenant):
    assert client.get("/api/cp/feature-flags", headers=tokens.headers(tenant, "owner")).status_code == 403
    assert (
        client.patch(
            "/api/cp/feature-flags/no_such_flag", json={"enabled": True}, headers=tokens.super_admin()
        ).status_code
        == 404
    )
    assert client.get("/api/cp/feature-flags/no_such_flag/overrides", headers=tokens.super_admin()).status_code == 404
    assert (
        client.patch(
            f"/api/cp/feature-flags/no_such_flag/overrides/{tenant}",
            json={"enabled": True},
            headers=tokens.super_admin(),
        ).status_code
        == 404
    )
    for body in ({"rolloutPct": 150}, {"enabled": "on"}, {"description": "mine now"}, {"rolloutPct": 12.345}):
        assert client.patch(f"/api/cp/feature-flags/{FLAG}", json=body, headers=tokens.super_admin()).status_code == 400
    global_rollout = client.patch(
        f"/api/cp/feature-flags/{TOOL_EXECUTION_PERSISTENCE}", json={"rolloutPct": 50}, headers=tokens.super_admin()
    )
    assert global_rollout.status_code == 400
    global_override = client.patch(
        f"/api/cp/feature-flags/{TOOL_EXECUTION_PERSISTENCE}/overrides/{tenant}",
        json={"enabled": True},
        headers=tokens.super_admin(),
    )
    assert global_override.status_code == 400
    missing_tenant = client.patch(
        f"/api/cp/feature-flags/{FLAG}/overrides/{new_tenant_id('none')}",
        json={"enabled": True},
        headers=tokens.super_admin(),
    )
    assert missing_tenant.status_code == 404

    toggled = client.patch(
        f"/api/cp/feature-flags/{TOOL_EXECUTION_PERSISTENCE}", json={"enabled": True}, headers=tokens.super_admin()
    )
    assert toggled.status_code == 200 and toggled.json()["flag"]["enabled"] is True
    assert flags.is_enabled(TOOL_EXECUTION_PERSISTENCE) is True
    client.patch(
        f"/api/cp/feature-flags/{TOOL_EXECUTION_PERSISTENCE}", json={"enabled": False}, headers=tokens.super_admin()
    )
    assert flags.is_enabled(TOOL_EXECUTION_PERSISTENCE) is False
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    changes = [
        e["changes"]
        for e in events
        if e["action"] == "feature_flag.updated" and e["targetId"] == TOOL_EXECUTION_PERSISTENCE
    ]
    assert {"enabled": {"from": True, "to": False}} in changes


def test_an_override_is_listed_audited_wins_and_can_be_removed(client, tokens, tenant):
    url = f"/api/cp/feature-flags/{FLAG}/overrides/{tenant}"
    assert flags.is_enabled(FLAG, tenant) is False
    response = client.patch(url, json={"enabled": True, "reason": "pilot practice"}, headers=tokens.super_admin())
    assert response.status_code == 200, response.text
    override = response.json()["override"]
    assert (override["enabled"], override["effective"], override["reason"]) == (True, True, "pilot practice")
    assert flags.is_enabled(FLAG, tenant) is True
    listed = client.get(f"/api/cp/feature-flags/{FLAG}/overrides", headers=tokens.super_admin()).json()["overrides"]
    assert any(o["tenantId"] == tenant and o["enabled"] is True for o in listed)
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    event = next(e for e in events if e["action"] == "feature_flag.override_set" and e["tenantId"] == tenant)
    assert event["changes"]["enabled"] == {"from": None, "to": True}
    removed = client.patch(url, json={"remove": True}, headers=tokens.super_admin())
    assert removed.json()["override"] == {"flag": FLAG, "tenantId": tenant, "removed": True, "effective": False}
    assert flags.is_enabled(FLAG, tenant) is False


def test_flipping_the_flag_changes_how_a_booking_is_driven(client, tokens, tenant):
    before = confirm_a_booking(client, tokens, tenant)
    assert "bookingOrchestration" not in before
    assert [doc["status"] for doc in reminder_docs(before["sessionId"])] == ["scheduled"]
    assert orchestration_messages(before["sessionId"]) == []

    on = client.patch(
        f"/api/cp/feature-flags/{FLAG}/overrides/{tenant}", json={"enabled": True}, headers=tokens.super_admin()
    )
    assert on.status_code == 200
    after = confirm_a_booking(client, tokens, tenant)
    assert after["bookingOrchestration"]["phase"] == "reminder_pending"
    assert after["bookingOrchestration"]["workflowId"] == f"booking-{after['sessionId']}"
    assert reminder_docs(after["sessionId"]) == []  # the app's reminder timer stays out of it
    [message] = orchestration_messages(after["sessionId"])
    assert (message["action"], message["workflowId"], message["status"]) == (
        "confirm",
        after["bookingOrchestration"]["workflowId"],
        "confirmed",
    )
    assert message["nextReminderDueAt"] == after["nextReminderDueAt"]


def test_a_change_made_elsewhere_reaches_this_instance_within_the_cache_time(client, tokens, tenant, settings_env):
    settings_env.setenv("FEATURE_FLAG_CACHE_SECONDS", "1")
    reset_clients()
    assert flags.is_enabled(FLAG, tenant) is False
    # Another instance stores an override: this process still holds its copy for up to a second...
    flag_service.store.create(
        {"id": tenant, "scope": f"overrides:{FLAG}", "flag": FLAG, "tenantId": tenant, "enabled": True}
    )
    started = time.monotonic()
    while not flags.is_enabled(FLAG, tenant):
        assert time.monotonic() - started < 3, "the override did not take effect within the cache time"
        time.sleep(0.1)
    assert 0 < time.monotonic() - started < 3
    flag_service.store.delete(tenant, f"overrides:{FLAG}")


def test_a_rollout_over_the_api_decides_by_tenant(client, tokens, settings_env):
    settings_env.setenv("FEATURE_BOOKING_TEMPORAL_ORCHESTRATION", "false")
    reset_clients()
    response = client.patch(
        f"/api/cp/feature-flags/{FLAG}", json={"enabled": True, "rolloutPct": 30}, headers=tokens.super_admin()
    )
    try:
        assert response.status_code == 200 and response.json()["flag"]["rolloutPct"] == 30
        tenants = [f"rollout-{n:04d}" for n in range(1000)]
        enabled = [t for t in tenants if flags.is_enabled(FLAG, t)]
        assert 250 <= len(enabled) <= 350
        assert [t for t in tenants if flags.is_enabled(FLAG, t)] == enabled
        assert flag_service.store.read(FLAG, FLAGS_SCOPE)["rolloutPct"] == 30
    finally:
        client.patch(
            f"/api/cp/feature-flags/{FLAG}", json={"enabled": False, "rolloutPct": 100}, headers=tokens.super_admin()
        )


def test_an_orchestrated_booking_stays_with_the_orchestrator_after_the_flag_turns_off(client, tokens, tenant, devhost):
    url = f"/api/cp/feature-flags/{FLAG}/overrides/{tenant}"
    client.patch(url, json={"enabled": True}, headers=tokens.super_admin())
    booking = confirm_a_booking(client, tokens, tenant)
    client.patch(url, json={"enabled": False}, headers=tokens.super_admin())
    no_show = client.patch(
        f"/api/sessions/{booking['sessionId']}/booking-lifecycle",
        json={"action": "mark_no_show"},
        headers=tokens.headers(tenant, "operator"),
    )
    assert no_show.status_code == 200
    outcome = no_show.json()["session"]["bookingOutcome"]
    assert outcome["status"] == "no_show_followup" and outcome["bookingOrchestration"]["workflowId"]
    assert [m["action"] for m in orchestration_messages(booking["sessionId"])] == ["confirm", "mark_no_show"]
    devhost.drain_queues(timeout=30)  # nothing for the app's no-show recovery: the orchestrator owns it
    stored = client.get(f"/api/sessions/{booking['sessionId']}", headers=tokens.headers(tenant, "viewer")).json()[
        "bookingOutcome"
    ]
    assert stored["noShowRecoveryStatus"] == "queued"
