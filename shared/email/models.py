"""The email message producers build and the `emails` queue carries (JSON, snake_case fields)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.platform import clock

MAX_RECIPIENTS = 20
MAX_SUBJECT_LENGTH = 200
MAX_TAGS = 10

# A pragmatic address check (dot-atom local part, dotted host with an alphabetic TLD); no quoted local parts,
# no IP literals, no display names. Anything that passes contains no whitespace, CR or LF.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TAG_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_address(value: str) -> bool:
    """Whether `value` is one plain email address this app accepts."""
    local, _, _ = value.partition("@")
    return len(value) <= 254 and len(local) <= 64 and _ADDRESS.fullmatch(value) is not None


def mask_address(address: str) -> str:
    """`jane.doe@example.com` → `j***@example.com`: enough to tell recipients apart in a log, no more."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


def _address(value: str) -> str:
    value = value.strip()
    if not is_address(value):
        # No value in the message: pydantic puts the input in the error, callers never log it.
        raise ValueError("must be an email address")
    return value


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
