"""The pilot lifecycle, an explicit state machine, and the lead moves that follow a pilot created from a lead.

Pilot statuses (the contract's enum) and the only legal moves; every other (from, to) pair is refused with
InvalidPilotTransition (HTTP 400):

    invited    -> setup, lost
    setup      -> active, lost
    active     -> completed, lost
    completed  -> converted, lost
    converted  (final: the customer signed)
    lost       (final)

A pilot advances one step at a time, so its audit trail shows every stage; `lost` ends it from any open stage.
Moving to the status it already has is not a move (`is_noop`): a PATCH repeating the status changes nothing.
A new pilot starts `invited` unless the creator says it is already in `setup` or `active` (a pilot agreed
outside the console); it cannot be created completed, converted or lost.

Snapshots are taken of `active` pilots (SNAPSHOT_STATUSES): the Monday timer computes last week's numbers
for each of them.

Lead moves. A pilot created from a lead (`sourceLeadId`) drags that lead along the leads pipeline
(new -> contacted -> pilot_requested -> pilot_active -> paid, or lost):

    pilot invited, setup       -> lead pilot_requested
    pilot active, completed    -> lead pilot_active
    pilot converted, lost      -> the lead is not moved

A lead only ever moves forward: one already at or beyond the target stays where it is, and a `paid` or `lost`
lead is never touched. Converting or losing a pilot does not decide the lead's fate (paid and lost are the
sales team's call on the lead itself), so those pilot moves leave the lead alone.
"""

from __future__ import annotations

from shared.platform import clock
from shared.platform.errors import BadRequest

STATUSES: tuple[str, ...] = ("invited", "setup", "active", "completed", "converted", "lost")
TERMINAL_STATUSES = frozenset({"converted", "lost"})
INITIAL_STATUSES = frozenset({"invited", "setup", "active"})
DEFAULT_INITIAL_STATUS = "invited"
SNAPSHOT_STATUSES = frozenset({"active"})

TRANSITIONS: frozenset[tuple[str, str]] = frozenset(
    {
        ("invited", "setup"),
        ("invited", "lost"),
        ("setup", "active"),
        ("setup", "lost"),
        ("active", "completed"),
        ("active", "lost"),
        ("completed", "converted"),
        ("completed", "lost"),
    }
)

LEAD_PIPELINE: tuple[str, ...] = ("new", "contacted", "pilot_requested", "pilot_active", "paid")
LEAD_STATUSES: tuple[str, ...] = (*LEAD_PIPELINE, "lost")
LEAD_FINAL_STATUSES = frozenset({"paid", "lost"})
LEAD_STATUS_FOR_PILOT: dict[str, str | None] = {
    "invited": "pilot_requested",
    "setup": "pilot_requested",
    "active": "pilot_active",
    "completed": "pilot_active",
    "converted": None,
    "lost": None,
}


class InvalidPilotTransition(BadRequest):
    """A status change the pilot's current status does not allow; the message says why."""

    code = "invalid_pilot_transition"


class InvalidPilotDates(BadRequest):
    """Pilot dates that are not dates, or an end that is not after the start."""

    code = "invalid_pilot_dates"


def _check_status(status: object, what: str) -> str:
    if status not in STATUSES:
        raise InvalidPilotTransition(f"unknown {what} pilot status {status!r}: expected one of {', '.join(STATUSES)}")
    return str(status)


def allowed_targets(status: str) -> tuple[str, ...]:
    """The statuses a pilot in `status` may move to, in contract order."""
    return tuple(target for target in STATUSES if (status, target) in TRANSITIONS)


def can_move(current: str, target: str) -> bool:
    """Whether `current` → `target` is a legal move (a repeat of the same status is not a move)."""
    return (current, target) in TRANSITIONS


def is_noop(current: str, target: str) -> bool:
    """Whether the requested status is the one the pilot already has."""
    return current == target


def check_move(current: object, target: object) -> str:
    """The target status when `current` → `target` is legal or a repeat; InvalidPilotTransition otherwise."""
    source = _check_status(current, "current")
    goal = _check_status(target, "requested")
    if source == goal or (source, goal) in TRANSITIONS:
        return goal
    if source in TERMINAL_STATUSES:
        raise InvalidPilotTransition(f"the pilot is {source}: a {source} pilot is final")
    options = " or ".join(allowed_targets(source))
    raise InvalidPilotTransition(f"a pilot cannot move from {source} to {goal}: from {source} it can move to {options}")


def initial_status(requested: object | None) -> str:
    """The status a new pilot starts in: `invited`, or `setup` / `active` when asked (400 otherwise)."""
    if requested is None:
        return DEFAULT_INITIAL_STATUS
    status = _check_status(requested, "requested")
    if status not in INITIAL_STATUSES:
        raise InvalidPilotTransition(f"a pilot cannot be created {status}: it starts invited, setup or active")
    return status


def takes_snapshots(status: str) -> bool:
    """Whether the weekly snapshot timer computes numbers for a pilot in `status`."""
    return status in SNAPSHOT_STATUSES


def lead_move(lead_status: object, pilot_status: str) -> str | None:
    """The status the source lead moves to when its pilot is in `pilot_status`, or None to leave it.

    Moves are forward only along the pipeline; a paid, lost or unknown-status lead is never moved.
    """
    target = LEAD_STATUS_FOR_PILOT.get(_check_status(pilot_status, "pilot"))
    if target is None or lead_status not in LEAD_PIPELINE or lead_status in LEAD_FINAL_STATUSES:
        return None
    if LEAD_PIPELINE.index(str(lead_status)) >= LEAD_PIPELINE.index(target):
        return None
    return target


def check_dates(start: object | None, end: object | None) -> None:
    """Pilot start and end, when given, must be ISO 8601 dates or date-times, and the end after the start.

    A bare date (`2026-12-01`) is midnight UTC of that day; the values are stored as sent.
    """
    moments = {}
    for name, value in (("pilotStartDate", start), ("pilotEndDate", end)):
        if value is None:
            continue
        try:
            moments[name] = clock.parse_iso(value) if isinstance(value, str) else None
        except ValueError:
            moments[name] = None
        if moments[name] is None:
            raise InvalidPilotDates(f"{name} must be an ISO 8601 date such as 2026-12-01")
    if len(moments) == 2 and moments["pilotEndDate"] <= moments["pilotStartDate"]:
        raise InvalidPilotDates("pilotEndDate must be after pilotStartDate")
