"""Demo-tier providers: they act on nothing outside Tellgence, so what they "do" is recorded through a
DemoRecorder (persistence the caller supplies) and read back by the results screens."""

from __future__ import annotations

from typing import Any

from shared.integrations.clients.base import (
    CONFIGURATION,
    INVALID_RESPONSE,
    PROVIDER_ERROR,
    CallContext,
    DemoRecorder,
    Outcome,
    ProviderFailure,
)
from shared.platform.errors import ServiceError


def _recorder(ctx: CallContext) -> DemoRecorder:
    if ctx.recorder is None:
        # Without a store a demo provider would only pretend: refuse instead.
        raise ProviderFailure(CONFIGURATION, f"{ctx.provider.name} has no demo store to record into")
    return ctx.recorder


def health(ctx: CallContext) -> Outcome:
    """The demo store takes records."""
    try:
        _recorder(ctx).check()
    except ServiceError as exc:
        raise ProviderFailure(PROVIDER_ERROR, f"The demo store is unavailable: {exc.message}") from exc
    return Outcome(summary=f"{ctx.provider.name} records into the Tellgence demo store")


def run(ctx: CallContext, action_id: str, params: dict[str, Any]) -> Outcome:
    """Record one action once per idempotency key."""
    try:
        record = _recorder(ctx).record(ctx.provider.id, action_id, params, idempotency_key=ctx.idempotency_key)
    except ServiceError as exc:
        raise ProviderFailure(PROVIDER_ERROR, f"The demo store is unavailable: {exc.message}") from exc
    record_id = record.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise ProviderFailure(INVALID_RESPONSE, "The demo store returned a record without an id")
    return Outcome(
        summary=f"{action_id} recorded by {ctx.provider.name}",
        external_id=record_id,
        data=dict(record),
    )
