"""Support ticket bodies: plain text, bounded, refused (never trimmed) when too long or carrying control codes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.platform.validation import Id, StrictPatch

Priority = Literal["critical", "high", "normal", "low"]
Status = Literal["open", "in_progress", "waiting_on_tenant", "resolved"]

SUBJECT_MAX = 200
DESCRIPTION_MAX = 5000
# A subject is one line; a description may hold line breaks and tabs, never other control characters.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class NewTicket(BaseModel):
    """A new ticket; a super-admin outside the tenant names it with `tenantId`."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    subject: str = Field(min_length=1, max_length=SUBJECT_MAX, pattern=ONE_LINE)
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX, pattern=MULTI_LINE)
    priority: Priority = "normal"
    tenantId: Id | None = None


class TicketPatch(StrictPatch):
    """What the platform team changes on a ticket: status, priority, assignee."""

    status: Status | None = None
    priority: Priority | None = None
    assignee: Id | None = None
