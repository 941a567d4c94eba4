"""The changes super-admins may make to a flag and to one tenant's override."""

from __future__ import annotations

import math

from pydantic import Field, field_validator, model_validator

from shared.platform.validation import StrictPatch


class FlagPatch(StrictPatch):
    """Turn a flag on or off, or change its rollout (percent of tenants, two decimals at most)."""

    enabled: bool | None = None
    rolloutPct: float | int | None = Field(default=None, ge=0, le=100)

    @field_validator("rolloutPct")
    @classmethod
    def _two_decimals(cls, value: float | int | None) -> float | int | None:
        if value is not None and (not math.isfinite(value) or abs(value * 100 - round(value * 100)) > 1e-6):
            raise ValueError("must have at most two decimals")
        return value


class FlagOverridePatch(StrictPatch):
    """Force a flag on or off for one tenant (`enabled`), or drop the tenant's override (`remove`)."""

    enabled: bool | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")
    remove: bool | None = None

    @model_validator(mode="after")
    def _one_intent(self) -> FlagOverridePatch:
        if self.remove and self.enabled is not None:
            raise ValueError("send either enabled or remove, not both")
        if not self.remove and self.enabled is None:
            raise ValueError("enabled is required (or remove: true)")
        return self
