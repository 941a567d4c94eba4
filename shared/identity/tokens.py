"""Clerk session JWT verification: RS256 only, keys from a PEM or a cached JWKS."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from shared.platform.errors import ServiceUnavailable, Unauthorized
from shared.platform.settings import Settings, get_settings

CLOCK_SKEW_SECONDS = 60
JWKS_MIN_REFRESH_SECONDS = 30
JWKS_MAX_AGE_SECONDS = 3600
JWKS_TIMEOUT_SECONDS = 5.0


class InvalidToken(Unauthorized):
    code = "invalid_token"
    default_message = "The bearer token is not valid"


@dataclass(frozen=True, slots=True)
class OrgClaims:
    """The organization a token speaks for, in either Clerk claim version."""

    org_id: str | None
    role: str | None
    slug: str | None


def _b64url_decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (ValueError, TypeError) as exc:
        raise InvalidToken("The bearer token is malformed") from exc


def _json_segment(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url_decode(segment))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidToken("The bearer token is malformed") from exc
    if not isinstance(value, dict):
        raise InvalidToken("The bearer token is malformed")
    return value


class _KeyStore:
    """Verification keys by `kid`: the configured PEM, or a JWKS refreshed on an unknown kid."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: tuple[str, str] | None = None
        self._pem_key: Any = None
        self._jwks: dict[str, Any] = {}
        self._fetched_at = 0.0

    def key_for(self, kid: str | None, settings: Settings) -> Any:
        source = (settings.clerk_jwt_key, settings.clerk_jwks_url)
        with self._lock:
            if source != self._source:
                self._source, self._pem_key, self._jwks, self._fetched_at = source, None, {}, 0.0
            if settings.clerk_jwt_key:
                if self._pem_key is None:
                    self._pem_key = _load_pem(settings.clerk_jwt_key)
                return self._pem_key
            if not settings.clerk_jwks_url:
                raise Unauthorized("Control-plane sign-in is not configured", code="auth_not_configured")
            age = time.monotonic() - self._fetched_at
            stale = age > JWKS_MAX_AGE_SECONDS
            unknown = kid not in self._jwks and age > JWKS_MIN_REFRESH_SECONDS
            if not self._jwks or stale or unknown:
                self._jwks = _fetch_jwks(settings.clerk_jwks_url)
                self._fetched_at = time.monotonic()
            key = self._jwks.get(kid) if kid else (next(iter(self._jwks.values())) if len(self._jwks) == 1 else None)
        if key is None:
            raise InvalidToken("The bearer token was signed by an unknown key")
        return key


def _load_pem(pem: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem.replace("\\n", "\n").encode())
    if not isinstance(key, RSAPublicKey):
        raise ValueError("CLERK_JWT_KEY must be an RSA public key")
    return key


def _fetch_jwks(url: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

    from shared.platform.outbound import http_client

    try:
        response = http_client().get(url, timeout=JWKS_TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
    except Exception as exc:
        raise Unauthorized("The signing keys cannot be fetched", code="jwks_unavailable") from exc
    keys = {}
    for jwk in document.get("keys", []):
        if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        numbers = RSAPublicNumbers(
            int.from_bytes(_b64url_decode(jwk["e"]), "big"), int.from_bytes(_b64url_decode(jwk["n"]), "big")
        )
        keys[jwk.get("kid", "")] = numbers.public_key()
    return keys


_keys = _KeyStore()


def verify_token(token: str, settings: Settings | None = None, *, now: float | None = None) -> dict[str, Any]:
    """The claims of a Clerk session token whose signature, times, issuer and azp all check out."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    settings = settings or get_settings()
    if problem := settings.control_plane_auth_problem:
        raise ServiceUnavailable(problem, code="auth_not_configured")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidToken("The bearer token is malformed")
    header = _json_segment(parts[0])
    # Only RS256: `none`, HS256 keyed with the public key and every other algorithm are refused.
    if header.get("alg") != "RS256":
        raise InvalidToken("The bearer token must be signed with RS256")
    key = _keys.key_for(header.get("kid"), settings)
    try:
        key.verify(_b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise InvalidToken("The bearer token signature is not valid") from exc
    claims = _json_segment(parts[1])
    _check_claims(claims, settings, time.time() if now is None else now)
    return claims


def _check_claims(claims: dict[str, Any], settings: Settings, now: float) -> None:
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or now > exp + CLOCK_SKEW_SECONDS:
        raise InvalidToken("The bearer token has expired", code="token_expired")
    if isinstance(nbf, int | float) and now < nbf - CLOCK_SKEW_SECONDS:
        raise InvalidToken("The bearer token is not valid yet")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise InvalidToken("The bearer token names no user")
    if settings.clerk_issuer and claims.get("iss") != settings.clerk_issuer:
        raise InvalidToken("The bearer token was issued by someone else")
    azp = claims.get("azp")
    if azp and settings.frontend_urls and azp.rstrip("/") not in settings.frontend_urls:
        raise InvalidToken("The bearer token was issued to another application")


def org_claims(claims: dict[str, Any]) -> OrgClaims:
    """The organization claims: v2 (`o.id`, `o.rol`, `o.slg`) or v1 (`org_id`, `org_role`, `org_slug`)."""
    org = claims.get("o")
    if isinstance(org, dict) and org.get("id"):
        return OrgClaims(str(org["id"]), _str_or_none(org.get("rol")), _str_or_none(org.get("slg")))
    return OrgClaims(
        _str_or_none(claims.get("org_id")), _str_or_none(claims.get("org_role")), _str_or_none(claims.get("org_slug"))
    )


def _str_or_none(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
