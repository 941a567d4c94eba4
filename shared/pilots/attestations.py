"""Attestation tokens: an unguessable link bound to one tenant, pilot and week, with an expiry.

Format (version 1), URL-safe and at most MAX_TOKEN_LENGTH characters so it fits the `{token}` path segment:

    token   = base64url(payload) "." base64url(tag)          (no padding)
    payload = "1" "|" tenantId "|" pilotId "|" weekId "|" expiry        (UTF-8; expiry in Unix seconds)
    tag     = HMAC-SHA256(key, DOMAIN + payload)                         (32 bytes)

Tenant ids (`[a-z0-9_-]`, at most 64), pilot ids (`PILOT-` + 8) and week ids (`YYYY-Www`) never contain `|`,
so the payload splits unambiguously; the longest token is about 180 characters. DOMAIN separates these tags
from any other HMAC made with the same key.

The key is ATTESTATION_SIGNING_KEY (at least 32 characters, from Key Vault in Azure). A token signed with
ATTESTATION_SIGNING_KEY_PREVIOUS still verifies, so the key can be rotated without breaking links already
emailed. Locally (APP_ENV local or test) with no key set, the fixed DEV_SIGNING_KEY is used; anywhere else a
missing key means attestations are not configured (503), never an unsigned or guessable token.

Verification computes the tag first and compares it in constant time (hmac.compare_digest) before reading any
field; a malformed, tampered, unknown (another key) or expired token raises the same InvalidAttestationToken,
with the same message, so a caller cannot tell which. The expiry is checked after the signature.
Whether the body of POST /api/attestations/{token} names the token's pilot and week is a separate check
(`check_body_matches`), answered with its own 400 since the token itself was valid.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.pilots.ids import is_pilot_id
from shared.pilots.snapshots import METRIC_FIELDS
from shared.pilots.weeks import InvalidWeek, parse_week_id
from shared.platform import clock
from shared.platform.errors import BadRequest, ServiceUnavailable
from shared.platform.settings import Settings, get_settings

VERSION = "1"
DOMAIN = b"tellgence.attestation.v1\x00"
MAX_TOKEN_LENGTH = 200
# Only for APP_ENV local/test: a well-known key, so links made by `make dev` keep working across restarts.
DEV_SIGNING_KEY = "tellgence-local-development-attestation-key-not-secret"
# The tenant id format of shared.identity.service, restated so this module does not pull in the directory.
TENANT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{1,62}[a-z0-9]")
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
INVALID_TOKEN_MESSAGE = "This attestation link is not valid or has expired"


class InvalidAttestationToken(BadRequest):
    """Any token that does not verify: malformed, tampered, signed by another key or expired (one message)."""

    code = "invalid_token"
    default_message = INVALID_TOKEN_MESSAGE

    def __init__(self) -> None:
        super().__init__(INVALID_TOKEN_MESSAGE)


class AttestationMismatch(BadRequest):
    """A valid token whose pilot or week differs from the one the body names."""

    code = "attestation_mismatch"


@dataclass(frozen=True, slots=True)
class AttestationClaims:
    """What a verified token binds: tenant, pilot, week and the instant it expires."""

    tenant_id: str
    pilot_id: str
    week_id: str
    expires_at: datetime


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(key: str, payload: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), DOMAIN + payload, hashlib.sha256).digest()


def signing_keys(settings: Settings | None = None) -> tuple[str, ...]:
    """The keys tokens verify against, current first; ServiceUnavailable when none is configured."""
    settings = settings or get_settings()
    keys = tuple(key for key in (settings.attestation_signing_key, settings.attestation_signing_key_previous) if key)
    if not settings.attestation_signing_key:
        if not settings.is_local:
            raise ServiceUnavailable("Attestations are not configured: ATTESTATION_SIGNING_KEY is not set")
        keys = (DEV_SIGNING_KEY, *keys)
    return keys


def _now(now: datetime | None) -> datetime:
    moment = now or clock.utc_now()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def issue_token(
    tenant_id: str,
    pilot_id: str,
    week_id: str,
    *,
    now: datetime | None = None,
    ttl: timedelta | None = None,
    settings: Settings | None = None,
) -> str:
    """A token for the attestation of one pilot's week, valid for `ttl` (ATTESTATION_TOKEN_TTL_DAYS by default)."""
    settings = settings or get_settings()
    if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise ValueError("tenant_id is not a tenant id")
    if not is_pilot_id(pilot_id):
        raise ValueError("pilot_id is not a pilot id")
    week = parse_week_id(week_id)
    lifetime = ttl if ttl is not None else timedelta(days=settings.attestation_token_ttl_days)
    if lifetime <= timedelta(0):
        raise ValueError("ttl must be positive")
    expiry = math.floor((_now(now) + lifetime).timestamp())
    payload = "|".join((VERSION, tenant_id, pilot_id, week.week_id, str(expiry))).encode("utf-8")
    token = f"{_b64encode(payload)}.{_b64encode(_tag(signing_keys(settings)[0], payload))}"
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("the token would not fit the URL path segment")
    return token


def _claims(payload: bytes) -> AttestationClaims:
    parts = payload.decode("utf-8").split("|")
    if len(parts) != 5 or parts[0] != VERSION or not parts[4].isascii() or not parts[4].isdigit():
        raise ValueError("malformed payload")
    _, tenant_id, pilot_id, week_id, expiry = parts
    if not TENANT_ID_PATTERN.fullmatch(tenant_id) or not is_pilot_id(pilot_id):
        raise ValueError("malformed payload")
    week = parse_week_id(week_id)
    return AttestationClaims(tenant_id, pilot_id, week.week_id, datetime.fromtimestamp(int(expiry), UTC))


def read_token(token: object, *, now: datetime | None = None, settings: Settings | None = None) -> AttestationClaims:
    """The claims of a genuine, unexpired token; InvalidAttestationToken (400) for every other token."""
    keys = signing_keys(settings)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not TOKEN_PATTERN.fullmatch(token):
        raise InvalidAttestationToken()
    encoded_payload, encoded_tag = token.split(".")
    try:
        payload, tag = _b64decode(encoded_payload), _b64decode(encoded_tag)
    except (binascii.Error, ValueError):
        raise InvalidAttestationToken() from None
    # Every key is tried, whatever matched, so the time taken does not say which key signed the token.
    genuine = False
    for key in keys:
        genuine |= hmac.compare_digest(_tag(key, payload), tag)
    # A canonical token re-encodes to itself; anything else (e.g. stray padding bits) is not one we issued.
    if not genuine or f"{_b64encode(payload)}.{_b64encode(tag)}" != token:
        raise InvalidAttestationToken()
    try:
        claims = _claims(payload)
    except (UnicodeDecodeError, ValueError, InvalidWeek, OverflowError, OSError):
        raise InvalidAttestationToken() from None
    if claims.expires_at <= _now(now):
        raise InvalidAttestationToken()
    return claims


def check_body_matches(claims: AttestationClaims, *, pilot_id: object, week_id: object) -> None:
    """The body of an attestation must name the token's pilot and week (AttestationMismatch, 400, otherwise)."""
    if pilot_id != claims.pilot_id or week_id != claims.week_id:
        raise AttestationMismatch("The pilot and week must be the ones this attestation link was sent for")


def accepted_metrics(submitted: Mapping[str, Any] | None, snapshot: Mapping[str, Any]) -> dict[str, float]:
    """The accepted metrics worth recording: snapshot metrics the snapshot has, with finite numeric values.

    Keys that are not snapshot metrics, or that the snapshot lacks, are dropped; so are booleans and
    non-finite numbers. The order follows the snapshot's metric order.
    """
    values = submitted or {}
    kept = {}
    for name in METRIC_FIELDS:
        value = values.get(name)
        if name not in snapshot or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(value):
            kept[name] = value
    return kept
