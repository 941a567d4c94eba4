"""Clerk session JWT verification with PyJWT: RS256 only, keys from a PEM or a cached JWKS."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from shared.platform.errors import ServiceUnavailable, Unauthorized
from shared.platform.ids import is_valid_id
from shared.platform.settings import Settings, get_settings

CLOCK_SKEW_SECONDS = 60
JWKS_MIN_REFRESH_SECONDS = 30
JWKS_MAX_AGE_SECONDS = 3600
JWKS_TIMEOUT_SECONDS = 5
# Clerk session tokens are well under 4 KiB; a longer header value is refused before parsing.
MAX_TOKEN_LENGTH = 8192


class InvalidToken(Unauthorized):
    code = "invalid_token"
    default_message = "The bearer token is not valid"


@dataclass(frozen=True, slots=True)
class OrgClaims:
    """The organization a token speaks for, in either Clerk claim version."""

    org_id: str | None
    role: str | None
    slug: str | None


class _KeyStore:
    """Verification keys: the configured PEM (loaded once), or a JWKS through PyJWT's cached client.

    An unknown `kid` refetches the JWKS at most once per JWKS_MIN_REFRESH_SECONDS, so tokens with
    invented key ids cannot turn every request into a fetch from Clerk.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: tuple[str, str] | None = None
        self._pem_key: Any = None
        self._jwks_client: Any = None
        self._refreshed_at = 0.0

    def key_for(self, kid: str | None, settings: Settings) -> Any:
        source = (settings.clerk_jwt_key, settings.clerk_jwks_url)
        with self._lock:
            if source != self._source:
                self._source, self._pem_key, self._jwks_client, self._refreshed_at = source, None, None, 0.0
            if settings.clerk_jwt_key:
                if self._pem_key is None:
                    self._pem_key = _load_pem(settings.clerk_jwt_key)
                return self._pem_key
            if not settings.clerk_jwks_url:
                raise Unauthorized("Control-plane sign-in is not configured", code="auth_not_configured")
            if self._jwks_client is None:
                from jwt import PyJWKClient

                self._jwks_client = PyJWKClient(
                    settings.clerk_jwks_url,
                    cache_keys=False,
                    lifespan=JWKS_MAX_AGE_SECONDS,
                    timeout=JWKS_TIMEOUT_SECONDS,
                )
            key = self._find(kid, refresh=False)
            if key is None and time.monotonic() - self._refreshed_at > JWKS_MIN_REFRESH_SECONDS:
                key = self._find(kid, refresh=True)
        if key is None:
            raise InvalidToken("The bearer token was signed by an unknown key")
        return key

    def _find(self, kid: str | None, *, refresh: bool) -> Any:
        from jwt import PyJWKClientError

        try:
            keys = [jwk for jwk in self._jwks_client.get_jwk_set(refresh=refresh).keys if jwk.key_type == "RSA"]
        except PyJWKClientError as exc:
            raise Unauthorized("The signing keys cannot be fetched", code="jwks_unavailable") from exc
        if refresh or not self._refreshed_at:
            self._refreshed_at = time.monotonic()
        if kid:
            return next((jwk.key for jwk in keys if jwk.key_id == kid), None)
        return keys[0].key if len(keys) == 1 else None


def _load_pem(pem: str) -> Any:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem.replace("\\n", "\n").encode())
    if not isinstance(key, RSAPublicKey):
        raise ValueError("CLERK_JWT_KEY must be an RSA public key")
    return key


_keys = _KeyStore()


def verify_token(token: str, settings: Settings | None = None) -> dict[str, Any]:
    """The claims of a Clerk session token whose signature, times, issuer and azp all check out (PyJWT)."""
    import jwt

    settings = settings or get_settings()
    if problem := settings.control_plane_auth_problem:
        raise ServiceUnavailable(problem, code="auth_not_configured")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("The bearer token is malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("The bearer token is malformed") from exc
    # Only RS256: `none`, HS256 keyed with the public key and every other algorithm are refused.
    if header.get("alg") != "RS256":
        raise InvalidToken("The bearer token must be signed with RS256")
    kid = header.get("kid")
    key = _keys.key_for(kid if isinstance(kid, str) else None, settings)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=settings.clerk_issuer or None,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "sub"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("The bearer token has expired", code="token_expired") from exc
    except jwt.MissingRequiredClaimError as exc:
        if exc.claim == "exp":
            raise InvalidToken("The bearer token has expired", code="token_expired") from exc
        raise InvalidToken("The bearer token names no user") from exc
    except jwt.ImmatureSignatureError as exc:
        raise InvalidToken("The bearer token is not valid yet") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken("The bearer token was issued by someone else") from exc
    except jwt.InvalidSignatureError as exc:
        raise InvalidToken("The bearer token signature is not valid") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("The bearer token is malformed") from exc
    _check_app_claims(claims, settings)
    return claims


def _check_app_claims(claims: dict[str, Any], settings: Settings) -> None:
    """What PyJWT does not know about Clerk: a non-empty string subject and an azp of our front ends."""
    if not is_valid_id(claims.get("sub")):
        raise InvalidToken("The bearer token names no user")
    org = claims.get("o")
    org_ids = [org.get("id") if isinstance(org, dict) else org, claims.get("org_id")]
    if any(value is not None and not is_valid_id(value) for value in org_ids):
        raise InvalidToken("The bearer token names a malformed organization")
    azp = claims.get("azp")
    if azp is None:
        return
    if not isinstance(azp, str):
        raise InvalidToken("The bearer token is malformed")
    if settings.frontend_urls and azp.rstrip("/") not in settings.frontend_urls:
        raise InvalidToken("The bearer token was issued to another application")


def org_claims(claims: dict[str, Any]) -> OrgClaims:
    """The organization claims: v2 (`o.id`, `o.rol`, `o.slg`) or v1 (`org_id`, `org_role`, `org_slug`)."""
    org = claims.get("o")
    if isinstance(org, dict) and org.get("id"):
        return OrgClaims(_str_or_none(org["id"]), _str_or_none(org.get("rol")), _str_or_none(org.get("slg")))
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
