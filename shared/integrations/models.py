"""Request bodies of the integration operations and the integration-retries queue message."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from shared.platform.validation import Id

# Field names are echoed in validation problems ("<field>: unknown field"), so they are bounded here.
ConfigKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
MAX_CONFIG_FIELDS = 40
MAX_PARAMS = 100


class ConnectorBody(BaseModel):
    """PUT practice-connectors/{kind}: the provider and its config (checked against the provider's fields)."""

    model_config = ConfigDict(extra="ignore")

    providerId: Id
    config: dict[ConfigKey, Any] = Field(max_length=MAX_CONFIG_FIELDS)


class ConnectionTestBody(RootModel[dict[ConfigKey, Any]]):
    """POST integrations/{id}/test: the config to test ({} tests the stored connector)."""

    root: dict[ConfigKey, Any] = Field(max_length=MAX_CONFIG_FIELDS)


class ActionTestBody(BaseModel):
    """POST integrations/{id}/actions/{actionId}/test: the config ({} uses the stored one) and the action's params."""

    model_config = ConfigDict(extra="ignore")

    config: dict[ConfigKey, Any] = Field(max_length=MAX_CONFIG_FIELDS)
    params: dict[ConfigKey, Any] = Field(max_length=MAX_PARAMS)


class RetryMessage(BaseModel):
    """One failed delivery to try again (queue integration-retries); `attempt` counts within this retry."""

    model_config = ConfigDict(extra="ignore")

    tenantId: Id
    exceptionId: Id
    attempt: int = Field(ge=1, le=50)
    queuedAt: str = Field(min_length=1, max_length=40)
    requestedBy: str | None = Field(default=None, max_length=128)
    correlationId: str | None = Field(default=None, max_length=64)
