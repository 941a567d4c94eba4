"""Request models of telephony operations."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

E164 = r"^\+[1-9][0-9]{6,14}$"
MAX_OVERRIDES = 20
MAX_OVERRIDE_CHARS = 2000


class OutboundCallBody(BaseModel):
    """An operator starts a call to an E.164 number for a scenario."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    phoneNumber: str = Field(pattern=E164, max_length=16)
    scenarioId: str = Field(min_length=1, max_length=120)
    promptOverrides: dict[str, str] = Field(default_factory=dict)

    @field_validator("promptOverrides")
    @classmethod
    def _bounded(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_OVERRIDES:
            raise ValueError(f"at most {MAX_OVERRIDES} prompt overrides")
        for key, text in value.items():
            if not 1 <= len(key) <= 64 or len(text) > MAX_OVERRIDE_CHARS:
                raise ValueError(f"override names are 1-64 characters and texts at most {MAX_OVERRIDE_CHARS}")
        return value
