"""The one way to call a provider: `execute` runs an action, `health_check` tests a connection.

Both take the provider's clear config (decrypted by the caller for this call only), validate it and
the params, pick the provider's protocol client, time the call and classify any failure. Provider
failures come back as results (ok=False with an error class), never as exceptions; invalid input
raises ValidationFailed (400) and an unknown provider or action NotFound (404).
"""

from __future__ import annotations

import importlib
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.integrations import catalog
from shared.integrations.clients import oauth
from shared.integrations.clients.base import AUTH_FAILED, CallContext, DemoRecorder, Outcome, ProviderFailure
from shared.integrations.validation import validate_params, validated_config
from shared.platform import clock
from shared.platform.errors import ValidationFailed
from shared.platform.settings import Settings, get_settings

logger = logging.getLogger("tellgence.integrations")

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
CLIENT_MODULES = {
    "fhir": "shared.integrations.clients.fhir",
    "graph": "shared.integrations.clients.graph",
    "webhook": "shared.integrations.clients.webhook",
    "twilio": "shared.integrations.clients.twilio",
    "acs": "shared.integrations.clients.acs",
    "erp": "shared.integrations.clients.erp",
    "demo": "shared.integrations.clients.demo",
}


@dataclass(frozen=True)
class ActionResult:
    """The outcome of one action: what the provider answered, or why it failed and whether a retry may help."""

    provider_id: str
    action_id: str
    ok: bool
    latency_ms: int
    idempotency_key: str
    summary: str
    response_code: int | None = None
    external_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    error_class: str | None = None
    retryable: bool = False
    retry_after_seconds: float | None = None

    @property
    def status(self) -> str:
        """succeeded or failed."""
        return "succeeded" if self.ok else "failed"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (camelCase, no empty fields); holds no secret."""
        view = {
            "providerId": self.provider_id,
            "actionId": self.action_id,
            "status": self.status,
            "ok": self.ok,
            "latencyMs": self.latency_ms,
            "idempotencyKey": self.idempotency_key,
            "summary": self.summary,
            "responseCode": self.response_code,
            "externalId": self.external_id,
            "data": self.data,
            "errorClass": self.error_class,
            "retryable": self.retryable,
            "retryAfterSeconds": self.retry_after_seconds,
        }
        return {k: v for k, v in view.items() if v is not None}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a connection test."""

    provider_id: str
    ok: bool
    latency_ms: int
    message: str
    checked_at: str
    response_code: int | None = None
    error_class: str | None = None

    @property
    def status(self) -> str:
        """connected or failed (the contract's test-connection status)."""
        return "connected" if self.ok else "failed"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (camelCase, no empty fields); holds no secret."""
        view = {
            "providerId": self.provider_id,
            "status": self.status,
            "ok": self.ok,
            "latencyMs": self.latency_ms,
            "message": self.message,
            "checkedAt": self.checked_at,
            "responseCode": self.response_code,
            "errorClass": self.error_class,
        }
        return {k: v for k, v in view.items() if v is not None}


def _client(provider: catalog.Provider) -> Any:
    return importlib.import_module(CLIENT_MODULES[provider.client])


def _context(
    provider: catalog.Provider,
    config: Any,
    *,
    idempotency_key: str,
    recorder: DemoRecorder | None,
    first_sent_at: datetime | None,
    settings: Settings | None,
) -> CallContext:
    if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ValidationFailed(
            "The idempotency key must be 1-200 printable characters without spaces", code="invalid_idempotency_key"
        )
    # URLs are checked by the SSRF guard on every request; here only their form.
    clean = validated_config(provider, config, check_urls=False)
    return CallContext(
        provider=provider,
        config=clean,
        idempotency_key=idempotency_key,
        timeout=(settings or get_settings()).connector_timeout_seconds,
        first_sent_at=first_sent_at or clock.utc_now(),
        recorder=recorder,
    )


def _after_failure(ctx: CallContext, failure: ProviderFailure) -> None:
    if failure.error_class == AUTH_FAILED:
        oauth.forget(ctx.secrets)


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


def execute(
    provider_id: str,
    action_id: str,
    config: Any,
    params: Any,
    *,
    idempotency_key: str,
    recorder: DemoRecorder | None = None,
    first_sent_at: datetime | None = None,
    settings: Settings | None = None,
) -> ActionResult:
    """Run one provider action once per idempotency key (as the provider deduplicates), timed and classified.

    `first_sent_at` is when this delivery was first attempted (a retry passes the original time:
    ACS's Repeatability-First-Sent needs it). `recorder` is required by demo-tier providers.
    """
    provider = catalog.provider(provider_id)
    action = provider.action(action_id)
    ctx = _context(
        provider,
        config,
        idempotency_key=idempotency_key,
        recorder=recorder,
        first_sent_at=first_sent_at,
        settings=settings,
    )
    validate_params(action, params)
    client = _client(provider)
    started = time.perf_counter()
    try:
        if provider.client == "demo":
            outcome: Outcome = client.run(ctx, action.id, params)
        else:
            outcome = client.ACTIONS[action.id](ctx, params)
    except ProviderFailure as failure:
        latency = _elapsed_ms(started)
        _after_failure(ctx, failure)
        logger.warning(
            "integration %s.%s failed: %s (HTTP %s) in %d ms",
            provider.id,
            action.id,
            failure.error_class,
            failure.response_code,
            latency,
        )
        return ActionResult(
            provider_id=provider.id,
            action_id=action.id,
            ok=False,
            latency_ms=latency,
            idempotency_key=idempotency_key,
            summary=ctx.scrub(failure.message),
            response_code=failure.response_code,
            error_class=failure.error_class,
            retryable=failure.retryable,
            retry_after_seconds=failure.retry_after,
        )
    latency = _elapsed_ms(started)
    logger.info(
        "integration %s.%s succeeded (HTTP %s) in %d ms", provider.id, action.id, outcome.response_code, latency
    )
    return ActionResult(
        provider_id=provider.id,
        action_id=action.id,
        ok=True,
        latency_ms=latency,
        idempotency_key=idempotency_key,
        summary=ctx.scrub(outcome.summary),
        response_code=outcome.response_code,
        external_id=outcome.external_id,
        data=outcome.data,
    )


def health_check(
    provider_id: str, config: Any, *, recorder: DemoRecorder | None = None, settings: Settings | None = None
) -> CheckResult:
    """Test a provider connection with this config: reachability, credentials and the configured identity."""
    provider = catalog.provider(provider_id)
    ctx = _context(
        provider,
        config,
        idempotency_key=f"health:{provider.id}",
        recorder=recorder,
        first_sent_at=None,
        settings=settings,
    )
    checked_at = clock.now_iso()
    started = time.perf_counter()
    try:
        outcome: Outcome = _client(provider).health(ctx)
    except ProviderFailure as failure:
        latency = _elapsed_ms(started)
        _after_failure(ctx, failure)
        logger.warning(
            "integration %s health check failed: %s (HTTP %s) in %d ms",
            provider.id,
            failure.error_class,
            failure.response_code,
            latency,
        )
        return CheckResult(
            provider_id=provider.id,
            ok=False,
            latency_ms=latency,
            message=ctx.scrub(failure.message),
            checked_at=checked_at,
            response_code=failure.response_code,
            error_class=failure.error_class,
        )
    return CheckResult(
        provider_id=provider.id,
        ok=True,
        latency_ms=_elapsed_ms(started),
        message=ctx.scrub(outcome.summary),
        checked_at=checked_at,
        response_code=outcome.response_code,
    )
