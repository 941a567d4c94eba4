"""The booking lifecycle: an explicit state machine over the contract's bookingOutcome.

Statuses are the contract's bookingOutcome.status values; actions are the PATCH /api/sessions/{id}/booking-lifecycle
`action` values (the Temporal callback uses a subset). TRANSITIONS lists every legal (status, action) pair and
its target; every other pair is refused with InvalidTransition (HTTP 400, as the contract documents):

    confirm                    availability_found, slot_selected, pending_approval,
                               reschedule_requested, exception                         -> confirmed
    request_reschedule         confirmed                                               -> reschedule_requested
    cancel                     every status but cancelled                              -> cancelled
    mark_no_show               confirmed                                               -> no_show_followup
    send_reminder              confirmed                                               -> confirmed
    mark_reminder_failed       confirmed                                               -> confirmed
    complete_no_show_recovery  no_show_followup                                        -> reschedule_requested

`cancelled` is terminal. Before a slot exists (captured, awaiting_qualification) only cancel applies. Completing
no-show recovery puts the booking back in line for a new slot (reschedule_requested), from where confirm with a
new scheduledFor closes the loop. Confirming from `exception` is the operator's override once the exception is
handled.

Effects besides the status (every action also sets lastTransitionAction and updatedAt = now):

* confirm — needs a scheduledFor (the given one, else the one already on the outcome; ISO 8601). Sets
  selectedSuggestionId / confirmationCode (= referenceId) when given, resets reminder bookkeeping
  (reminderAttemptCount = reminderAttempts = 0, lastReminderResult not_sent, noShowRecoveryStatus not_needed) and
  queues the reminder: reminderStatus queued, nextReminderDueAt = reminderScheduledFor = REMINDER_LEAD_HOURS before
  the appointment (or now, when that moment has passed); an appointment not after `now` gets no reminder
  (reminderStatus not_configured). From pending_approval the approval is approved (approvalResolvedAt, approvalNotes).
* request_reschedule, cancel, mark_no_show — a queued reminder is withdrawn (reminderStatus not_configured, the due
  fields removed). cancel also rejects a pending approval and drops a queued no-show recovery (not_needed);
  mark_no_show queues no-show recovery.
* send_reminder / mark_reminder_failed — one reminder attempt each: reminderStatus and lastReminderResult sent /
  failed, both attempt counters + 1, nextReminderDueAt removed. (A failed reminder is a booking exception of
  reason REMINDER_FAILURE_EXCEPTION for the caller to open; the status stays confirmed.)
* complete_no_show_recovery — noShowRecoveryStatus completed.
* bookingOrchestration, when present, follows: confirm -> reminder_pending, cancel -> cancelled,
  complete_no_show_recovery -> completed.

`apply` is pure: it never mutates its input, and keeps only the contract's bookingOutcome properties, so its result
validates against the contract.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from shared.platform import clock
from shared.platform.errors import BadRequest

STATUSES: tuple[str, ...] = (
    "captured",
    "awaiting_qualification",
    "availability_found",
    "slot_selected",
    "pending_approval",
    "confirmed",
    "reschedule_requested",
    "cancelled",
    "no_show_followup",
    "exception",
)
ACTIONS: tuple[str, ...] = (
    "confirm",
    "request_reschedule",
    "cancel",
    "mark_no_show",
    "send_reminder",
    "mark_reminder_failed",
    "complete_no_show_recovery",
)
TERMINAL_STATUSES = frozenset({"cancelled"})

TRANSITIONS: dict[tuple[str, str], str] = {
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

# The contract's bookingOutcome bookkeeping values.
REMINDER_STATUSES = ("not_configured", "queued", "sent", "failed")
REMINDER_RESULTS = ("not_sent", "queued", "sent", "failed")
NO_SHOW_RECOVERY_STATUSES = ("not_needed", "queued", "completed")
WAITLIST_STATUSES = ("not_needed", "recommended", "queued", "backfill_candidate")
APPROVAL_STATUSES = ("not_required", "pending", "approved", "rejected")
ORCHESTRATION_PHASES = ("reminder_pending", "completed", "cancelled")
REMINDER_LEAD_HOURS = 24
NO_SHOW_GRACE_MINUTES = 30
REMINDER_FAILURE_EXCEPTION = "reminder_delivery_failed"

OUTCOME_FIELDS = frozenset(
    {"status", "selectedSuggestionId", "scheduledFor", "reminderStatus", "noShowRecoveryStatus", "waitlistStatus"}
    | {"nextReminderDueAt", "reminderAttemptCount", "lastReminderResult", "backfillCandidateCount"}
    | {"reminderScheduledFor", "reminderAttempts", "lastTransitionAction", "externalEventId", "externalProvider"}
    | {"confirmationCode", "updatedAt", "bookingOrchestration", "approvalStatus", "approvalRequestedAt"}
    | {"approvalResolvedAt", "approvalResolvedBy", "approvalNotes"}
)
ORCHESTRATION_PHASE_AFTER = {
    "confirm": "reminder_pending",
    "cancel": "cancelled",
    "complete_no_show_recovery": "completed",
}

# interactionSummary.booking.status for each bookingOutcome.status.
SUMMARY_BOOKING_STATUS = {
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

_VERBS = {
    "confirm": "confirm",
    "request_reschedule": "request a reschedule of",
    "cancel": "cancel",
    "mark_no_show": "mark a no-show for",
    "send_reminder": "send a reminder for",
    "mark_reminder_failed": "record a failed reminder for",
    "complete_no_show_recovery": "complete no-show recovery for",
}

# Refusals of an action in the state it leads to.
_ALREADY = {
    ("confirmed", "confirm"): "already confirmed",
    ("reschedule_requested", "request_reschedule"): "already waiting to be rescheduled",
    ("cancelled", "cancel"): "already cancelled",
    ("no_show_followup", "mark_no_show"): "already marked as a no-show",
}


class InvalidTransition(BadRequest):
    """A lifecycle action the booking's current state does not allow; the message says why."""

    code = "invalid_booking_transition"

    def __init__(self, message: str, *, action: str | None = None, from_status: str | None = None) -> None:
        super().__init__(message)
        self.action = action
        self.from_status = from_status


def _series(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def allowed_actions(status: str) -> tuple[str, ...]:
    """The actions a booking in `status` accepts, in contract order."""
    return tuple(action for action in ACTIONS if (status, action) in TRANSITIONS)


def can_apply(status: str | None, action: str) -> bool:
    """Whether `action` is legal for a booking in `status`."""
    return (status, action) in TRANSITIONS


def refusal(status: str, action: str) -> str:
    """Why `action` is refused for a booking in `status` (for a pair TRANSITIONS does not allow)."""
    verb = _VERBS.get(action, action)
    if (status, action) in _ALREADY:
        return f"cannot {verb} a booking that is {_ALREADY[(status, action)]}"
    if status in TERMINAL_STATUSES:
        return f"cannot {verb} a booking that is {status}: a {status} booking is final"
    sources = [source for source in STATUSES if (source, action) in TRANSITIONS]
    return (
        f"cannot {verb} a booking in status {status}: {action} applies only to bookings with status {_series(sources)}"
    )


parse_instant = clock.parse_iso
format_instant = clock.iso


def reminder_due_at(scheduled_for: str, *, lead_hours: int = REMINDER_LEAD_HOURS) -> str:
    """When the reminder for an appointment at `scheduled_for` is due: `lead_hours` before it (UTC ISO 8601)."""
    if isinstance(lead_hours, bool) or not isinstance(lead_hours, int) or lead_hours < 0:
        raise ValueError("lead_hours must be a non-negative whole number")
    return format_instant(parse_instant(scheduled_for) - timedelta(hours=lead_hours))


def reminder_is_due(outcome: Mapping[str, Any] | None, now: str) -> bool:
    """Whether a timer should send the reminder now: a confirmed booking with a queued reminder that is due."""
    if not outcome or outcome.get("status") != "confirmed" or outcome.get("reminderStatus") != "queued":
        return False
    due = outcome.get("nextReminderDueAt")
    try:
        return isinstance(due, str) and parse_instant(due) <= parse_instant(now)
    except ValueError:
        return False


def no_show_is_due(outcome: Mapping[str, Any] | None, now: str, *, grace_minutes: int = NO_SHOW_GRACE_MINUTES) -> bool:
    """Whether a timer may mark a no-show: a confirmed booking whose appointment began `grace_minutes` ago."""
    if not outcome or outcome.get("status") != "confirmed" or not isinstance(outcome.get("scheduledFor"), str):
        return False
    try:
        return parse_instant(outcome["scheduledFor"]) + timedelta(minutes=grace_minutes) <= parse_instant(now)
    except ValueError:
        return False


def summary_booking_status(status: str) -> str:
    """The interactionSummary.booking.status that mirrors a bookingOutcome.status."""
    return SUMMARY_BOOKING_STATUS.get(status, "pending")


def _attempts(outcome: Mapping[str, Any]) -> int:
    for field in ("reminderAttemptCount", "reminderAttempts"):
        value = outcome.get(field)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
            return int(value)
    return 0


def _withdraw_reminder(outcome: dict[str, Any]) -> None:
    if outcome.get("reminderStatus") == "queued":
        outcome["reminderStatus"] = "not_configured"
    if outcome.get("lastReminderResult") == "queued":
        outcome["lastReminderResult"] = "not_sent"
    outcome.pop("nextReminderDueAt", None)
    outcome.pop("reminderScheduledFor", None)


def _record_attempt(outcome: dict[str, Any], result: str) -> None:
    attempts = _attempts(outcome) + 1
    outcome["reminderStatus"] = result
    outcome["lastReminderResult"] = result
    outcome["reminderAttemptCount"] = attempts
    outcome["reminderAttempts"] = attempts
    outcome.pop("nextReminderDueAt", None)


def _confirm(
    outcome: dict[str, Any],
    from_status: str,
    *,
    scheduled_for: str | None,
    selected_suggestion_id: str | None,
    reference_id: str | None,
    note: str | None,
    now: str,
    moment: datetime,
) -> None:
    slot = scheduled_for or outcome.get("scheduledFor")
    if not isinstance(slot, str) or not slot.strip():
        raise InvalidTransition(
            "cannot confirm a booking without a scheduled time: pass scheduledFor",
            action="confirm",
            from_status=from_status,
        )
    try:
        appointment = parse_instant(slot)
    except ValueError:
        raise InvalidTransition(
            f"cannot confirm a booking for {slot!r}: scheduledFor must be an ISO 8601 date-time",
            action="confirm",
            from_status=from_status,
        ) from None
    outcome["scheduledFor"] = slot
    if selected_suggestion_id:
        outcome["selectedSuggestionId"] = selected_suggestion_id
    if reference_id:
        outcome["confirmationCode"] = reference_id
    outcome.update(reminderAttemptCount=0, reminderAttempts=0, lastReminderResult="not_sent")
    outcome["noShowRecoveryStatus"] = "not_needed"
    if appointment > moment:
        due = max(parse_instant(reminder_due_at(slot)), moment)
        outcome.update(reminderStatus="queued", nextReminderDueAt=format_instant(due))
        outcome["reminderScheduledFor"] = outcome["nextReminderDueAt"]
    else:
        outcome["reminderStatus"] = "not_configured"
        outcome.pop("nextReminderDueAt", None)
        outcome.pop("reminderScheduledFor", None)
    if from_status == "pending_approval":
        outcome.update(approvalStatus="approved", approvalResolvedAt=now)
        if note:
            outcome["approvalNotes"] = note


def apply(
    outcome: Mapping[str, Any] | None,
    action: str,
    *,
    scheduled_for: str | None = None,
    selected_suggestion_id: str | None = None,
    reference_id: str | None = None,
    note: str | None = None,
    now: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply a lifecycle `action` to a bookingOutcome at `now` (ISO 8601).

    Returns (the new bookingOutcome, the ledger entry {"action", "fromStatus", "toStatus", "at", "note"?,
    "referenceId"?}). Raises InvalidTransition for an unknown action, a missing or unknown status, an illegal
    move, or a confirm without a usable scheduledFor; ValueError when `now` is not an ISO 8601 date-time.
    scheduled_for and selected_suggestion_id are used by confirm only.
    """
    moment = parse_instant(now)
    if action not in ACTIONS:
        raise InvalidTransition(f"unknown booking action {action!r}: expected one of {', '.join(ACTIONS)}")
    verb = _VERBS[action]
    if not outcome:
        raise InvalidTransition(f"cannot {verb} a booking: this session has no booking yet", action=action)
    from_status = outcome.get("status")
    if from_status not in STATUSES:
        raise InvalidTransition(f"cannot {verb} a booking whose status {from_status!r} is unknown", action=action)
    target = TRANSITIONS.get((from_status, action))
    if target is None:
        raise InvalidTransition(refusal(from_status, action), action=action, from_status=from_status)

    result = {key: copy.deepcopy(value) for key, value in outcome.items() if key in OUTCOME_FIELDS}
    if action == "confirm":
        _confirm(
            result,
            from_status,
            scheduled_for=scheduled_for,
            selected_suggestion_id=selected_suggestion_id,
            reference_id=reference_id,
            note=note,
            now=now,
            moment=moment,
        )
    elif action in ("request_reschedule", "cancel", "mark_no_show"):
        _withdraw_reminder(result)
        if action == "mark_no_show":
            result["noShowRecoveryStatus"] = "queued"
        if action == "cancel":
            if result.get("noShowRecoveryStatus") == "queued":
                result["noShowRecoveryStatus"] = "not_needed"
            if from_status == "pending_approval" or result.get("approvalStatus") == "pending":
                result.update(approvalStatus="rejected", approvalResolvedAt=now)
                if note:
                    result["approvalNotes"] = note
    elif action == "send_reminder":
        _record_attempt(result, "sent")
    elif action == "mark_reminder_failed":
        _record_attempt(result, "failed")
    elif action == "complete_no_show_recovery":
        result["noShowRecoveryStatus"] = "completed"

    orchestration = result.get("bookingOrchestration")
    if action in ORCHESTRATION_PHASE_AFTER and isinstance(orchestration, dict):
        orchestration.update(phase=ORCHESTRATION_PHASE_AFTER[action], updatedAt=now)
    result.update(status=target, lastTransitionAction=action, updatedAt=now)

    entry: dict[str, Any] = {"action": action, "fromStatus": from_status, "toStatus": target, "at": now}
    if note:
        entry["note"] = note
    if reference_id:
        entry["referenceId"] = reference_id
    return result, entry


def skip_reminder(outcome: Mapping[str, Any] | None, *, now: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Withdraw a confirmed booking's pending reminder (the skipReminder signal); the status stays.

    Returns (the new bookingOutcome, the ledger entry). Raises InvalidTransition when there is no
    pending reminder to skip. Not one of ACTIONS: it is a signal of the booking workflow, not a move.
    """
    if not outcome or outcome.get("reminderStatus") != "queued":
        raise InvalidTransition(
            "cannot skip the reminder: the booking has no pending reminder",
            action="skip_reminder",
            from_status=(outcome or {}).get("status"),
        )
    result = {key: copy.deepcopy(value) for key, value in outcome.items() if key in OUTCOME_FIELDS}
    _withdraw_reminder(result)
    result["updatedAt"] = now
    status = result.get("status")
    entry = {"action": "skip_reminder", "fromStatus": status, "toStatus": status, "at": now}
    return result, entry
