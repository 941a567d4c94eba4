"""Session access keys: random, stored only as hashes, checked in constant time by session id."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.platform import clock
from shared.platform.errors import NotFound, Unauthorized
from shared.platform.store.repository import Repository

ACCESS_KEY_BYTES = 32
ACCESS_COOKIE = "session_access"
ACCESS_HEADER = "x-session-access"


class SessionAccessRepository(Repository):
    """One small lookup per session (partition = sessionId) so a key check is one point read."""

    container_name = "session_access"
    doc_type = "sessionAccess"


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """Proof that the caller holds a session: which session, its tenant, and how it was shown."""

    session_id: str
    tenant_id: str
    via: str  # "cookie", "header" or "admin"


grants = SessionAccessRepository()


def hash_key(key: str) -> str:
    """The stored form of an access key (keys are 256-bit random, so one SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(session_id: str, tenant_id: str, ttl_seconds: int) -> str:
    """Create the session's access key; only its hash is stored, with the session's expiry."""
    key = secrets.token_urlsafe(ACCESS_KEY_BYTES)
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
    grants.create(
        {
            "id": session_id,
            "sessionId": session_id,
            "tenantId": tenant_id,
            "keyHash": hash_key(key),
            "expiresAt": clock.iso(expires_at),
            "ttl": max(1, ttl_seconds),  # Cosmos refuses a ttl of 0
        }
    )
    return key


def check_key(session_id: str, key: str, via: str) -> SessionGrant:
    """The grant for a presented key: 404 for an unknown or expired session, 401 for a wrong key."""
    record = grants.read(session_id, session_id)
    if record is None or _expired(record.get("expiresAt")):
        raise NotFound("Session not found")
    if not hmac.compare_digest(hash_key(key), record["keyHash"]):
        raise Unauthorized("The session access key is not valid", code="invalid_session_access")
    return SessionGrant(session_id, record["tenantId"], via)


def tenant_of(session_id: str) -> str:
    """The tenant of a live session (for admin access checks); NotFound when unknown or expired."""
    record = grants.read(session_id, session_id)
    if record is None or _expired(record.get("expiresAt")):
        raise NotFound("Session not found")
    return record["tenantId"]


def _expired(expires_at: str | None) -> bool:
    if not expires_at:
        return False
    return clock.parse_iso(expires_at) <= clock.utc_now()
