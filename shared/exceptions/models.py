"""Request bodies of the exceptions desk and of integration retries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.platform.validation import Id

MAX_NOTES_CHARS = 2000


class ExceptionActionBody(BaseModel):
    """Resolve or ignore one exception, with optional notes for the record."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    action: Literal["resolve", "ignore"]
    notes: str | None = Field(default=None, max_length=MAX_NOTES_CHARS)


class RetryIntegrationBody(BaseModel):
    """Retry one failed integration outcome of a session: its id and the action it carried."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    integrationId: Id
    action: str = Field(min_length=1, max_length=100)


class NoBody(BaseModel):
    """An operation that takes no fields: an absent body or `{}` only."""

    model_config = ConfigDict(extra="forbid")
