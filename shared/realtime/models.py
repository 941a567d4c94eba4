"""Request models of the realtime operations: every string and number bounded, nothing truncated.

The contract gives lengths for some fields; the rest are bounded here by what a real call can produce
(an hour-long call, a day of uptime, a utterance of a few thousand words). A value outside a bound is a
400 naming the field, never clipped.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from shared.platform.validation import Id

TransportMode = Literal["BROWSER_REALTIME", "TELEPHONY_LIVEKIT", "FALLBACK_CASCADE"]
AudioQuality = Literal["excellent", "good", "fair", "poor"]
ReportedState = Literal["initializing", "connected", "active", "paused", "closing", "closed"]

MAX_METADATA_BYTES = 8 * 1024
MAX_METADATA_KEYS = 64
MAX_UTTERANCE_CHARS = 10_000
# Times are epoch milliseconds (the contract's createdAt/updatedAt are numbers): up to the year 2286.
MAX_EPOCH_MS = 9_999_999_999_999
# Offsets and durations inside one call: a day in milliseconds (or seconds) is far beyond any real call.
MAX_CALL_SPAN = 86_400_000
MAX_LATENCY_MS = 3_600_000
MAX_COUNT = 1_000_000
MAX_BITRATE = 1_000_000_000


def _printable(value: str) -> str:
    # Control characters have no place in names, locales or ids a person reads back.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _bounded_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"may hold at most {MAX_METADATA_KEYS} keys")
    if len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) > MAX_METADATA_BYTES:
        raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes as JSON")
    return value


Text = Annotated[str, AfterValidator(_printable)]
Number = Annotated[float, AfterValidator(_finite)]
Metadata = Annotated[dict[str, Any], AfterValidator(_bounded_metadata)]


class CredentialsBody(BaseModel):
    """POST /api/realtime/credentials: what the browser knows when it asks to talk.

    Unknown properties are refused: a credential is minted only from fields this service understands.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    personaId: Id | None = None
    sessionId: Id | None = None
    requestedLocale: Text | None = Field(default=None, max_length=35)
    userHintLanguage: Text | None = Field(default=None, max_length=35)
    scenarioId: Id | None = None


class RuntimeSessionBody(BaseModel):
    """POST /api/realtime/sessions."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    tenantId: Id | None = None
    personaId: Id
    personaName: Text = Field(min_length=1, max_length=256)
    locale: Text = Field(min_length=2, max_length=32)
    transportMode: TransportMode
    channelId: Id | None = None
    metadata: Metadata | None = None


class UtteranceBody(BaseModel):
    """POST /api/realtime/sessions/{sessionId}/utterances: one finished turn of speech."""

    model_config = ConfigDict(extra="ignore")

    speaker: Text = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=MAX_UTTERANCE_CHARS)
    startTime: Number | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
    endTime: Number | None = Field(default=None, ge=0, le=MAX_EPOCH_MS)
    confidence: Number | None = Field(default=None, ge=0, le=1)
    locale: Text | None = Field(default=None, min_length=2, max_length=32)
    metadata: Metadata | None = None

    @model_validator(mode="after")
    def _ordered(self) -> UtteranceBody:
        if not self.text.strip():
            raise ValueError("text must not be blank")
        if self.startTime is not None and self.endTime is not None and self.endTime < self.startTime:
            raise ValueError("endTime must not be before startTime")
        return self


class StatsBody(BaseModel):
    """POST /api/realtime/sessions/{sessionId}/stats: the client's media stats at one moment.

    `state` is an optional extension the contract's open request schema admits: the state the client
    reports the call to be in (moved through the runtime-session state machine; an invalid move is 400).
    """

    model_config = ConfigDict(extra="ignore")

    sessionId: Id
    transportMode: TransportMode
    uptime: Number = Field(ge=0, le=MAX_CALL_SPAN)
    utteranceCount: int = Field(ge=0, le=MAX_COUNT)
    lastActivity: Number = Field(ge=0, le=MAX_EPOCH_MS)
    participantId: Text | None = Field(default=None, min_length=1, max_length=256)
    interruptionCount: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    averageLatencyMs: Number | None = Field(default=None, ge=0, le=MAX_LATENCY_MS)
    audioQuality: AudioQuality | None = None
    jitterMs: Number | None = Field(default=None, ge=0, le=MAX_LATENCY_MS)
    packetLoss: Number | None = Field(default=None, ge=0, le=100)
    bitrate: Number | None = Field(default=None, ge=0, le=MAX_BITRATE)
    cpuUsage: Number | None = Field(default=None, ge=0, le=10_000)
    state: ReportedState | None = None

    def report(self) -> dict[str, Any]:
        """The report in the contract's mediaStats shape (without the state extension)."""
        return self.model_dump(exclude_none=True, exclude={"state"})
