"""Session access keys: random, carrying their session's tenant, stored only as hashes, checked in constant time.

A key is `<43 random base64url characters>.<tenantId>`. The tenant part tells the server which
partition the session lives in, so proving access and reading the session is one point read; the
random part (256 bits) is the secret. Only the SHA-256 of the whole key is stored, on the session
document and on its handle.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from shared.platform.errors import Unauthorized
from shared.tenants.ids import TENANT_ID_PATTERN

ACCESS_KEY_BYTES = 32
ACCESS_COOKIE = "session_access"
ACCESS_HEADER = "x-session-access"
MAX_KEY_LENGTH = 128


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """Proof that the caller holds a session: which session, its tenant, how it was shown, and what was read.

    `via` is "cookie" or "header" for a key, "bearer" for an operator of the tenant. `session` or
    `handle` holds the document read while proving access, so the operation need not read it again.
    """

    session_id: str
    tenant_id: str
    via: str
    session: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    handle: dict[str, Any] | None = field(default=None, compare=False, repr=False)


def hash_key(key: str) -> str:
    """The stored form of an access key (keys carry 256 random bits, so one SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(tenant_id: str) -> tuple[str, str]:
    """A fresh access key for a session of `tenant_id`, and its hash."""
    key = f"{secrets.token_urlsafe(ACCESS_KEY_BYTES)}.{tenant_id}"
    return key, hash_key(key)


def tenant_in_key(key: str) -> str:
    """The tenant a key names; Unauthorized when the key is not shaped like one of ours."""
    secret, _, tenant_id = key.rpartition(".")
    if len(key) > MAX_KEY_LENGTH or len(secret) < 40 or not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise Unauthorized("The session access key is not valid", code="invalid_session_access")
    return tenant_id


def verify_key(key: str, stored_hash: str | None) -> None:
    """Unauthorized unless `key` hashes to the stored hash (constant-time comparison)."""
    if not stored_hash or not hmac.compare_digest(hash_key(key), stored_hash):
        raise Unauthorized("The session access key is not valid", code="invalid_session_access")
