"""Request models of the pilot, snapshot and attestation operations.

Every string and number is bounded here; a value past its bound is refused (400 naming the field), never cut
and accepted. Dates are ISO 8601 strings checked by `shared.pilots.machine.check_dates` (and, for the
contract's instants, `clock.parse_iso`), stored as sent. Money is in US dollars, finite and non-negative.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from shared.platform.validation import StrictPatch

PilotStatus = Literal["invited", "setup", "active", "completed", "converted", "lost"]
VerticalPack = Literal["accounting", "healthcare", "legal", "service", "platform"]

MAX_NAME = 200
MAX_EMAIL = 254
MAX_PHONE = 40
MAX_ROLE = 100
MAX_CRITERIA = 2_000
MAX_DATE = 40
MAX_NOTE = 5_000
MAX_CONTRACT_REF = 200
MAX_ROI_NOTES = 2_000
MAX_MONEY = 1_000_000_000.0
MAX_WEEK_ID = 16
MAX_ATTESTATION_NOTE = 2_000
MAX_ACCEPTED_METRICS = 32
MAX_METRIC_NAME = 64
MAX_METRIC_VALUE = 1e12


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _email(value: str) -> str:
    from shared.email.models import InvalidAddress, normalize_address

    try:
        return normalize_address(value)
    except InvalidAddress:
        raise ValueError("must be a valid email address") from None


def _instant(value: str) -> str:
    from shared.platform import clock

    try:
        clock.parse_iso(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date or date-time") from None
    return value


def _line(value: str) -> str:
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("must be one line without control characters")
    return value


def _block(value: str) -> str:
    if any((ord(char) < 32 and char not in "\n\r\t") or ord(char) == 127 for char in value):
        raise ValueError("must not contain control characters")
    return value


def Line(limit: int, *, required: bool = False):
    """A one-line string of at most `limit` characters (non-blank when `required`)."""
    return Annotated[str, Field(min_length=1 if required else 0, max_length=limit), AfterValidator(_line)]


def Block(limit: int, *, required: bool = False):
    """A multi-line string of at most `limit` characters (non-blank when `required`)."""
    return Annotated[str, Field(min_length=1 if required else 0, max_length=limit), AfterValidator(_block)]


def Money(maximum: float = MAX_MONEY):
    """A finite amount in [0, maximum]."""
    return Annotated[float, Field(ge=0, le=maximum), AfterValidator(_finite)]


Email = Annotated[str, Field(min_length=3, max_length=MAX_EMAIL), AfterValidator(_email)]
Instant = Annotated[str, Field(min_length=1, max_length=MAX_DATE), AfterValidator(_instant)]


class _Body(BaseModel):
    # Unknown fields are ignored (the contract's request schemas allow them); whitespace is trimmed before the
    # bounds apply, so a required field of blanks is refused by its minimum length.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Contact(_Body):
    """The pilot's primary contact: who receives the weekly attestation links."""

    name: Line(MAX_NAME, required=True)
    email: Email
    phone: Line(MAX_PHONE) | None = None
    role: Line(MAX_ROLE) | None = None


class PilotCreateBody(_Body):
    """cpCreatePilot."""

    organizationName: Line(MAX_NAME, required=True)
    primaryContact: Contact
    verticalPack: VerticalPack
    sourceLeadId: Line(128) | None = None
    successCriteria: Block(MAX_CRITERIA) | None = None
    pilotStartDate: Line(MAX_DATE) | None = None
    pilotEndDate: Line(MAX_DATE) | None = None
    status: PilotStatus | None = None


class ContactPatch(StrictPatch):
    """A replacement primary contact (name and email required, as the contract says)."""

    model_config = ConfigDict(extra="ignore", strict=True, str_strip_whitespace=True)

    name: Line(MAX_NAME, required=True)
    email: Email
    phone: Line(MAX_PHONE) | None = None
    role: Line(MAX_ROLE) | None = None


class PilotPatchBody(StrictPatch):
    """cpPatchPilot: the fields to change (unknown fields and nulls refused)."""

    organizationName: Line(MAX_NAME, required=True) | None = None
    primaryContact: ContactPatch | None = None
    verticalPack: VerticalPack | None = None
    status: PilotStatus | None = None
    successCriteria: Block(MAX_CRITERIA) | None = None
    pilotStartDate: Line(MAX_DATE) | None = None
    pilotEndDate: Line(MAX_DATE) | None = None


class PilotNoteBody(_Body):
    """cpAppendPilotNote: one internal note."""

    body: Block(MAX_NOTE, required=True)


class PilotContractBody(_Body):
    """cpPutPilotContract: the commercial terms, replacing the current version whole."""

    setupFeeUsd: Money() | None = None
    monthlyFeeUsd: Money() | None = None
    signedAt: Instant | None = None
    paidAt: Instant | None = None
    convertedToAnnualAt: Instant | None = None
    annualAcvUsd: Money() | None = None
    contractRef: Line(MAX_CONTRACT_REF) | None = None


class PilotRoiBody(_Body):
    """cpPutPilotRoi: the ROI assumptions the snapshots value a week with, replacing the current version whole.

    The hourly rate and the manual handle time are required: the contract's stored object always has them.
    """

    laborHourlyRateUsd: Money(10_000)
    averageManualHandleTimeMinutes: Annotated[float, Field(ge=0, le=24 * 60), AfterValidator(_finite)]
    baselineCallsPerWeek: Annotated[float, Field(ge=0, le=10_000_000), AfterValidator(_finite)] | None = None
    baselineMissedCallRatePct: Annotated[float, Field(ge=0, le=100), AfterValidator(_finite)] | None = None
    appointmentValueUsd: Money(1_000_000) | None = None
    collectionRecoveryValueUsd: Money(10_000_000) | None = None
    noShowRecoveryValueUsd: Money(1_000_000) | None = None
    afterHoursCaptureMultiplier: Annotated[float, Field(ge=0, le=10), AfterValidator(_finite)] | None = None
    notes: Block(MAX_ROI_NOTES) | None = None


class PilotListQuery(BaseModel):
    """cpListPilots filters."""

    model_config = ConfigDict(extra="ignore")

    status: PilotStatus | None = None
    verticalPack: VerticalPack | None = None


class SnapshotRecomputeQuery(BaseModel):
    """cpPostPilotSnapshotRecompute: the ISO week (checked by shared.pilots.weeks: well-formed, not future)."""

    model_config = ConfigDict(extra="ignore")

    weekId: str = Field(min_length=1, max_length=MAX_WEEK_ID)


MetricName = Annotated[str, Field(min_length=1, max_length=MAX_METRIC_NAME)]
MetricValue = Annotated[float, Field(ge=-MAX_METRIC_VALUE, le=MAX_METRIC_VALUE), AfterValidator(_finite)]


class AttestationBody(_Body):
    """postAttestationByToken: who attests a week's numbers, and which of them they accept."""

    tenantId: Line(128) | None = None
    pilotId: Line(64, required=True)
    weekId: Line(MAX_WEEK_ID, required=True)
    attestedByEmail: Email
    attestedByName: Line(MAX_NAME) | None = None
    acceptedMetrics: dict[MetricName, MetricValue] | None = Field(default=None, max_length=MAX_ACCEPTED_METRICS)
    freeFormNote: Block(MAX_ATTESTATION_NOTE) | None = None

    @field_validator("acceptedMetrics")
    @classmethod
    def _names(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            for name in value:
                _line(name)
        return value


class PilotSnapshotMessage(BaseModel):
    """A `pilot-snapshots` queue message: compute one pilot's snapshot of one week."""

    model_config = ConfigDict(extra="ignore")

    tenantId: str = Field(min_length=1, max_length=128)
    pilotId: str = Field(min_length=1, max_length=64)
    weekId: str = Field(min_length=1, max_length=MAX_WEEK_ID)
    correlationId: str | None = Field(default=None, max_length=64)
