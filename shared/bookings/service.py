"""Booking lifecycle: explicit transitions, the ledger, reminders and no-show recovery."""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.bookings import machine
from shared.bookings.repository import BookingLedgerRepository, ReminderRepository
from shared.platform import clock, events
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, Conflict, NotFound
from shared.platform.store import queues
from shared.platform.store.registry import (
    BOOKING_ORCHESTRATION_QUEUE,
    BOOKING_RECOVERY_QUEUE,
    BOOKING_REMINDERS_QUEUE,
)
from shared.platform.store.repository import Document
from shared.sessions import aggregate

logger = logging.getLogger("tellgence.bookings")

ledger = BookingLedgerRepository()
reminders = ReminderRepository()

ORCHESTRATOR_ACTOR = "system:orchestrator"


def ledger_of(session_id: str) -> list[Document]:
    """Every booking transition of a session, in order (one single-partition query)."""
    return ledger.for_session(session_id)


def workflow_id(session_id: str) -> str:
    """The orchestrator's workflow id for a session's booking (one workflow per booking)."""
    return f"booking-{session_id}"


def orchestrated(outcome: dict[str, Any] | None) -> bool:
    """Whether the orchestrator owns the booking's reminder and no-show ticks."""
    return isinstance(outcome, dict) and isinstance(outcome.get("bookingOrchestration"), dict)


def transition(
    session_id: str,
    tenant_id: str,
    action: str,
    *,
    actor: str,
    scheduled_for: str | None = None,
    selected_suggestion_id: str | None = None,
    reference_id: str | None = None,
    note: str | None = None,
    loaded: Document | None = None,
) -> Document:
    """Apply one lifecycle action (400 saying why when illegal), append it to the ledger, follow up."""
    from shared import flags
    from shared.flags.registry import BOOKING_TEMPORAL_ORCHESTRATION

    now = clock.now_iso()
    entries: list[dict[str, Any]] = []
    # Decided once per confirm, before the write: whether the orchestrator takes over this booking's ticks.
    use_orchestrator = action == "confirm" and flags.is_enabled(BOOKING_TEMPORAL_ORCHESTRATION, tenant_id)

    def apply(doc: Document) -> None:
        outcome, entry = machine.apply(
            doc.get("bookingOutcome"),
            action,
            scheduled_for=scheduled_for,
            selected_suggestion_id=selected_suggestion_id,
            reference_id=reference_id,
            note=note,
            now=now,
        )
        if action == "confirm":
            _hand_over(outcome, session_id, use_orchestrator, now)
        doc["bookingOutcome"] = outcome
        if action == "confirm" and not doc.get("bookingConfirmedAt"):
            # The first confirmation, kept: metrics count a booking once however often it is confirmed again.
            doc["bookingConfirmedAt"] = now
        summary = doc.get("interactionSummary")
        if isinstance(summary, dict):
            booking = summary.setdefault("booking", {"requested": True})
            booking["status"] = machine.summary_booking_status(outcome["status"])
            if outcome.get("scheduledFor"):
                booking["scheduledFor"] = outcome["scheduledFor"]
        entries[:] = [entry]

    doc = aggregate.update(tenant_id, session_id, apply, loaded=loaded)
    ledger.create(
        {"id": uuid.uuid4().hex, "sessionId": session_id, "tenantId": tenant_id, "actor": actor, **entries[0]}
    )
    if action == "confirm":
        events.publish("booking.confirmed", doc)
    outcome = doc["bookingOutcome"]
    if orchestrated(outcome):
        # The orchestrator drives reminders and no-show recovery; it hears of every change it did not make.
        if actor != ORCHESTRATOR_ACTOR:
            _signal_orchestrator(session_id, tenant_id, action, outcome)
        return doc
    if outcome.get("reminderStatus") == "queued" and outcome.get("nextReminderDueAt"):
        _schedule_reminder(session_id, tenant_id, outcome["nextReminderDueAt"])
    if action == "mark_no_show":
        queues.enqueue(BOOKING_RECOVERY_QUEUE, {"sessionId": session_id, "tenantId": tenant_id})
    return doc


def _hand_over(outcome: dict[str, Any], session_id: str, use_orchestrator: bool, now: str) -> None:
    """On confirm, give the booking's ticks to the orchestrator (flag on) or take them back (flag off)."""
    if use_orchestrator:
        outcome["bookingOrchestration"] = {
            "workflowId": workflow_id(session_id),
            "phase": "reminder_pending",
            "updatedAt": now,
        }
    else:
        outcome.pop("bookingOrchestration", None)


def _signal_orchestrator(session_id: str, tenant_id: str, action: str, outcome: dict[str, Any]) -> None:
    """Tell the orchestrator's worker (queue `booking-orchestration`) what happened to its booking."""
    message = {
        "workflowId": outcome["bookingOrchestration"]["workflowId"],
        "sessionId": session_id,
        "tenantId": tenant_id,
        "action": action,
        "status": outcome["status"],
        "phase": outcome["bookingOrchestration"]["phase"],
    }
    for name in ("scheduledFor", "nextReminderDueAt"):
        if outcome.get(name):
            message[name] = outcome[name]
    queues.enqueue(BOOKING_ORCHESTRATION_QUEUE, message)


def _schedule_reminder(session_id: str, tenant_id: str, due_at: str) -> None:
    day = due_at[:10]
    # The same reminder may already be scheduled (a retried confirm): keep the one there.
    with contextlib.suppress(Conflict):
        reminders.create(
            {
                "id": f"{session_id}-{machine.parse_instant(due_at).strftime('%Y%m%dT%H%M%S')}",
                "dueDay": day,
                "dueAt": due_at,
                "sessionId": session_id,
                "tenantId": tenant_id,
                "status": "scheduled",
                "ttl": 30 * 86400,
            }
        )


def enqueue_due_reminders(now: datetime | None = None) -> int:
    """Queue every reminder due by now (yesterday's stragglers included); returns how many were queued."""
    now = now or datetime.now(UTC)
    now_iso = machine.format_instant(now)
    queued = 0
    for day in ((now - timedelta(days=1)).strftime("%Y-%m-%d"), now.strftime("%Y-%m-%d")):
        for reminder in reminders.due(day, now_iso):
            queues.enqueue(
                BOOKING_REMINDERS_QUEUE,
                {"sessionId": reminder["sessionId"], "tenantId": reminder["tenantId"], "dueAt": reminder["dueAt"]},
            )
            reminders.update(reminder["id"], day, lambda doc: doc.update(status="enqueued", enqueuedAt=now_iso))
            queued += 1
    return queued


def _contact_email(doc: Document) -> str | None:
    contact = (doc.get("interactionSummary") or {}).get("contact") or {}
    return contact.get("email") or (doc.get("extractedData") or {}).get("email")


def deliver_reminder(session_id: str, tenant_id: str, due_at: str | None, *, actor: str = "system:reminders") -> str:
    """Send the reminder of a confirmed booking; returns sent, failed or stale.

    A reminder whose booking moved on (rescheduled, cancelled, already reminded) is stale and skipped.
    A failed send is recorded as mark_reminder_failed and opens a reminder_delivery_failed exception.
    """
    from shared.email.models import EmailMessage
    from shared.email.service import deliver

    doc = aggregate.read_live(tenant_id, session_id)
    outcome = doc.get("bookingOutcome") or {}
    if outcome.get("status") != "confirmed" or (due_at and outcome.get("nextReminderDueAt") != due_at):
        return "stale"
    if due_at and orchestrated(outcome):
        return "stale"  # the orchestrator took the booking over after this timer reminder was scheduled
    email = _contact_email(doc)
    error = "the contact has no email address" if not email else None
    if email:
        try:
            deliver(
                EmailMessage(
                    to=[email],
                    subject=f"Reminder: your appointment with {doc.get('companyName', 'us')}",
                    text=(
                        f"This is a reminder of your appointment on {outcome['scheduledFor']} with "
                        f"{doc.get('companyName', 'us')}. Reply to this email if you need to reschedule."
                    ),
                    idempotency_key=f"reminder:{session_id}:{outcome['scheduledFor']}",
                    correlation_id=session_id,
                    tags={"kind": "booking-reminder"},
                )
            )
        except Exception as exc:  # every delivery failure is recorded the same way
            error = f"delivery failed ({type(exc).__name__})"
    if error is None:
        transition(session_id, tenant_id, "send_reminder", actor=actor)
        return "sent"
    failed = transition(session_id, tenant_id, "mark_reminder_failed", actor=actor, note=error)
    open_exception(
        session_id,
        tenant_id,
        "reminder_delivery_failed",
        "reminder_follow_up",
        "Reminder not delivered",
        error,
        category="reminder",
        session=failed,
    )
    logger.warning("reminder for session %s failed: %s", session_id, error)
    return "failed"


def recover_no_show(session_id: str, tenant_id: str) -> str:
    """Offer a no-show a new time by email; without an email the case goes to operators."""
    from shared.email.models import EmailMessage
    from shared.email.service import deliver

    doc = aggregate.read_live(tenant_id, session_id)
    outcome = doc.get("bookingOutcome") or {}
    if outcome.get("status") != "no_show_followup" or outcome.get("noShowRecoveryStatus") != "queued":
        return "stale"
    email = _contact_email(doc)
    if not email:
        open_exception(
            session_id,
            tenant_id,
            "customer_unresponsive",
            "customer_responsiveness",
            "No-show without a contact email",
            "Call the customer to offer a new time.",
            session=doc,
        )
        return "needs_operator"
    deliver(
        EmailMessage(
            to=[email],
            subject=f"We missed you at {doc.get('companyName', 'your appointment')}",
            text="We missed you at your appointment. Reply to this email or call us to choose a new time.",
            idempotency_key=f"no-show-recovery:{session_id}:{outcome.get('scheduledFor', '')}",
            correlation_id=session_id,
            tags={"kind": "no-show-recovery"},
        )
    )
    transition(session_id, tenant_id, "complete_no_show_recovery", actor="system:recovery")
    return "completed"


def open_exception(
    session_id: str,
    tenant_id: str,
    code: str,
    group: str,
    title: str,
    message: str,
    *,
    category: str = "booking",
    session: Document | None = None,
) -> None:
    """Open a booking exception for operators: an item on the exceptions desk, copied onto the session."""
    from shared.exceptions import service as exceptions

    exceptions.open_exception(
        tenant_id,
        session_id,
        category=category,
        error_type=code,
        reason_group=group,
        title=title,
        message=message,
        suggested_actions=("request_callback", "assign_escalate", "mark_resolved"),
        session=session,
    )


# --- bookings started by tools, the operators' desk and the workflow signal ---------------------------------

# Statuses from which a tool's booked slot opens a new booking (slot selected, then confirmed).
OPENABLE = frozenset({None, "captured", "awaiting_qualification", "availability_found", "slot_selected", "cancelled"})


def book(
    session_id: str,
    tenant_id: str,
    *,
    scheduled_for: str,
    selected_suggestion_id: str,
    reference_id: str,
    actor: str,
    note: str | None = None,
    loaded: Document | None = None,
) -> Document:
    """A slot was booked for the session (a tool run): open its booking at the slot and confirm it.

    A session without a booking (or a cancelled one, or one still looking for a slot) gets
    `slot_selected` at that time (a ledger entry `select_slot`), then `confirm` through the machine (its
    ledger entry, reminder or orchestrator hand-over). A booking waiting for a new time
    (reschedule_requested, exception, pending_approval) is confirmed at the slot directly; a confirmed
    booking is refused (400): moving it is a reschedule.
    """
    now = clock.now_iso()
    opened: list[dict[str, Any]] = []

    def select(doc: Document) -> None:
        outcome = doc.get("bookingOutcome") if isinstance(doc.get("bookingOutcome"), dict) else None
        status = (outcome or {}).get("status")
        opened.clear()
        if status not in OPENABLE:
            if machine.can_apply(status, "confirm"):
                return
            raise machine.InvalidTransition(
                f"cannot book a slot: the session's booking is {status}; reschedule or cancel it first",
                action="confirm",
                from_status=status,
            )
        doc["bookingOutcome"] = {
            "status": "slot_selected",
            "scheduledFor": scheduled_for,
            "selectedSuggestionId": selected_suggestion_id,
            "updatedAt": now,
        }
        opened.append({"action": "select_slot", "fromStatus": status, "toStatus": "slot_selected", "at": now})

    doc = aggregate.update(tenant_id, session_id, select, loaded=loaded)
    if opened:
        entry = {**opened[0], "referenceId": reference_id}
        if note:
            entry["note"] = note
        ledger.create({"id": uuid.uuid4().hex, "sessionId": session_id, "tenantId": tenant_id, "actor": actor, **entry})
    return transition(
        session_id,
        tenant_id,
        "confirm",
        actor=actor,
        scheduled_for=scheduled_for,
        selected_suggestion_id=selected_suggestion_id,
        reference_id=reference_id,
        note=note,
        loaded=doc,
    )


def reschedule(
    session_id: str,
    tenant_id: str,
    *,
    scheduled_for: str,
    selected_suggestion_id: str,
    actor: str,
    note: str | None = None,
    loaded: Document | None = None,
) -> Document:
    """Move a confirmed booking to a new time: request_reschedule, then confirm at the new slot."""
    status = ((loaded or {}).get("bookingOutcome") or {}).get("status") if loaded else None
    doc = loaded
    if status != "reschedule_requested":
        doc = transition(session_id, tenant_id, "request_reschedule", actor=actor, note=note, loaded=loaded)
    return transition(
        session_id,
        tenant_id,
        "confirm",
        actor=actor,
        scheduled_for=scheduled_for,
        selected_suggestion_id=selected_suggestion_id,
        note=note,
        loaded=doc,
    )


def action_for_status(current: str | None, wanted: str) -> str:
    """The machine action an operator means by a target `status` (an action name is taken as it is).

    400 naming the allowed targets when no transition of the current status leads there.
    """
    if wanted in machine.ACTIONS:
        return wanted
    if wanted not in machine.STATUSES:
        raise machine.InvalidTransition(
            f"unknown booking status {wanted!r}: expected one of {', '.join(machine.STATUSES)} "
            f"or an action ({', '.join(machine.ACTIONS)})"
        )
    if current is None:
        raise machine.InvalidTransition("cannot change a booking: this session has no booking yet")
    moves = [a for a in machine.allowed_actions(current) if machine.TRANSITIONS[(current, a)] == wanted]
    # Reminder bookkeeping keeps a booking confirmed; a status change means the move itself.
    moves = [a for a in moves if a not in ("send_reminder", "mark_reminder_failed")] or moves
    if not moves:
        reachable = sorted({machine.TRANSITIONS[(current, a)] for a in machine.allowed_actions(current)})
        raise machine.InvalidTransition(
            f"cannot move a booking from {current} to {wanted}: from {current} it can become "
            + (", ".join(reachable) if reachable else "nothing (it is final)"),
            from_status=current,
        )
    return moves[0]


def operator_transition(principal: Any, session_id: str, status: str, notes: str | None) -> Document:
    """PATCH /api/cp/sessions/{id}/booking-lifecycle: an operator moves the booking (same machine and ledger)."""
    doc = aggregate.read_live(principal.tenant_id, session_id)
    current = (doc.get("bookingOutcome") or {}).get("status") if isinstance(doc.get("bookingOutcome"), dict) else None
    action = action_for_status(current, status)
    return transition(
        session_id, principal.tenant_id, action, actor=f"user:{principal.user_id}", note=notes, loaded=doc
    )


def skip_reminder(principal: Any, session_id: str) -> dict[str, Any]:
    """The skipReminder signal: the booking's pending reminder is withdrawn and the skip is in the ledger.

    A timer reminder's document is marked skipped (the timer sends only scheduled ones, and a reminder
    already queued is stale once the outcome no longer names its time); an orchestrated booking's
    workflow is told through the `booking-orchestration` queue. No pending reminder → 400.
    """
    tenant_id = principal.tenant_id
    doc = aggregate.read_live(tenant_id, session_id)
    now = clock.now_iso()
    skipped: list[tuple[dict[str, Any], dict[str, Any]]] = []
    try:
        machine.skip_reminder(doc.get("bookingOutcome"), now=now)
    except machine.InvalidTransition as exc:
        raise BadRequest("The booking has no pending reminder to skip", code="no_pending_reminder") from exc

    def apply(current: Document) -> None:
        before = current.get("bookingOutcome")
        outcome, entry = machine.skip_reminder(before, now=now)
        skipped[:] = [(before, entry)]
        current["bookingOutcome"] = outcome

    try:
        stored = aggregate.update(tenant_id, session_id, apply, loaded=doc)
    except machine.InvalidTransition as exc:  # another request skipped or sent it meanwhile
        raise BadRequest("The booking has no pending reminder to skip", code="no_pending_reminder") from exc
    before, entry = skipped[0]
    due = before.get("nextReminderDueAt")
    if due:
        entry["note"] = f"reminder due {due} skipped"
    ledger.create(
        {
            "id": uuid.uuid4().hex,
            "sessionId": session_id,
            "tenantId": tenant_id,
            "actor": f"user:{principal.user_id}",
            **entry,
        }
    )
    if orchestrated(before):
        queues.enqueue(
            BOOKING_ORCHESTRATION_QUEUE,
            {
                "workflowId": before["bookingOrchestration"]["workflowId"],
                "sessionId": session_id,
                "tenantId": tenant_id,
                "signal": "skipReminder",
                "action": "skip_reminder",
                "status": stored["bookingOutcome"]["status"],
                "phase": before["bookingOrchestration"]["phase"],
            },
        )
    elif due:
        reminder_id = f"{session_id}-{machine.parse_instant(due).strftime('%Y%m%dT%H%M%S')}"
        with contextlib.suppress(NotFound):
            reminders.set_fields(reminder_id, due[:10], {"status": "skipped", "skippedAt": now})
    return success(workflowId=workflow_id(session_id), signal="skipReminder")


def _ledger_view(item: Document) -> dict[str, Any]:
    detail = {k: item[k] for k in ("fromStatus", "toStatus", "actor", "note", "referenceId") if item.get(k)}
    view = {
        "id": item["id"],
        "sessionId": item["sessionId"],
        "eventType": item.get("action", "unknown"),
        "channel": "orchestrator" if item.get("actor") == ORCHESTRATOR_ACTOR else "api",
        "success": True,
        "detail": detail,
        "at": item.get("at", ""),
    }
    if item.get("toStatus"):
        view["phase"] = item["toStatus"]
    return view


def workflow_evidence(principal: Any, session_id: str) -> dict[str, Any]:
    """The booking's outcome, its exceptions (booking ones and every other of the session) and its ledger."""
    from shared.exceptions import service as exceptions

    tenant_id = principal.tenant_id
    doc = aggregate.read_live(tenant_id, session_id)
    items = exceptions.for_session(tenant_id, session_id)
    booking = [exceptions.session_copy(item) for item in items if exceptions.is_session_copy_type(item)]
    relevant = [exceptions.desk_view(item) for item in items if not exceptions.is_session_copy_type(item)]
    return {
        "sessionId": session_id,
        "bookingOutcome": doc.get("bookingOutcome"),
        "bookingExceptions": booking or list(doc.get("bookingExceptions") or []),
        "relevantExceptions": relevant,
        "ledger": [_ledger_view(item) for item in ledger.for_session(session_id)],
    }
