"""The weekly pilot snapshot, computed from stored data only, and what a recompute changed.

`compute_snapshot` takes one tenant's stored documents for one ISO week (see shared/pilots/weeks.py) and the
pilot's ROI assumptions (the document PUT /api/cp/pilots/{pilotId}/roi stores), and returns the contract's
snapshot object. Documents of another tenant are ignored, a document read twice (same id) counts once in its
newest copy (Cosmos `_ts`, then `updatedAt`), and nothing a client sent as a figure is read. The model:

* callsHandled — sessions finalized in the week (`finalizedAt` inside [weekStart, weekEnd + 1 day)).
* missedCallsRecovered — of those, calls taken when the practice was closed: the session's `workflowPolicy`
  says `routingTag: after_hours` or `businessHoursOpen: false`. Without that record a call counts as a
  business-hours call, so the figure never claims more than the data shows.
* bookingsRequested — handled sessions that asked for an appointment: `interactionSummary.booking.requested`,
  a `bookingRequest`, or a `bookingOutcome` of any status.
* bookingsConfirmed — distinct sessions with a booking-ledger entry `action: confirm` dated inside the week
  (a booking is counted in the week it was confirmed, whenever the call was; a re-confirm after a reschedule
  in the same week counts once).
* exceptionsOpen — the backlog at the end of the week: exceptions opened before weekEnd that were not yet
  resolved or ignored then (status open, or resolved/ignored at or after the week's end).
* exceptionsResolved — exceptions resolved inside the week (status resolved; the time is `resolvedAt`, else
  `updatedAt`). Ignored exceptions are closed but not counted as resolved.
  Exceptions are items of the tenant (the cp exceptions list: `timestamp`, `status`) or the booking exceptions
  embedded in session documents (`createdAt`, `status`, `resolvedAt`); `exceptions_from_sessions` collects the
  embedded ones.
* estimatedTimeSavedHours = callsHandled × averageManualHandleTimeMinutes / 60 — staff time the calls would
  have taken by hand.
* estimatedValueRecoveredUsd, the sum of
    labour:       per handled call, averageManualHandleTimeMinutes / 60 × laborHourlyRateUsd, times
                  afterHoursCaptureMultiplier (default 1) for an after-hours call (staff time after hours costs
                  more, or is not available at all);
    bookings:     bookingsConfirmed × appointmentValueUsd;
    no-shows:     ledger entries `complete_no_show_recovery` inside the week × noShowRecoveryValueUsd;
    collections:  handled sessions that captured a promise to pay (`extractedData.promiseToPayDate`) or sent a
                  payment link (`send_payment_link` in toolsUsed) and ended resolved × collectionRecoveryValueUsd.
  A missing assumption contributes 0. Without ROI assumptions both estimates are 0: the snapshot never
  invents an hourly rate or an appointment value (PUT the ROI assumptions, then recompute).

Hours and dollars are rounded half-up to 2 decimals; counts are whole numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.pilots.weeks import IsoWeek
from shared.platform import clock

METRIC_FIELDS: tuple[str, ...] = (
    "callsHandled",
    "missedCallsRecovered",
    "bookingsRequested",
    "bookingsConfirmed",
    "exceptionsOpen",
    "exceptionsResolved",
    "estimatedTimeSavedHours",
    "estimatedValueRecoveredUsd",
)
SNAPSHOT_FIELDS: tuple[str, ...] = (
    "pilotId",
    "tenantId",
    "weekId",
    "weekStart",
    "weekEnd",
    *METRIC_FIELDS,
    "createdAt",
)
PAYMENT_LINK_TOOL = "send_payment_link"
PROMISE_TO_PAY_FIELD = "promiseToPayDate"
CLOSED_EXCEPTION_STATUSES = frozenset({"resolved", "ignored"})


def snapshot_id(pilot_id: str, week: IsoWeek) -> str:
    """The one document id of a pilot's snapshot for a week (a recompute replaces it)."""
    return f"{pilot_id}:{week.week_id}"


def _round2(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _amount(assumptions: Mapping[str, Any] | None, name: str, default: float = 0.0) -> float:
    value = (assumptions or {}).get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return default
    return float(value)


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return clock.parse_iso(value)
    except ValueError:
        return None


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _version(doc: Mapping[str, Any]) -> tuple[float, str, str]:
    """Newer copies of a document sort later: Cosmos `_ts`, then updatedAt, then the content itself."""
    stamp = doc.get("_ts")
    seconds = float(stamp) if isinstance(stamp, int | float) and not isinstance(stamp, bool) else 0.0
    return seconds, str(doc.get("updatedAt") or ""), json.dumps(doc, sort_keys=True, default=str)


def _unique(docs: Iterable[Mapping[str, Any]], tenant_id: str) -> list[Mapping[str, Any]]:
    """The tenant's documents, each id once: the newest copy of a document read twice wins, whatever the order."""
    by_id: dict[str, Mapping[str, Any]] = {}
    anonymous = []
    for doc in docs:
        if not isinstance(doc, Mapping) or doc.get("tenantId") != tenant_id:
            continue
        key = str(doc.get("id") or "")
        if not key:
            anonymous.append(doc)
        elif key not in by_id or _version(doc) > _version(by_id[key]):
            by_id[key] = doc
    return [*by_id.values(), *anonymous]


def is_after_hours(session: Mapping[str, Any]) -> bool:
    """Whether the stored routing says the call came while the practice was closed."""
    policy = _dict(session.get("workflowPolicy"))
    return policy.get("routingTag") == "after_hours" or policy.get("businessHoursOpen") is False


def handled_in_week(session: Mapping[str, Any], week: IsoWeek) -> bool:
    """Whether a session was finalized inside the week."""
    finalized = _instant(session.get("finalizedAt"))
    return finalized is not None and week.contains(finalized)


def requested_booking(session: Mapping[str, Any]) -> bool:
    """Whether the call asked for an appointment."""
    booking = _dict(_dict(session.get("interactionSummary")).get("booking"))
    return (
        booking.get("requested") is True or bool(session.get("bookingRequest")) or bool(session.get("bookingOutcome"))
    )


def recovered_collection(session: Mapping[str, Any]) -> bool:
    """Whether the call secured a payment: a promise-to-pay date, or a payment link on a resolved call."""
    promise = _dict(session.get("extractedData")).get(PROMISE_TO_PAY_FIELD)
    if isinstance(promise, str) and promise.strip():
        return True
    tools = session.get("toolsUsed") if isinstance(session.get("toolsUsed"), list) else []
    disposition = _dict(session.get("interactionSummary")).get("disposition")
    return PAYMENT_LINK_TOOL in tools and disposition == "resolved"


def exceptions_from_sessions(sessions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The booking exceptions embedded in session documents, each carrying its session's tenant and id."""
    items = []
    for session in sessions:
        if not isinstance(session, Mapping):
            continue
        for item in session.get("bookingExceptions") or []:
            if isinstance(item, Mapping):
                items.append({"tenantId": session.get("tenantId"), "sessionId": session.get("id"), **dict(item)})
    return items


def _opened_at(item: Mapping[str, Any]) -> datetime | None:
    return _instant(item.get("createdAt")) or _instant(item.get("timestamp"))


def _closed_at(item: Mapping[str, Any]) -> datetime | None:
    return _instant(item.get("resolvedAt")) or _instant(item.get("updatedAt"))


def _open_at_week_end(item: Mapping[str, Any], week: IsoWeek) -> bool:
    opened = _opened_at(item)
    if opened is None or opened >= week.end:
        return False
    status = item.get("status")
    if status == "open":
        return True
    if status in CLOSED_EXCEPTION_STATUSES:
        closed = _closed_at(item)
        return closed is not None and closed >= week.end
    return False


def _resolved_in_week(item: Mapping[str, Any], week: IsoWeek) -> bool:
    if item.get("status") != "resolved":
        return False
    closed = _closed_at(item)
    return closed is not None and week.contains(closed)


def _ledger_sessions(entries: list[Mapping[str, Any]], action: str, week: IsoWeek) -> set[str]:
    sessions = set()
    for entry in entries:
        at = _instant(entry.get("at"))
        if entry.get("action") == action and at is not None and week.contains(at) and entry.get("sessionId"):
            sessions.add(str(entry["sessionId"]))
    return sessions


def _ledger_count(entries: list[Mapping[str, Any]], action: str, week: IsoWeek) -> int:
    count = 0
    for entry in entries:
        at = _instant(entry.get("at"))
        if entry.get("action") == action and at is not None and week.contains(at):
            count += 1
    return count


def compute_snapshot(
    *,
    tenant_id: str,
    pilot_id: str,
    week: IsoWeek,
    sessions: Iterable[Mapping[str, Any]],
    ledger_entries: Iterable[Mapping[str, Any]],
    exceptions: Iterable[Mapping[str, Any]],
    roi: Mapping[str, Any] | None,
    now: str | None = None,
) -> dict[str, Any]:
    """The contract's snapshot object for one pilot and week (the model is in this module's docstring)."""
    handled = [doc for doc in _unique(sessions, tenant_id) if handled_in_week(doc, week)]
    entries = _unique(ledger_entries, tenant_id)
    items = _unique(exceptions, tenant_id)

    after_hours = sum(1 for doc in handled if is_after_hours(doc))
    confirmed = _ledger_sessions(entries, "confirm", week)
    no_show_recoveries = _ledger_count(entries, "complete_no_show_recovery", week)
    collections = sum(1 for doc in handled if recovered_collection(doc))

    hours = 0.0
    value = 0.0
    if roi:
        minutes = _amount(roi, "averageManualHandleTimeMinutes")
        rate = _amount(roi, "laborHourlyRateUsd")
        multiplier = _amount(roi, "afterHoursCaptureMultiplier", 1.0)
        hours = len(handled) * minutes / 60
        labour_calls = (len(handled) - after_hours) + after_hours * multiplier
        value = (
            labour_calls * minutes / 60 * rate
            + len(confirmed) * _amount(roi, "appointmentValueUsd")
            + no_show_recoveries * _amount(roi, "noShowRecoveryValueUsd")
            + collections * _amount(roi, "collectionRecoveryValueUsd")
        )

    return {
        "pilotId": pilot_id,
        "tenantId": tenant_id,
        "weekId": week.week_id,
        "weekStart": week.monday.isoformat(),
        "weekEnd": week.sunday.isoformat(),
        "callsHandled": len(handled),
        "missedCallsRecovered": after_hours,
        "bookingsRequested": sum(1 for doc in handled if requested_booking(doc)),
        "bookingsConfirmed": len(confirmed),
        "exceptionsOpen": sum(1 for item in items if _open_at_week_end(item, week)),
        "exceptionsResolved": sum(1 for item in items if _resolved_in_week(item, week)),
        "estimatedTimeSavedHours": _round2(hours),
        "estimatedValueRecoveredUsd": _round2(value),
        "createdAt": now or clock.now_iso(),
    }


def snapshot_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's snapshot object out of a stored snapshot document."""
    return {name: doc[name] for name in SNAPSHOT_FIELDS if name in doc}


def diff_snapshots(previous: Mapping[str, Any] | None, current: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What a recompute changed, metric by metric, as `{field: {"from", "to"}}` (empty when nothing did).

    Only the metrics are compared (createdAt always moves); a first snapshot lists every metric from None.
    """
    before = previous or {}
    return {
        name: {"from": before.get(name), "to": current.get(name)}
        for name in METRIC_FIELDS
        if before.get(name) != current.get(name)
    }
