"""Request models of the booking lifecycle operations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.bookings.machine import ACTIONS
from shared.platform.validation import Id


class BookingLifecycleBody(BaseModel):
    """One explicit booking transition."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Literal[ACTIONS]
    scheduledFor: str | None = Field(default=None, max_length=40)
    selectedSuggestionId: str | None = Field(default=None, max_length=120)
    referenceId: str | None = Field(default=None, max_length=120)
    note: str | None = Field(default=None, max_length=1000)


class WorkflowBookingCallback(BaseModel):
    """The orchestrator's booking callback."""

    model_config = ConfigDict(extra="forbid")

    sessionId: Id
    action: Literal["send_reminder", "mark_no_show", "complete_no_show_recovery"]


class ReminderMessage(BaseModel):
    """A due reminder, queued by the reminder timer."""

    model_config = ConfigDict(extra="ignore")

    sessionId: Id
    tenantId: Id
    dueAt: str | None = Field(default=None, max_length=40)


class RecoveryMessage(BaseModel):
    """A no-show to recover, queued by mark_no_show."""

    model_config = ConfigDict(extra="ignore")

    sessionId: Id
    tenantId: Id


class OperatorLifecycleBody(BaseModel):
    """An operator moves a booking: the target status (or the machine action), with notes for the ledger."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    status: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    notes: str | None = Field(default=None, max_length=1000)


class WorkflowSignalBody(BaseModel):
    """A signal to the booking's workflow."""

    model_config = ConfigDict(extra="ignore")

    signal: Literal["skipReminder"]
