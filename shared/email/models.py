"""The email message producers build and the `emails` queue carries (JSON, snake_case fields)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.platform import clock

MAX_RECIPIENTS = 20
MAX_SUBJECT_LENGTH = 200
MAX_TAGS = 10

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TAG_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class InvalidAddress(ValueError):
    """`value` is not one plain email address this app sends to."""


@cache
def _validate_email() -> Callable[..., Any]:
    """email-validator's `validate_email`, imported on first use (it pulls in idna), configured once."""
    import email_validator

    # `.local` addresses are what the dev outbox and its seeds use; the library treats them as special-use and
    # documents removing a name from this list as the way to accept it. `.test` is accepted per call below.
    if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")
    return email_validator.validate_email


def normalize_address(value: str) -> str:
    """The address as we send to it (ASCII, IDNA domain, lower-case domain); InvalidAddress if it is not one.

    Syntax only (email-validator, never a DNS lookup): a dot-atom ASCII local part of at most 64 characters, a
    dotted domain within a real-looking TLD, 254 characters at most; no display name, quoted local part, IP
    literal or special-use domain (`.invalid`, `.onion`, ... but `.local` and `.test` pass for development).
    """
    if not isinstance(value, str) or not value:
        raise InvalidAddress("must be an email address")
    from email_validator import EmailNotValidError

    try:
        validated = _validate_email()(
            value,
            check_deliverability=False,
            allow_smtputf8=False,  # every provider can deliver it without SMTPUTF8
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            strict=True,  # the 64-character local part limit
            test_environment=True,  # accept `.test` (no DNS either way)
        )
    except EmailNotValidError:
        # No library text: it quotes characters of the rejected input.
        raise InvalidAddress("must be an email address") from None
    return validated.ascii_email


def is_address(value: str) -> bool:
    """Whether `value` is one plain email address this app accepts."""
    try:
        normalize_address(value)
    except InvalidAddress:
        return False
    return True


def mask_address(address: str) -> str:
    """`jane.doe@example.com` → `j***@example.com`: enough to tell recipients apart in a log, no more."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


def _address(value: str) -> str:
    # No value in the message: pydantic puts the input in the error, callers never log it.
    return normalize_address(value.strip())


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (CR, LF, ...)")
    return value


class EmailMessage(BaseModel):
    """One email to send; `idempotency_key` names what caused it (e.g. `reminder:{sessionId}:{scheduledFor}`).

    The same key always means the same email: the outbox overwrites its blob, SMTP derives the Message-ID
    from it, so a retried or duplicated delivery is recognisable.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: list[str] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_LENGTH)
    text: str = Field(min_length=1)
    html: str | None = Field(default=None, min_length=1)
    reply_to: str | None = None
    tags: dict[str, str] = Field(default_factory=dict, max_length=MAX_TAGS)
    correlation_id: str | None = None
    idempotency_key: str = Field(min_length=1, max_length=256)
    created_at: str = Field(default_factory=clock.now_iso)

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        addresses: list[str] = []
        for address in map(_address, value):
            if address.lower() not in {seen.lower() for seen in addresses}:
                addresses.append(address)
        return addresses

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str | None) -> str | None:
        return None if value is None else _address(value)

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        # CR/LF in a header value is header injection; other control characters have no place there either.
        _no_control_characters(value)
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("idempotency_key")
    @classmethod
    def _idempotency_key(cls, value: str) -> str:
        _no_control_characters(value)
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for name, tag in value.items():
            if not _TAG_NAME.fullmatch(name):
                raise ValueError("tag names are 1-64 letters, digits, '_', '.' or '-'")
            if len(tag) > 256 or _CONTROL.search(tag) or ";" in tag:
                raise ValueError("tag values are at most 256 characters, without control characters or ';'")
        return value

    @field_validator("correlation_id")
    @classmethod
    def _correlation_id(cls, value: str | None) -> str | None:
        if value is not None and not _CORRELATION_ID.fullmatch(value):
            raise ValueError("must be 1-128 letters, digits, '.', '_', ':' or '-'")
        return value

    @field_validator("created_at")
    @classmethod
    def _created_at(cls, value: str) -> str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO-8601 timestamp") from None
        if parsed.tzinfo is None:
            raise ValueError("must carry a time zone")
        return value

    @property
    def created(self) -> datetime:
        """`created_at` as an aware UTC datetime (the outbox folder and the Date header use it)."""
        return datetime.fromisoformat(self.created_at).astimezone(UTC)
