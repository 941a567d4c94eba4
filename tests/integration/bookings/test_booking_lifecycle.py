"""Booking lifecycle over HTTP, the reminder timer and queue, no-show recovery, the orchestrator callback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devhost.emulators import free_ports
from shared.bookings import service as bookings
from shared.exceptions import service as exceptions
from shared.sessions import aggregate
from tests.conftest import reset_clients
from tests.support.sessions import finalize_payload, key_headers, start_session


def in_hours(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds").replace("+00:00", "Z")


def booked_session(client, *, scheduled_for: str, email: str | None = "dana@example.com") -> dict:
    session = start_session(client, "dental-new-patient-emergency")
    summary = {
        "channel": "voice",
        "disposition": "booked",
        "booking": {"requested": True, "status": "pending", "scheduledFor": scheduled_for},
    }
    if email:
        summary["contact"] = {"displayName": "Dana", "email": email}
    payload = finalize_payload(
        "dental-new-patient-emergency",
        sessionId=session["sessionId"],
        interactionSummary=summary,
        extractedData={"fullName": "Dana"},
    )
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    return session


def lifecycle(client, session: dict, **body):
    return client.patch(
        f"/api/sessions/{session['sessionId']}/booking-lifecycle", json=body, headers=key_headers(session)
    )


def test_confirm_reschedule_cancel_with_a_ledger(client):
    session = booked_session(client, scheduled_for=in_hours(72))
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()
    assert stored["bookingOutcome"]["status"] == "slot_selected"

    confirmed = lifecycle(client, session, action="confirm", referenceId="APT-1")
    assert confirmed.status_code == 200, confirmed.text
    outcome = confirmed.json()["session"]["bookingOutcome"]
    assert (outcome["status"], outcome["reminderStatus"], outcome["confirmationCode"]) == (
        "confirmed",
        "queued",
        "APT-1",
    )
    assert confirmed.json()["session"]["interactionSummary"]["booking"]["status"] == "scheduled"

    again = lifecycle(client, session, action="confirm")
    assert again.status_code == 400 and "already confirmed" in again.json()["message"]

    assert lifecycle(client, session, action="request_reschedule").json()["session"]["bookingOutcome"]["status"] == (
        "reschedule_requested"
    )
    assert lifecycle(client, session, action="cancel", note="patient moved").status_code == 200
    final = lifecycle(client, session, action="confirm", scheduledFor=in_hours(96))
    assert final.status_code == 400 and "cancelled" in final.json()["message"]
    entries = bookings.ledger.for_session(session["sessionId"])
    assert [(e["action"], e["toStatus"]) for e in entries] == [
        ("confirm", "confirmed"),
        ("request_reschedule", "reschedule_requested"),
        ("cancel", "cancelled"),
    ]
    assert entries[-1]["note"] == "patient moved"


def test_an_unknown_action_or_a_session_without_booking_is_400(client):
    session = start_session(client)
    assert lifecycle(client, session, action="teleport").status_code == 400
    refused = lifecycle(client, session, action="confirm", scheduledFor=in_hours(5))
    assert refused.status_code == 400


def test_a_due_reminder_is_sent_through_the_timer_and_the_queue(client, devhost):
    session = booked_session(client, scheduled_for=in_hours(3))
    lifecycle(client, session, action="confirm")
    devhost.fire_timer("enqueue_due_booking_reminders")
    devhost.drain_queues(timeout=30)
    outcome = aggregate.sessions.read(session["sessionId"], "default-practice")["bookingOutcome"]
    assert (outcome["reminderStatus"], outcome["lastReminderResult"], outcome["reminderAttemptCount"]) == (
        "sent",
        "sent",
        1,
    )
    devhost.fire_timer("enqueue_due_booking_reminders")
    devhost.drain_queues(timeout=30)
    again = aggregate.sessions.read(session["sessionId"], "default-practice")["bookingOutcome"]
    assert again["reminderAttemptCount"] == 1


def test_a_reminder_the_provider_cannot_deliver_opens_an_exception(client, devhost, settings_env):
    dead = free_ports(1)[0]
    settings_env.setenv("EMAIL_PROVIDER", "smtp")
    settings_env.setenv("SMTP_HOST", "127.0.0.1")
    settings_env.setenv("SMTP_PORT", str(dead))
    settings_env.setenv("SMTP_STARTTLS", "false")
    reset_clients()
    session = booked_session(client, scheduled_for=in_hours(2))
    lifecycle(client, session, action="confirm")
    devhost.fire_timer("enqueue_due_booking_reminders")
    devhost.drain_queues(timeout=30)
    doc = aggregate.sessions.read(session["sessionId"], "default-practice")
    assert doc["bookingOutcome"]["reminderStatus"] == "failed"
    exception = doc["bookingExceptions"][-1]
    assert (exception["reasonCode"], exception["status"]) == ("reminder_delivery_failed", "open")
    # The session carries a copy; the item itself is on the exceptions desk.
    desk_item = exceptions.read("default-practice", exception["id"])
    assert (desk_item["category"], desk_item["errorType"], desk_item["status"]) == (
        "reminder",
        "reminder_delivery_failed",
        "open",
    )


def test_a_no_show_queues_recovery_that_completes(client, devhost):
    session = booked_session(client, scheduled_for=in_hours(30))
    lifecycle(client, session, action="confirm")
    marked = lifecycle(client, session, action="mark_no_show")
    assert marked.json()["session"]["bookingOutcome"]["noShowRecoveryStatus"] == "queued"
    devhost.drain_queues(timeout=30)
    outcome = aggregate.sessions.read(session["sessionId"], "default-practice")["bookingOutcome"]
    assert (outcome["status"], outcome["noShowRecoveryStatus"]) == ("reschedule_requested", "completed")


def test_a_no_show_without_email_goes_to_operators(client, devhost):
    session = booked_session(client, scheduled_for=in_hours(30), email=None)
    lifecycle(client, session, action="confirm")
    lifecycle(client, session, action="mark_no_show")
    devhost.drain_queues(timeout=30)
    doc = aggregate.sessions.read(session["sessionId"], "default-practice")
    assert doc["bookingOutcome"]["status"] == "no_show_followup"
    assert doc["bookingExceptions"][-1]["reasonCode"] == "customer_unresponsive"


@pytest.fixture
def workflow_secret(settings_env):
    settings_env.setenv("INTERNAL_WORKFLOW_CALLBACK_SECRET", "wf-test-secret")
    reset_clients()
    return {"x-tellgence-workflow-secret": "wf-test-secret"}


def test_the_orchestrator_callback(client, workflow_secret):
    session = booked_session(client, scheduled_for=in_hours(30))
    lifecycle(client, session, action="confirm")
    url = "/api/internal/workflow/booking-lifecycle"
    body = {"sessionId": session["sessionId"], "action": "mark_no_show"}
    assert client.post(url, json=body, headers={"x-tellgence-workflow-secret": "nope"}).status_code == 401
    assert client.post(url, json=body).status_code == 401
    response = client.post(url, json=body, headers=workflow_secret)
    assert response.json() == {"success": True, "sessionId": session["sessionId"]}
    assert aggregate.sessions.read(session["sessionId"], "default-practice")["bookingOutcome"]["status"] == (
        "no_show_followup"
    )
    unknown = client.post(url, json={"sessionId": "nope", "action": "mark_no_show"}, headers=workflow_secret)
    assert unknown.status_code == 404
    assert (
        client.post(
            url, json={"sessionId": session["sessionId"], "action": "confirm"}, headers=workflow_secret
        ).status_code
        == 400
    )


def test_the_callback_route_does_not_exist_without_a_secret(client):
    response = client.post(
        "/api/internal/workflow/booking-lifecycle", json={"sessionId": "x", "action": "mark_no_show"}
    )
    assert response.status_code == 404
