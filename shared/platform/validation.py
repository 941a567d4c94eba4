"""Shared pydantic bases and field types for request bodies and queries."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from shared.platform import clock
from shared.platform.ids import is_valid_id


def _check_id(value: str) -> str:
    if not is_valid_id(value):
        raise ValueError("must be an id: 1-128 letters, digits, '_', '-', '.' or ':'")
    return value


# A field holding an id: checked against the one id format before any store call sees it.
Id = Annotated[str, AfterValidator(_check_id)]


def instant(value: str | None) -> str | None:
    """A body's ISO 8601 date-time, normalised by the clock and held to the years 2000-2100 (None stays None)."""
    if value is None:
        return None
    try:
        moment = clock.parse_iso(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time") from None
    if not 2000 <= moment.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return clock.iso(moment)


class StrictPatch(BaseModel):
    """A partial update: unknown fields refused, no type coercion, and a given field may not be null."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    @model_validator(mode="after")
    def _no_nulls(self) -> StrictPatch:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self
