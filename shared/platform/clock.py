"""The one clock: UTC instants and their ISO-8601 text form (milliseconds, `Z`) everywhere the app stores time."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and a Z suffix, the store's timestamp format."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current instant in the store's timestamp format."""
    return iso(utc_now())


def parse_iso(value: str) -> datetime:
    """An ISO 8601 date-time (a trailing Z, or no offset, means UTC) as an aware datetime; ValueError otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an ISO 8601 date-time")
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
