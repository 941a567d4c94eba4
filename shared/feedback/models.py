"""The submitFeedback body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.platform.validation import Id

MAX_COMMENT_CHARS = 2_000
MAX_SCENARIO_CHARS = 100


class FeedbackBody(BaseModel):
    """1 = thumbs down, 2 = thumbs up; the scenario it is about; optionally a comment and the session."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    rating: Literal[1, 2]
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    scenarioId: str = Field(min_length=1, max_length=MAX_SCENARIO_CHARS)
    sessionId: Id | None = None

    @field_validator("rating", mode="before")
    @classmethod
    def _whole_number(cls, value: object) -> object:
        # JSON's 2.0 is the contract's 2; booleans are not ratings.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool):
            raise ValueError("must be 1 or 2")
        return value
