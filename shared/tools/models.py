"""Request and message models of tool execution."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.platform.validation import Id

MAX_KEY_CHARS = 200


class ExecuteToolBody(BaseModel):
    """POST /api/tools/execute: a registry tool, its parameters, and who it runs for.

    `parameters` is held to the tool's JSON Schema by the service (and to a size limit: 413), not here.
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    toolName: str = Field(min_length=1, max_length=120)
    parameters: dict[str, Any] = Field(default_factory=dict)
    callId: str | None = Field(default=None, min_length=1, max_length=128)
    sessionId: Id | None = None
    businessKey: str | None = Field(default=None, min_length=1, max_length=MAX_KEY_CHARS)
    idempotencyKey: str | None = Field(default=None, min_length=1, max_length=MAX_KEY_CHARS)
    skipValidation: bool = False
    useRetry: bool = True


class ApprovalDecisionMessage(BaseModel):
    """An operator decided an approval on the exceptions desk (queue `tool-approvals`)."""

    model_config = ConfigDict(extra="ignore")

    tenantId: Id
    approvalId: Id
    decision: Literal["approved", "rejected"]
    decidedBy: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
