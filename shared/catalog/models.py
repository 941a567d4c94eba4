"""Query models of the catalog operations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.platform.validation import Id

Industry = Literal["insurance", "sales", "healthcare", "legal", "accounting", "banking", "dental", "veterinary"]


class PublicScenarioQuery(BaseModel):
    """Filters of the public scenario catalog: only core and proof exist there."""

    model_config = ConfigDict(extra="ignore")

    industry: Industry | None = None
    visibility: Literal["core", "proof"] | None = None


class AdminScenarioQuery(BaseModel):
    """Filters of the admin scenario catalog."""

    model_config = ConfigDict(extra="ignore")

    industry: Industry | None = None
    visibility: Literal["core", "proof", "exception", "hidden-lab"] | None = None


class RuntimeQuery(BaseModel):
    """Options of a persona runtime."""

    model_config = ConfigDict(extra="ignore")

    tone: Literal["warm", "professional", "friendly"] | None = None
    scenarioId: Id | None = None
    sessionId: Id | None = None
    onboardingProfileId: Id | None = None
