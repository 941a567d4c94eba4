"""Shared pydantic bases for request bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class StrictPatch(BaseModel):
    """A partial update: unknown fields refused, no type coercion, and a given field may not be null."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    @model_validator(mode="after")
    def _no_nulls(self) -> StrictPatch:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self
