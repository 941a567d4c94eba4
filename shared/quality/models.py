"""Queue messages of the quality domain."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class QualityFactsMessage(BaseModel):
    """A `quality-facts` message: fold one session's current facts of one source into its tenant's funnel."""

    model_config = ConfigDict(extra="ignore")

    tenantId: str = Field(min_length=1, max_length=128)
    sessionId: str = Field(min_length=1, max_length=128)
    source: Literal["session", "evidence"]
    correlationId: str | None = Field(default=None, max_length=64)
