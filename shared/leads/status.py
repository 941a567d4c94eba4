"""The lead pipeline: an explicit status machine over the contract's lead `status`.

    new → contacted → pilot_requested → pilot_active → paid
    every status but lost → lost

A lead moves one step forward along the pipeline, or to `lost` from any other status (a paying customer can
still churn). `lost` is terminal; nothing moves backwards and no step is skipped, so the status history of a
lead is at most five changes long and every change names a real event the sales team can audit.

Asking for the status a lead already has is not a change: `plan` returns None and the caller writes nothing
(a repeated PATCH is idempotent). Every other pair outside TRANSITIONS is refused with InvalidStatusTransition
(HTTP 400: the PATCH operation documents no 409).

`apply` is pure: it returns a new lead document with the status, `statusChangedAt`, `updatedAt` and one more
`statusHistory` entry ({from, to, at, actor}); the caller records the same change in the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.platform.errors import BadRequest

PIPELINE: tuple[str, ...] = ("new", "contacted", "pilot_requested", "pilot_active", "paid")
LOST = "lost"
STATUSES: tuple[str, ...] = (*PIPELINE, LOST)
INITIAL = "new"

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", LOST}),
    "contacted": frozenset({"pilot_requested", LOST}),
    "pilot_requested": frozenset({"pilot_active", LOST}),
    "pilot_active": frozenset({"paid", LOST}),
    "paid": frozenset({LOST}),
    LOST: frozenset(),
}


class InvalidStatusTransition(BadRequest):
    """The lead cannot move from its status to the one asked for."""

    code = "invalid_status_transition"
    default_message = "The lead cannot move to that status"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One accepted move of a lead's status."""

    previous: str
    status: str


def allowed_targets(status: str) -> frozenset[str]:
    """The statuses a lead in `status` may move to (empty for `lost` and unknown statuses)."""
    return TRANSITIONS.get(status, frozenset())


def can_move(current: str, target: str) -> bool:
    """Whether `current` -> `target` is a change the machine allows."""
    return target in allowed_targets(current)


def plan(current: str, target: str) -> StatusChange | None:
    """The change from `current` to `target`; None when they are equal; InvalidStatusTransition otherwise."""
    if target not in STATUSES:
        raise InvalidStatusTransition(f"Unknown lead status {target!r}")
    if current not in STATUSES:
        raise InvalidStatusTransition("The lead has an unknown status and cannot be moved")
    if current == target:
        return None
    if not can_move(current, target):
        allowed = ", ".join(sorted(allowed_targets(current))) or "none (lost is final)"
        raise InvalidStatusTransition(
            f"A lead cannot move from {current} to {target}; from {current} it can move to: {allowed}"
        )
    return StatusChange(previous=current, status=target)


def apply(lead: Mapping[str, Any], target: str, *, actor: str, now: str) -> tuple[dict[str, Any], StatusChange | None]:
    """The lead after moving to `target` (a new dict) and the change; the same content and None for a no-op."""
    change = plan(str(lead.get("status", INITIAL)), target)
    updated = dict(lead)
    if change is None:
        return updated, None
    history = [dict(entry) for entry in lead.get("statusHistory") or [] if isinstance(entry, Mapping)]
    history.append({"from": change.previous, "to": change.status, "at": now, "actor": actor})
    updated.update(status=change.status, statusChangedAt=now, updatedAt=now, statusHistory=history)
    return updated, change
