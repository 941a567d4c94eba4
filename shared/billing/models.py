"""Billing bodies and queries: bounded, strict, refused rather than trimmed."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator

from shared.platform.validation import StrictPatch, instant

Plan = Literal["starter", "growth", "enterprise"]
InvoiceStatus = Literal["current", "overdue", "payment_failed"]


class BillingPatch(StrictPatch):
    """What the platform team changes on a tenant's billing record (nothing here charges anyone)."""

    plan: Plan | None = None
    mrr: float | int | None = Field(default=None, ge=0, le=10_000_000)
    minutesLimit: int | None = Field(default=None, ge=0, le=10_000_000)
    invoiceStatus: InvoiceStatus | None = None
    trialEndsAt: str | None = Field(default=None, max_length=40)
    nextBillingAt: str | None = Field(default=None, max_length=40)

    @field_validator("mrr")
    @classmethod
    def _cents(cls, value: float | int | None) -> float | int | None:
        if value is not None and (not math.isfinite(value) or abs(value * 100 - round(value * 100)) > 1e-6):
            raise ValueError("must be an amount with at most two decimals")
        return value

    @field_validator("trialEndsAt", "nextBillingAt")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        return instant(value)
