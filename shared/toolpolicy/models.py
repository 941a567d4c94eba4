"""The changes super-admins and tenant admins may make to tool policy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ToolRulePatch(BaseModel):
    """A change to a global rule; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    access: Literal["global", "tenant_optin", "blocked"] | None = None
    hipaaImpact: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ToolRulePatch:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class TenantOverridePatch(BaseModel):
    """Turn a tool on or off for one tenant."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    enabled: bool | None = None
    reason: str | None = Field(default=None, max_length=500)
