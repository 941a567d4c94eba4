"""Request and message models of the workflow operations and the execution queue."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.platform.jsonbody import nesting_depth
from shared.platform.validation import Id

MAX_PAYLOAD_BYTES = 16 * 1024
MAX_PAYLOAD_DEPTH = 8
MAX_ACTION = 64


class DraftBody(BaseModel):
    """PUT …/{profileId}/draft: the whole graph; `revision` (or If-Match) names the draft it replaces.

    The nodes and edges are checked by `shared.workflow_graphs.graph.validate`, which names every problem.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    nodes: list[Any] = Field(max_length=200)
    edges: list[Any] = Field(max_length=400)
    revision: int | None = Field(default=None, ge=0, le=2**31)


class TriggerBody(BaseModel):
    """POST /api/cp/workflows/trigger: run an action of a profile's published workflow, for it or a session."""

    model_config = ConfigDict(extra="forbid", strict=True)

    profileId: Id | None = None
    sessionId: Id | None = None
    action: str = Field(min_length=1, max_length=MAX_ACTION)
    payload: dict[str, Any] = Field(default_factory=dict)

    @field_validator("payload")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"must be at most {MAX_PAYLOAD_BYTES // 1024} KiB as JSON")
        if nesting_depth(value) > MAX_PAYLOAD_DEPTH:
            raise ValueError(f"must nest at most {MAX_PAYLOAD_DEPTH} levels")
        return value


class ExecutionMessage(BaseModel):
    """A `workflow-executions` queue message: the execution to run."""

    model_config = ConfigDict(extra="ignore")

    tenantId: Id
    executionId: Id
    correlationId: str | None = Field(default=None, max_length=128)


class TestCallMessage(BaseModel):
    """An `onboarding-test-calls` queue message: a finalized session of a profile."""

    model_config = ConfigDict(extra="ignore")

    tenantId: Id
    profileId: Id
    sessionId: Id


class StateQuery(BaseModel):
    """GET …/{profileId}: `version` reads one published version (an extension of the contract's operation)."""

    model_config = ConfigDict(extra="ignore")

    version: int | None = Field(default=None, ge=1, le=1_000_000)
