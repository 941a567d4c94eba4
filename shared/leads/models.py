"""Request models of the lead, contact, prospect-email and lead-desk operations.

Every string and number is bounded here and a value past its bound is refused (400 naming the field), never
cut and accepted. The bounds are those `shared.leads.documents` stores, so what is accepted is what is kept.
Email addresses are held to `shared.email.models.normalize_address` (syntax only, no DNS). Client-sent
`score`, `tier` and `scoreLabel` are accepted for compatibility, bounded, and never read.
"""

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from shared.leads import documents
from shared.leads.status import STATUSES
from shared.platform.validation import Id

MAX_EMAIL_CHARS = 254
MAX_TRANSCRIPT_TURNS = 500
MAX_TURN_CHARS = 20_000
MAX_ROLE_CHARS = 32
MAX_TIMELINE_EVENTS = 100
MAX_NOTE_CHARS = 5_000
MAX_COMMENT_CHARS = 2_000
MAX_CONTINUATION_CHARS = 2_000
MAX_PAGE_SIZE = 200

LeadStatus = Literal["new", "contacted", "pilot_requested", "pilot_active", "paid", "lost"]
Tier = Literal["hot", "warm", "cold"]
assert set(STATUSES) == set(LeadStatus.__args__)  # the contract's enum and the status machine agree


def _email(value: str) -> str:
    from shared.email.models import InvalidAddress, normalize_address

    try:
        return normalize_address(value.strip())
    except InvalidAddress:
        raise ValueError("must be a valid email address") from None


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Email = Annotated[str, Field(min_length=3, max_length=MAX_EMAIL_CHARS), AfterValidator(_email)]


def Text(limit: int, *, required: bool = False):
    """A bounded string field (optional unless `required`, then also non-blank)."""
    if required:
        return Annotated[str, Field(min_length=1, max_length=limit)]
    return Annotated[str | None, Field(max_length=limit)]


def Number(maximum: float):
    """A finite number in [0, maximum]."""
    return Annotated[float, Field(ge=0, le=maximum), AfterValidator(_finite)]


_LIMITS = documents.ATTRIBUTION_LIMITS


class _Body(BaseModel):
    # Unknown fields are ignored (the contract allows them); whitespace is trimmed before bounds apply, so a
    # required field of blanks is refused by its minimum length.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class _Attribution(_Body):
    source: Text(_LIMITS["source"]) = None
    sourcePath: Text(_LIMITS["sourcePath"]) = None
    referrer: Text(_LIMITS["referrer"]) = None
    utmSource: Text(_LIMITS["utmSource"]) = None
    utmMedium: Text(_LIMITS["utmMedium"]) = None
    utmCampaign: Text(_LIMITS["utmCampaign"]) = None


class TimelineEvent(BaseModel):
    """One event of the demo's timeline as the results screen showed it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(max_length=documents.TIMELINE_TITLE_LIMIT)
    description: str = Field(max_length=documents.TIMELINE_DESCRIPTION_LIMIT)
    timestamp: str = Field(max_length=documents.TIMESTAMP_LIMIT)


class LeadBody(_Attribution):
    """createLead: the post-demo lead form."""

    name: Text(documents.CONTACT_LIMITS["name"], required=True)
    email: Email
    company: Text(documents.CONTACT_LIMITS["company"]) = None
    role: Text(documents.CONTACT_LIMITS["role"]) = None
    phone: Text(documents.CONTACT_LIMITS["phone"]) = None
    scenarioId: Text(documents.SCENARIO_ID_LIMIT, required=True)
    scenarioTitle: Text(documents.SCENARIO_TITLE_LIMIT) = None
    timestamp: Text(documents.TIMESTAMP_LIMIT, required=True)
    sessionDuration: Number(documents.MAX_SESSION_SECONDS)
    toolsInvoked: list[Annotated[str, Field(max_length=documents.TOOL_NAME_LIMIT)]] = Field(
        max_length=documents.MAX_TOOLS
    )
    beatsCompleted: Number(documents.MAX_BEATS) | None = None
    totalBeats: Number(documents.MAX_BEATS) | None = None
    timelineEvents: list[TimelineEvent] = Field(max_length=MAX_TIMELINE_EVENTS)
    # Outside the contract's listed fields but allowed by it: the demo session this lead came from.
    sessionId: Id | None = None
    # Client scores are never read; they are bounded only so that nothing unbounded is accepted.
    score: Annotated[float, AfterValidator(_finite)] | None = None
    tier: Text(20) = None
    scoreLabel: Text(100) = None


class MidDemoLeadBody(_Attribution):
    """createMidDemoLead: the high-intent capture during a demo."""

    email: Email
    company: Text(documents.CONTACT_LIMITS["company"]) = None
    role: Text(documents.CONTACT_LIMITS["role"]) = None
    scenario: Text(documents.SCENARIO_ID_LIMIT, required=True)
    sessionId: Id | None = None
    source: Literal["mid-demo-capture"]


class ContactBody(_Attribution):
    """createContact: the contact form."""

    name: Text(documents.CONTACT_LIMITS["name"], required=True)
    email: Email
    company: Text(documents.CONTACT_LIMITS["company"]) = None
    role: Text(documents.CONTACT_LIMITS["role"]) = None
    phone: Text(documents.CONTACT_LIMITS["phone"]) = None
    primaryInterest: Text(documents.INTEREST_LIMITS["primaryInterest"]) = None
    currentSystem: Text(documents.INTEREST_LIMITS["currentSystem"]) = None
    implementationTimeline: Text(documents.INTEREST_LIMITS["implementationTimeline"]) = None
    message: Text(documents.MESSAGE_LIMIT, required=True)


class Turn(BaseModel):
    """One transcript turn."""

    model_config = ConfigDict(extra="ignore")

    role: str = Field(max_length=MAX_ROLE_CHARS)
    content: str = Field(max_length=MAX_TURN_CHARS)


Transcript = Annotated[list[Turn], Field(max_length=MAX_TRANSCRIPT_TURNS)]


class SessionSummaryBody(_Body):
    """sendSessionSummary: the prospect's demo summary by email."""

    email: Email
    scenarioTitle: Text(documents.SCENARIO_TITLE_LIMIT, required=True)
    scenarioSlug: Text(documents.SCENARIO_ID_LIMIT) = None
    toolsExecuted: Number(10_000) | None = None
    systemsUpdated: Number(1_000) | None = None
    timeSaved: Number(100_000) | None = None
    sessionDuration: Number(86_400_000) | None = None
    transcript: Transcript | None = None


class TranscriptEmailBody(_Body):
    """sendTranscriptEmail: the transcript alone by email."""

    email: Email
    transcript: Transcript
    scenarioTitle: Text(documents.SCENARIO_TITLE_LIMIT) = None


class LeadListQuery(BaseModel):
    """cpListLeads filters, plus the page size and the continuation token of the previous page."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    status: LeadStatus | None = None
    tier: Tier | None = None
    scenarioId: Text(documents.SCENARIO_ID_LIMIT) = None
    since: Text(40) = None
    limit: int = Field(default=50, ge=1, le=MAX_PAGE_SIZE)
    continuationToken: Text(MAX_CONTINUATION_CHARS) = None

    @field_validator("since")
    @classmethod
    def _since(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from shared.platform import clock

        try:
            return clock.iso(clock.parse_iso(value))
        except ValueError:
            raise ValueError("must be an ISO-8601 date or date-time") from None


class LeadPatchBody(BaseModel):
    """cpPatchLead: move the lead's status."""

    model_config = ConfigDict(extra="forbid")

    status: LeadStatus


class LeadNoteBody(BaseModel):
    """cpAppendLeadNote: one internal note."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
