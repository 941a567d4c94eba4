"""Queue an email (`enqueue_email`) and send one now with the configured provider (`deliver`, the job's work).

Logs name the idempotency key, the provider and masked recipients (`j***@example.com`); never a full
address or a body. Provider errors are re-raised without addresses in their text.
"""

from __future__ import annotations

import json
import logging
import re

from pydantic import ValidationError

from shared.email.models import EmailMessage, mask_address
from shared.email.providers import PROVIDERS
from shared.platform.errors import BadGateway, ServiceError, ServiceUnavailable, ValidationFailed
from shared.platform.settings import get_settings
from shared.platform.store import queues
from shared.platform.store.registry import EMAILS_QUEUE

logger = logging.getLogger("tellgence.email")

# A queue message is at most 64 KiB; the Functions trigger expects base64, which grows text by a third.
MAX_QUEUED_BYTES = 48 * 1024
_ANY_ADDRESS = re.compile(r"[^\s<>(),;:\"'\[\]{}]+@[A-Za-z0-9.-]+")
_MAX_ERROR_TEXT = 300


class EmailDeliveryFailed(BadGateway):
    """The provider did not take the message; the queue retries it."""

    code = "email_delivery_failed"
    default_message = "The email provider did not accept the message"


class InvalidEmailMessage(ValidationFailed):
    """A queued payload that is not an EmailMessage; it can never succeed."""

    code = "invalid_email_message"
    default_message = "The queued email is not valid"


def serialize(message: EmailMessage) -> str:
    """The queue text of one message (compact JSON, no nulls)."""
    return json.dumps(message.model_dump(mode="json", exclude_none=True), separators=(",", ":"))


def enqueue_email(message: EmailMessage, *, retries: int | None = None) -> str:
    """Queue the message on `emails` for the send_email job; returns the queue message id.

    `retries` (see `queues.enqueue`) lets a caller with its own fallback fail fast when the queue is down.
    """
    payload = message.model_dump(mode="json", exclude_none=True)
    if len(json.dumps(payload, separators=(",", ":")).encode("utf-8")) > MAX_QUEUED_BYTES:
        raise ValidationFailed(
            f"The email is larger than {MAX_QUEUED_BYTES // 1024} KiB and cannot be queued", code="email_too_large"
        )
    queue_message_id = queues.enqueue(EMAILS_QUEUE, payload, retries=retries)
    logger.info(
        "queued email %s for %s (queue message %s)",
        message.idempotency_key,
        _recipients(message),
        queue_message_id,
    )
    return queue_message_id


def parse_queued(body: bytes | str) -> EmailMessage:
    """A queued payload as an EmailMessage; InvalidEmailMessage names the bad fields, never their values."""
    try:
        return EmailMessage.model_validate_json(body)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in item["loc"]) or "(message)" for item in error.errors()})
        logger.error(
            "queued email %s is not valid (%s); it will never be sent and ends in %s-poison",
            _key_of(body),
            ", ".join(fields),
            EMAILS_QUEUE,
        )
        # `from None`: pydantic's own text quotes the rejected input (addresses, bodies).
        raise InvalidEmailMessage(f"The queued email is not valid: {', '.join(fields)}") from None


def deliver(message: EmailMessage) -> str:
    """Send the message now with EMAIL_PROVIDER; returns the provider's message id.

    ServiceUnavailable (`email_not_configured`) when no provider is configured; EmailDeliveryFailed when the
    provider fails. Either way the caller (the queue job) raises and the queue retries.
    """
    settings = get_settings()
    provider = settings.email_provider
    if not provider:
        raise ServiceUnavailable("Email is not configured", code="email_not_configured")
    send = PROVIDERS.get(provider)
    if send is None:
        raise ServiceUnavailable(f"Email provider {provider!r} is not supported", code="email_not_configured")
    try:
        provider_message_id = send(message, settings)
    except ServiceError as error:
        logger.warning("email %s via %s not sent: %s", message.idempotency_key, provider, error.message)
        raise
    except Exception as error:
        reason = describe_error(error)
        logger.warning("email %s via %s failed: %s", message.idempotency_key, provider, reason)
        raise EmailDeliveryFailed(f"Email delivery via {provider} failed: {reason}") from None
    logger.info(
        "sent email %s via %s to %s: %s",
        message.idempotency_key,
        provider,
        _recipients(message),
        provider_message_id,
    )
    return provider_message_id


def describe_error(error: BaseException) -> str:
    """`Type: text` with every address in the text masked, bounded in length."""
    text = _ANY_ADDRESS.sub(lambda match: mask_address(match.group(0)), str(error))
    return f"{type(error).__name__}: {text}"[:_MAX_ERROR_TEXT]


def _key_of(body: bytes | str) -> str:
    """The idempotency key of an invalid payload, when it has a printable one (for the operator's log)."""
    try:
        key = json.loads(body).get("idempotency_key")
    except (ValueError, AttributeError):
        return "(unreadable payload)"
    if isinstance(key, str) and key.isprintable() and 0 < len(key) <= 256:
        return key
    return "(no idempotency key)"


def _recipients(message: EmailMessage) -> str:
    return ", ".join(mask_address(address) for address in message.to)
