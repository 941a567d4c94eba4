"""Request models of the demo session operations."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.platform.validation import Id

Phase = Literal["greeting", "qualification", "data_capture", "action", "handoff", "closure"]
Disposition = Literal["resolved", "booked", "qualified", "follow_up_required", "escalated", "abandoned"]
Channel = Literal["voice", "phone", "web", "chat", "sms", "email"]

MAX_TRANSCRIPT_TURNS = 2000
MAX_TIMELINE_EVENTS = 1000
MAX_TOOLS = 200
MAX_DURATION_SECONDS = 24 * 3600
# A day of realtime audio is ~10 M tokens; anything larger is not a real call.
MAX_TOKENS = 100_000_000


class CreateSessionBody(BaseModel):
    """Start a demo session for a scenario."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    scenarioId: str = Field(min_length=1, max_length=120)
    scenarioTitle: str | None = Field(default=None, max_length=200)
    companyName: str | None = Field(default=None, max_length=200)
    requestedLocale: str | None = Field(default=None, max_length=35)
    navigatorLanguage: str | None = Field(default=None, max_length=35)
    tenantId: Id | None = None
    # An extension the contract's open request schema admits: ties the session to a fast-start profile of
    # the operator's tenant (its persona and published workflow), which makes it that profile's test call.
    onboardingProfileId: Id | None = None


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    displayName: str | None = Field(default=None, max_length=200)
    phoneNumber: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    organization: str | None = Field(default=None, max_length=200)


class Telephony(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requested: bool
    mode: Literal["live_transfer", "callback"] | None = None
    status: Literal["not_required", "pending", "queued", "completed", "failed"] | None = None
    target: str | None = None
    phoneNumber: str | None = None
    timeWindow: str | None = None
    providerId: str | None = None


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requested: bool
    reason: str | None = None
    target: str | None = None
    status: Literal["pending", "completed", "not_required"] | None = None


class BookingSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requested: bool
    status: (
        Literal[
            "not_requested",
            "pending",
            "scheduled",
            "completed",
            "follow_up_required",
            "reschedule_requested",
            "cancelled",
            "no_show",
        ]
        | None
    ) = None
    scheduledFor: str | None = None
    referenceId: str | None = None


class InteractionSummary(BaseModel):
    """Channel, contact, intent, disposition, telephony, escalation and booking of a call."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel | None = None
    direction: Literal["inbound", "outbound"] | None = None
    contact: Contact | None = None
    intent: str | None = Field(default=None, max_length=500)
    disposition: Disposition | None = None
    telephony: Telephony | None = None
    escalation: Escalation | None = None
    booking: BookingSummary | None = None
    summary: str | None = Field(default=None, max_length=4000)
    nextAction: str | None = Field(default=None, max_length=1000)


class FinalizeBody(BaseModel):
    """The completed call: transcript, timeline, tools, beats, extracted data and summary."""

    model_config = ConfigDict(extra="ignore")

    sessionId: Id | None = None
    tenantId: Id | None = None
    scenarioId: str = Field(min_length=1, max_length=120)
    scenarioTitle: str | None = Field(default=None, max_length=200)
    companyName: str | None = Field(default=None, max_length=200)
    transcript: list[Any] = Field(default_factory=list, max_length=MAX_TRANSCRIPT_TURNS)
    timelineEvents: list[Any] = Field(default_factory=list, max_length=MAX_TIMELINE_EVENTS)
    toolsUsed: list[str] = Field(default_factory=list, max_length=MAX_TOOLS)
    beatsCompleted: float = Field(default=0, ge=0, le=1000)
    totalBeats: float = Field(default=0, ge=0, le=1000)
    extractedData: dict[str, Any] = Field(default_factory=dict)
    interactionSummary: InteractionSummary | None = None
    duration: float = Field(default=0, ge=0, le=MAX_DURATION_SECONDS)
    totalInputTokens: float = Field(default=0, ge=0, le=MAX_TOKENS)
    totalOutputTokens: float = Field(default=0, ge=0, le=MAX_TOKENS)


class StatePatch(BaseModel):
    """A change to the call state; every field optional."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    currentPhase: Phase | None = None
    currentPersonaId: str | None = Field(default=None, min_length=1, max_length=120)
    completedStep: str | None = Field(default=None, min_length=1, max_length=120)
    pendingSteps: list[str] | None = Field(default=None, max_length=100)
    nextPersonaId: str | None = Field(default=None, min_length=1, max_length=120)
    escalationReason: str | None = Field(default=None, min_length=1, max_length=500)


class RealtimeSnapshotBody(BaseModel):
    """Client-reported effective realtime settings (never secrets)."""

    model_config = ConfigDict(extra="forbid")

    personaId: str | None = Field(default=None, max_length=120)
    realtimeDeployment: str | None = Field(default=None, max_length=120)
    transcriptionModel: str | None = Field(default=None, max_length=120)
    transcriptionLanguage: str | None = Field(default=None, max_length=35)
    voice: str | None = Field(default=None, max_length=120)
    sessionHints: dict[str, Any] | None = None
    reportedAt: str | None = Field(default=None, max_length=40)
    clientBuild: str | None = Field(default=None, max_length=120)


class SessionListQuery(BaseModel):
    """Admin list filters, sort and paging."""

    model_config = ConfigDict(extra="ignore")

    search: str | None = Field(default=None, max_length=200)
    domain: str | None = Field(default=None, max_length=40)
    leadTier: Literal["hot", "warm", "cold"] | None = None
    disposition: Disposition | None = None
    sortBy: Literal["createdAt", "leadScore", "duration"] = "createdAt"
    sortOrder: Literal["asc", "desc"] = "desc"
    page: int = Field(default=1, ge=1, le=100_000)
    pageSize: int = Field(default=20, ge=5, le=100)


class DeskListQuery(BaseModel):
    """The control-plane session desk's paging: `page` from 1, `limit` sessions a page (newest first)."""

    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=1000)
    limit: int = Field(default=20, ge=1, le=100)
