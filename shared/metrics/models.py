"""Metric source events (what other domains report at write time) and the query models of the Metrics tag."""

from __future__ import annotations

import math
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.platform.clock import parse_iso

EventKind = Literal[
    "session.started",
    "session.finalized",
    "tool.executed",
    "realtime.latency",
    "exception.opened",
    "exception.resolved",
    "lead.created",
    "lead.updated",
    "pilot.moved",
    "booking.requested",
    "booking.confirmed",
]
Outcome = Literal["success", "failure", "other"]
LeadStatus = Literal["new", "contacted", "pilot_requested", "pilot_active", "paid", "lost"]
LeadTier = Literal["hot", "warm", "cold"]
PilotStatus = Literal["invited", "setup", "active", "completed", "converted", "lost"]
TrendWindow = Literal["24h", "7d", "30d"]

LEAD_STATUSES: tuple[str, ...] = LeadStatus.__args__
LEAD_TIERS: tuple[str, ...] = LeadTier.__args__
PILOT_STATUSES: tuple[str, ...] = PilotStatus.__args__

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$"
SCENARIO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"
MAX_DURATION_SECONDS = 24 * 3600
MAX_LATENCY_MS = 24 * 3600 * 1000
MAX_COST_USD = 1_000_000

# Which optional fields each kind requires; a kind's other fields stay unset so a rollup cannot misread them.
_REQUIRED: dict[str, frozenset[str]] = {
    "session.started": frozenset({"scenarioId"}),
    "session.finalized": frozenset({"scenarioId", "outcome", "durationSeconds"}),
    "tool.executed": frozenset({"toolName", "ok"}),
    "realtime.latency": frozenset({"latencyMs"}),
    "exception.opened": frozenset(),
    "exception.resolved": frozenset(),
    "lead.created": frozenset({"status"}),
    "lead.updated": frozenset(),
    "pilot.moved": frozenset({"status"}),
    "booking.requested": frozenset(),
    "booking.confirmed": frozenset(),
}
_ALLOWED: dict[str, frozenset[str]] = {
    "session.finalized": frozenset({"scenarioId", "outcome", "durationSeconds", "costUsd"}),
    "tool.executed": frozenset({"scenarioId", "toolName", "ok"}),
    "realtime.latency": frozenset({"scenarioId", "latencyMs"}),
    "lead.created": frozenset({"scenarioId", "status", "tier"}),
    "lead.updated": frozenset({"scenarioId", "status", "previousStatus", "tier", "previousTier"}),
    "pilot.moved": frozenset({"status", "previousStatus"}),
    "exception.opened": frozenset({"scenarioId", "reasonCode"}),
    "exception.resolved": frozenset({"scenarioId", "reasonCode"}),
}
_KIND_FIELDS = frozenset(
    {"scenarioId", "outcome", "durationSeconds", "costUsd", "toolName", "ok", "latencyMs"}
    | {"status", "previousStatus", "tier", "previousTier", "reasonCode"}
)


class MetricEvent(BaseModel):
    """One countable fact reported by its owning domain; `id` is its idempotency key across replays.

    `id` must be the same every time the same fact is reported (e.g. `session.started:<sessionId>`,
    `tool.executed:<executionId>`, `lead.updated:<leadId>:<new etag>`), and `occurredAt` the time of the fact
    (it picks the hour and day buckets). A kind reads only its own fields (see `_ALLOWED`); others are refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=ID_PATTERN)
    kind: EventKind
    tenantId: str = Field(min_length=1, max_length=128)
    occurredAt: AwareDatetime
    sessionId: str | None = Field(default=None, min_length=1, max_length=128)
    scenarioId: str | None = Field(default=None, pattern=SCENARIO_PATTERN)
    outcome: Outcome | None = None
    durationSeconds: float | None = Field(default=None, ge=0, le=MAX_DURATION_SECONDS)
    costUsd: float | None = Field(default=None, ge=0, le=MAX_COST_USD)
    toolName: str | None = Field(default=None, min_length=1, max_length=120)
    ok: bool | None = None
    latencyMs: float | None = Field(default=None, ge=0, le=MAX_LATENCY_MS)
    status: str | None = None
    previousStatus: str | None = None
    tier: LeadTier | None = None
    previousTier: LeadTier | None = None
    # The exception's reason code (e.g. connector_unavailable): shown in the session feed, not counted.
    reasonCode: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$")

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> MetricEvent:
        for name in ("durationSeconds", "costUsd", "latencyMs"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be finite")
        present = {name for name in _KIND_FIELDS if getattr(self, name) is not None}
        missing = _REQUIRED[self.kind] - present
        if missing:
            raise ValueError(f"{self.kind} requires {', '.join(sorted(missing))}")
        allowed = _ALLOWED.get(self.kind, frozenset({"scenarioId"})) | _REQUIRED[self.kind]
        extra = present - allowed
        if extra:
            raise ValueError(f"{self.kind} does not take {', '.join(sorted(extra))}")
        if self.kind.startswith("lead."):
            _check_values(self, ("status", "previousStatus"), LEAD_STATUSES, "lead status")
            if self.kind == "lead.updated" and self.status is None and self.tier is None:
                raise ValueError("lead.updated changes status or tier")
            if (self.status is None) != (self.previousStatus is None) and self.kind == "lead.updated":
                raise ValueError("lead.updated gives status and previousStatus together")
        if self.kind == "pilot.moved":
            _check_values(self, ("status", "previousStatus"), PILOT_STATUSES, "pilot status")
        return self


def _check_values(event: MetricEvent, names: tuple[str, ...], allowed: tuple[str, ...], what: str) -> None:
    for name in names:
        value = getattr(event, name)
        if value is not None and value not in allowed:
            raise ValueError(f"{name} is not a {what} ({', '.join(allowed)})")


def classify_outcome(
    disposition: str | None, beats_completed: float = 0, total_beats: float = 0
) -> Literal["success", "failure", "other"]:
    """A finalized session's outcome: the agent reached the goal, the caller gave up, or neither.

    success: disposition resolved, booked or qualified; or, without a disposition, every scripted beat completed.
    failure: disposition abandoned. other: escalated, follow_up_required, or no disposition and beats unfinished
    (a hand-off or a pending follow-up is neither a success of the agent nor a failure).
    """
    if disposition in ("resolved", "booked", "qualified"):
        return "success"
    if disposition == "abandoned":
        return "failure"
    if disposition is None and total_beats > 0 and beats_completed >= total_beats:
        return "success"
    return "other"


class MetricBatch(BaseModel):
    """A `metrics-events` queue message: the events one `record` call reported."""

    model_config = ConfigDict(extra="ignore")

    MAX_EVENTS: ClassVar[int] = 100

    events: list[MetricEvent] = Field(min_length=1, max_length=100)


class TrendsQuery(BaseModel):
    """GET /api/cp/metrics/trends: the window, 24h by default."""

    model_config = ConfigDict(extra="ignore")

    window: TrendWindow = "24h"


class FeedQuery(BaseModel):
    """GET /api/cp/metrics/sessions/events: only events after `since` (an ISO 8601 date-time; no offset means UTC)."""

    model_config = ConfigDict(extra="ignore")

    since: datetime | None = None

    @field_validator("since", mode="before")
    @classmethod
    def _iso_date_time(cls, value: object) -> object:
        # Only the contract's date-time text: pydantic alone would also take bare dates and Unix numbers.
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > 40 or "T" not in value.upper():
            raise ValueError("since must be an ISO 8601 date-time")
        return parse_iso(value)
