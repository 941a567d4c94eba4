"""The booking lifecycle state machine: every (status, action) pair, effects, ledger entries and the contract."""

from __future__ import annotations

import copy
import itertools

import pytest

from shared.bookings import machine
from shared.bookings.machine import ACTIONS, STATUSES, TRANSITIONS, InvalidTransition, apply, reminder_due_at
from shared.platform.errors import BadRequest
from tests.support.schemas import assert_valid, lifecycle_actions, outcome_object_schema

NOW = "2026-03-01T12:00:00.000Z"
SLOT = "2026-03-05T15:30:00Z"

# The legal moves, written out by hand: every pair not listed here must be refused.
EXPECTED: dict[tuple[str, str], str] = {
    ("availability_found", "confirm"): "confirmed",
    ("slot_selected", "confirm"): "confirmed",
    ("pending_approval", "confirm"): "confirmed",
    ("reschedule_requested", "confirm"): "confirmed",
    ("exception", "confirm"): "confirmed",
    ("confirmed", "request_reschedule"): "reschedule_requested",
    ("captured", "cancel"): "cancelled",
    ("awaiting_qualification", "cancel"): "cancelled",
    ("availability_found", "cancel"): "cancelled",
    ("slot_selected", "cancel"): "cancelled",
    ("pending_approval", "cancel"): "cancelled",
    ("confirmed", "cancel"): "cancelled",
    ("reschedule_requested", "cancel"): "cancelled",
    ("no_show_followup", "cancel"): "cancelled",
    ("exception", "cancel"): "cancelled",
    ("confirmed", "mark_no_show"): "no_show_followup",
    ("confirmed", "send_reminder"): "confirmed",
    ("confirmed", "mark_reminder_failed"): "confirmed",
    ("no_show_followup", "complete_no_show_recovery"): "reschedule_requested",
}


def outcome(status: str, **fields: object) -> dict:
    return {"status": status, "updatedAt": "2026-03-01T09:00:00.000Z", "scheduledFor": SLOT, **fields}


def test_statuses_and_actions_are_the_contracts() -> None:
    schema = outcome_object_schema()["properties"]
    assert list(STATUSES) == schema["status"]["enum"]
    assert list(ACTIONS) == lifecycle_actions()
    assert list(ACTIONS) == schema["lastTransitionAction"]["enum"]
    assert list(machine.REMINDER_STATUSES) == schema["reminderStatus"]["enum"]
    assert list(machine.REMINDER_RESULTS) == schema["lastReminderResult"]["enum"]
    assert list(machine.NO_SHOW_RECOVERY_STATUSES) == schema["noShowRecoveryStatus"]["enum"]
    assert list(machine.WAITLIST_STATUSES) == schema["waitlistStatus"]["enum"]
    assert list(machine.APPROVAL_STATUSES) == schema["approvalStatus"]["enum"]
    assert list(machine.ORCHESTRATION_PHASES) == schema["bookingOrchestration"]["properties"]["phase"]["enum"]
    assert set(schema) == machine.OUTCOME_FIELDS


def test_the_transition_table_is_exactly_the_expected_one() -> None:
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("status", "action"), list(itertools.product(STATUSES, ACTIONS)))
def test_every_status_action_pair(status: str, action: str) -> None:
    current = outcome(status, approvalStatus="pending") if status == "pending_approval" else outcome(status)
    if (status, action) in EXPECTED:
        new, entry = apply(current, action, now=NOW, note="by test", reference_id="REF-1")
        assert new["status"] == EXPECTED[(status, action)]
        assert new["lastTransitionAction"] == action
        assert new["updatedAt"] == NOW
        assert entry == {
            "action": action,
            "fromStatus": status,
            "toStatus": EXPECTED[(status, action)],
            "at": NOW,
            "note": "by test",
            "referenceId": "REF-1",
        }
        assert_valid("booking_outcome_schema", new)
        assert machine.can_apply(status, action)
        assert action in machine.allowed_actions(status)
    else:
        with pytest.raises(InvalidTransition) as raised:
            apply(current, action, now=NOW, scheduled_for=SLOT)
        assert raised.value.message.startswith("cannot ")
        assert raised.value.action == action and raised.value.from_status == status
        assert isinstance(raised.value, BadRequest) and raised.value.status == 400
        assert raised.value.envelope()["error"] == "invalid_booking_transition"
        assert not machine.can_apply(status, action)
        assert action not in machine.allowed_actions(status)


def test_cancelled_is_terminal_and_says_so() -> None:
    assert machine.allowed_actions("cancelled") == ()
    with pytest.raises(InvalidTransition, match=r"^cannot confirm a booking that is cancelled"):
        apply(outcome("cancelled"), "confirm", now=NOW, scheduled_for=SLOT)
    with pytest.raises(InvalidTransition, match=r"^cannot cancel a booking that is already cancelled$"):
        apply(outcome("cancelled"), "cancel", now=NOW)


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("confirmed", "confirm", "cannot confirm a booking that is already confirmed"),
        ("no_show_followup", "mark_no_show", "cannot mark a no-show for a booking that is already marked as a no-show"),
        (
            "captured",
            "confirm",
            "cannot confirm a booking in status captured: confirm applies only to bookings with status "
            "availability_found, slot_selected, pending_approval, reschedule_requested or exception",
        ),
        (
            "slot_selected",
            "send_reminder",
            "cannot send a reminder for a booking in status slot_selected: send_reminder applies only to bookings "
            "with status confirmed",
        ),
    ],
)
def test_refusals_explain_themselves(status: str, action: str, message: str) -> None:
    with pytest.raises(InvalidTransition) as raised:
        apply(outcome(status), action, now=NOW, scheduled_for=SLOT)
    assert raised.value.message == message


def test_no_outcome_unknown_status_and_unknown_action() -> None:
    with pytest.raises(InvalidTransition, match="has no booking yet"):
        apply(None, "cancel", now=NOW)
    with pytest.raises(InvalidTransition, match="has no booking yet"):
        apply({}, "confirm", now=NOW, scheduled_for=SLOT)
    with pytest.raises(InvalidTransition, match="'booked' is unknown"):
        apply({"status": "booked", "updatedAt": NOW}, "cancel", now=NOW)
    with pytest.raises(InvalidTransition, match="unknown booking action 'delete'"):
        apply(outcome("confirmed"), "delete", now=NOW)


def test_now_must_be_a_date_time() -> None:
    with pytest.raises(ValueError):
        apply(outcome("confirmed"), "cancel", now="yesterday")


def test_confirm_needs_a_scheduled_time() -> None:
    bare = {"status": "slot_selected", "updatedAt": NOW}
    with pytest.raises(InvalidTransition, match=r"^cannot confirm a booking without a scheduled time"):
        apply(bare, "confirm", now=NOW)
    with pytest.raises(InvalidTransition, match="must be an ISO 8601 date-time"):
        apply(bare, "confirm", now=NOW, scheduled_for="next tuesday")
    # The time already on the outcome is enough.
    new, _ = apply(outcome("slot_selected"), "confirm", now=NOW)
    assert new["scheduledFor"] == SLOT


def test_confirm_sets_the_slot_and_queues_the_reminder() -> None:
    current = outcome(
        "availability_found",
        scheduledFor=None,
        reminderAttemptCount=3,
        reminderAttempts=3,
        noShowRecoveryStatus="completed",
        waitlistStatus="recommended",
        bookingOrchestration={"workflowId": "wf-1", "phase": "completed", "updatedAt": "2026-01-01T00:00:00Z"},
    )
    del current["scheduledFor"]
    new, entry = apply(
        current, "confirm", scheduled_for=SLOT, selected_suggestion_id="sugg-2", reference_id="CONF-77", now=NOW
    )
    assert new == {
        "status": "confirmed",
        "scheduledFor": SLOT,
        "selectedSuggestionId": "sugg-2",
        "confirmationCode": "CONF-77",
        "reminderStatus": "queued",
        "lastReminderResult": "not_sent",
        "reminderAttemptCount": 0,
        "reminderAttempts": 0,
        "nextReminderDueAt": "2026-03-04T15:30:00.000Z",
        "reminderScheduledFor": "2026-03-04T15:30:00.000Z",
        "noShowRecoveryStatus": "not_needed",
        "waitlistStatus": "recommended",
        "bookingOrchestration": {"workflowId": "wf-1", "phase": "reminder_pending", "updatedAt": NOW},
        "lastTransitionAction": "confirm",
        "updatedAt": NOW,
    }
    assert entry == {
        "action": "confirm",
        "fromStatus": "availability_found",
        "toStatus": "confirmed",
        "at": NOW,
        "referenceId": "CONF-77",
    }
    assert_valid("booking_outcome_schema", new)


def test_confirm_within_the_reminder_lead_sends_the_reminder_now() -> None:
    new, _ = apply(outcome("slot_selected"), "confirm", scheduled_for="2026-03-01T20:00:00Z", now=NOW)
    assert new["reminderStatus"] == "queued"
    assert new["nextReminderDueAt"] == NOW


def test_confirm_of_a_past_time_queues_no_reminder() -> None:
    new, _ = apply(
        outcome("slot_selected", nextReminderDueAt="x"), "confirm", scheduled_for="2026-02-01T10:00:00Z", now=NOW
    )
    assert new["reminderStatus"] == "not_configured"
    assert "nextReminderDueAt" not in new and "reminderScheduledFor" not in new
    assert_valid("booking_outcome_schema", new)


def test_confirm_from_pending_approval_approves() -> None:
    current = outcome("pending_approval", approvalStatus="pending", approvalRequestedAt="2026-03-01T10:00:00Z")
    new, _ = apply(current, "confirm", now=NOW, note="ok by front desk")
    assert new["approvalStatus"] == "approved"
    assert new["approvalResolvedAt"] == NOW
    assert new["approvalNotes"] == "ok by front desk"
    assert new["approvalRequestedAt"] == "2026-03-01T10:00:00Z"


def test_cancel_rejects_a_pending_approval_and_withdraws_reminders() -> None:
    new, _ = apply(outcome("pending_approval", approvalStatus="pending"), "cancel", now=NOW, note="no longer needed")
    assert (new["status"], new["approvalStatus"], new["approvalResolvedAt"]) == ("cancelled", "rejected", NOW)
    assert new["approvalNotes"] == "no longer needed"

    confirmed, _ = apply(outcome("slot_selected"), "confirm", now=NOW)
    cancelled, _ = apply(
        {**confirmed, "bookingOrchestration": {"workflowId": "w", "phase": "reminder_pending", "updatedAt": NOW}},
        "cancel",
        now="2026-03-02T08:00:00Z",
    )
    assert cancelled["reminderStatus"] == "not_configured"
    assert "nextReminderDueAt" not in cancelled and "reminderScheduledFor" not in cancelled
    assert cancelled["bookingOrchestration"]["phase"] == "cancelled"
    assert_valid("booking_outcome_schema", cancelled)


def test_reminders_count_attempts_and_keep_the_status() -> None:
    confirmed, _ = apply(outcome("slot_selected"), "confirm", now=NOW)
    sent, _ = apply(confirmed, "send_reminder", now="2026-03-04T15:30:00Z")
    assert (sent["status"], sent["reminderStatus"], sent["lastReminderResult"]) == ("confirmed", "sent", "sent")
    assert sent["reminderAttemptCount"] == sent["reminderAttempts"] == 1
    assert "nextReminderDueAt" not in sent
    assert sent["reminderScheduledFor"] == "2026-03-04T15:30:00.000Z"
    failed, entry = apply(sent, "mark_reminder_failed", now="2026-03-04T15:31:00Z", reference_id="sms-9")
    assert (failed["status"], failed["reminderStatus"], failed["lastReminderResult"]) == (
        "confirmed",
        "failed",
        "failed",
    )
    assert failed["reminderAttemptCount"] == failed["reminderAttempts"] == 2
    assert entry["referenceId"] == "sms-9" and entry["fromStatus"] == entry["toStatus"] == "confirmed"
    again, _ = apply(failed, "send_reminder", now="2026-03-04T16:00:00Z")
    assert again["reminderStatus"] == "sent" and again["reminderAttemptCount"] == 3
    for item in (sent, failed, again):
        assert_valid("booking_outcome_schema", item)


def test_no_show_recovery_round_trip() -> None:
    confirmed, _ = apply(outcome("slot_selected"), "confirm", now=NOW)
    no_show, _ = apply(confirmed, "mark_no_show", now="2026-03-05T16:30:00Z")
    assert no_show["status"] == "no_show_followup"
    assert no_show["noShowRecoveryStatus"] == "queued"
    assert no_show["reminderStatus"] == "not_configured"  # the queued reminder was withdrawn
    recovered, _ = apply(no_show, "complete_no_show_recovery", now="2026-03-05T17:00:00Z")
    assert recovered["status"] == "reschedule_requested"
    assert recovered["noShowRecoveryStatus"] == "completed"
    rebooked, entry = apply(recovered, "confirm", scheduled_for="2026-03-12T15:30:00Z", now="2026-03-06T09:00:00Z")
    assert rebooked["status"] == "confirmed" and rebooked["scheduledFor"] == "2026-03-12T15:30:00Z"
    assert rebooked["noShowRecoveryStatus"] == "not_needed"
    assert entry["fromStatus"] == "reschedule_requested"
    for item in (no_show, recovered, rebooked):
        assert_valid("booking_outcome_schema", item)


def test_cancel_during_no_show_followup_drops_the_queued_recovery() -> None:
    new, _ = apply(outcome("no_show_followup", noShowRecoveryStatus="queued"), "cancel", now=NOW)
    assert new["noShowRecoveryStatus"] == "not_needed"


def test_reschedule_request_keeps_the_old_slot_for_reference() -> None:
    confirmed, _ = apply(outcome("slot_selected"), "confirm", now=NOW)
    new, _ = apply(confirmed, "request_reschedule", now=NOW, note="caller travelling")
    assert new["status"] == "reschedule_requested"
    assert new["scheduledFor"] == SLOT
    assert new["reminderStatus"] == "not_configured"
    reconfirmed, _ = apply(new, "confirm", now=NOW)  # the old slot again
    assert reconfirmed["scheduledFor"] == SLOT


def test_apply_is_pure_and_keeps_only_contract_fields() -> None:
    current = outcome(
        "confirmed",
        bookingOrchestration={"workflowId": "w", "phase": "reminder_pending", "updatedAt": NOW},
        legacyField="drop me",
    )
    before = copy.deepcopy(current)
    first = apply(current, "cancel", now=NOW)
    second = apply(current, "cancel", now=NOW)
    assert first == second
    assert current == before
    assert "legacyField" not in first[0]
    assert_valid("booking_outcome_schema", first[0])


def test_ledger_entry_omits_empty_note_and_reference() -> None:
    _, entry = apply(outcome("captured"), "cancel", now=NOW, note="", reference_id=None)
    assert entry == {"action": "cancel", "fromStatus": "captured", "toStatus": "cancelled", "at": NOW}


def test_every_reachable_outcome_validates_against_the_contract() -> None:
    """Walk every sequence of up to four legal actions from every status; every result must be contract-valid."""
    frontier = [outcome(status) for status in STATUSES]
    for depth in range(4):
        later = f"2026-03-0{depth + 2}T10:00:00Z"
        next_frontier = []
        for current in frontier:
            for action in machine.allowed_actions(current["status"]):
                new, entry = apply(current, action, now=later, note="n", reference_id="r")
                assert_valid("booking_outcome_schema", new)
                assert entry["toStatus"] == new["status"]
                next_frontier.append(new)
        frontier = next_frontier


@pytest.mark.parametrize(
    ("scheduled", "lead", "due"),
    [
        ("2026-03-05T15:30:00Z", 24, "2026-03-04T15:30:00.000Z"),
        ("2026-03-05T15:30:00.123Z", 2, "2026-03-05T13:30:00.123Z"),
        ("2026-03-05T10:00:00-05:00", 24, "2026-03-04T15:00:00.000Z"),
        ("2026-03-05T15:30:00", 0, "2026-03-05T15:30:00.000Z"),
    ],
)
def test_reminder_due_at(scheduled: str, lead: int, due: str) -> None:
    assert reminder_due_at(scheduled, lead_hours=lead) == due


@pytest.mark.parametrize(("scheduled", "lead"), [("soon", 24), ("", 24), (SLOT, -1), (SLOT, 1.5), (SLOT, True)])
def test_reminder_due_at_refuses_bad_input(scheduled: str, lead: object) -> None:
    with pytest.raises(ValueError):
        reminder_due_at(scheduled, lead_hours=lead)  # type: ignore[arg-type]


def test_timer_helpers() -> None:
    confirmed, _ = apply(outcome("slot_selected"), "confirm", now=NOW)
    assert not machine.reminder_is_due(confirmed, "2026-03-04T15:29:59Z")
    assert machine.reminder_is_due(confirmed, "2026-03-04T15:30:00Z")
    sent, _ = apply(confirmed, "send_reminder", now="2026-03-04T15:30:00Z")
    assert not machine.reminder_is_due(sent, "2026-03-05T00:00:00Z")
    assert not machine.reminder_is_due(None, NOW)
    assert not machine.reminder_is_due({**confirmed, "nextReminderDueAt": "garbage"}, NOW)

    assert not machine.no_show_is_due(confirmed, "2026-03-05T15:59:59Z")
    assert machine.no_show_is_due(confirmed, "2026-03-05T16:00:00Z")
    assert machine.no_show_is_due(confirmed, "2026-03-05T15:30:00Z", grace_minutes=0)
    assert not machine.no_show_is_due(outcome("cancelled"), "2027-01-01T00:00:00Z")
    assert not machine.no_show_is_due({"status": "confirmed", "scheduledFor": "bad"}, NOW)


def test_summary_booking_status_mirrors_every_status() -> None:
    assert {status: machine.summary_booking_status(status) for status in STATUSES} == {
        "captured": "pending",
        "awaiting_qualification": "pending",
        "availability_found": "pending",
        "slot_selected": "pending",
        "pending_approval": "pending",
        "confirmed": "scheduled",
        "reschedule_requested": "reschedule_requested",
        "cancelled": "cancelled",
        "no_show_followup": "no_show",
        "exception": "follow_up_required",
    }


def test_internal_workflow_actions_are_lifecycle_actions() -> None:
    from tests.support.contract import load_contract

    body = load_contract()["paths"]["/api/internal/workflow/booking-lifecycle"]["post"]["requestBody"]
    workflow_actions = body["content"]["application/json"]["schema"]["properties"]["action"]["enum"]
    assert set(workflow_actions) <= set(ACTIONS)
