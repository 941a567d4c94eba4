"""The changes super-admins and tenant admins may make to tool policy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.platform.validation import StrictPatch


class ToolRulePatch(StrictPatch):
    """A change to a global rule; unknown fields are refused."""

    access: Literal["global", "tenant_optin", "blocked"] | None = None
    hipaaImpact: bool | None = None


class TenantOverridePatch(BaseModel):
    """Turn a tool on or off for one tenant."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    enabled: bool | None = None
    reason: str | None = Field(default=None, max_length=500)
