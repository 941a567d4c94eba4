"""The tenant directory entry as the contract shows it, and the patch it accepts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.platform.validation import StrictPatch

TenantStatus = Literal["active", "paused", "archived"]
TenantPlan = Literal["starter", "growth", "enterprise"]


class TenantPatch(StrictPatch):
    """What a super-admin may change on a tenant; unknown fields are refused."""

    displayName: str | None = Field(default=None, min_length=1, max_length=120)
    status: TenantStatus | None = None
    plan: TenantPlan | None = None
    mrr: float | None = Field(default=None, ge=0, le=10_000_000)
    location: str | None = Field(default=None, min_length=1, max_length=120)
    industry: str | None = Field(default=None, min_length=1, max_length=80)
