"""Compliance bodies and queries: bounded, strict, refused rather than trimmed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from shared.platform.validation import StrictPatch, instant

# `overdue` is never stored: it is computed from dueAt by the clock.
StoredStatus = Literal["attested", "pending", "not_applicable"]
Framework = Literal["HIPAA", "SOC2", "GDPR", "CCPA"]
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class ComplianceItemPatch(StrictPatch):
    """Attest a control, mark it not applicable or pending again, move its due date, or note something."""

    status: StoredStatus | None = None
    notes: str | None = Field(default=None, max_length=2000, pattern=MULTI_LINE)
    dueAt: str | None = Field(default=None, max_length=40)

    @field_validator("dueAt")
    @classmethod
    def _due(cls, value: str | None) -> str | None:
        return instant(value)
