"""OAuth 2.0 client-credentials tokens: a client secret (Microsoft identity platform) or a signed JWT
assertion (SMART Backend Services, RS384), cached per credential until shortly before they expire."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from typing import Any

from shared.integrations.clients.base import (
    AUTH_FAILED,
    CONFIGURATION,
    INVALID_RESPONSE,
    CallContext,
    ProviderFailure,
    json_object,
    send,
)

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 300  # SMART Backend Services: no more than five minutes
EXPIRY_MARGIN_SECONDS = 60
DEFAULT_TOKEN_SECONDS = 300
MAX_CACHED_TOKENS = 1000

_lock = threading.Lock()
_tokens: dict[str, tuple[str, float]] = {}


def clear_tokens() -> None:
    """Forget every cached access token (tests, and a connector whose credentials changed)."""
    with _lock:
        _tokens.clear()


def forget(tokens: list[str]) -> None:
    """Drop cached tokens a provider just refused (revoked early), so the next call asks for a new one."""
    with _lock:
        for key in [k for k, (token, _) in _tokens.items() if token in tokens]:
            del _tokens[key]


def _cache_key(*parts: str) -> str:
    # Hashed so the cache holds no credential material as a key.
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _cached(key: str) -> str | None:
    with _lock:
        hit = _tokens.get(key)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        return None


def _store(key: str, token: str, expires_in: Any) -> None:
    seconds = expires_in if isinstance(expires_in, int | float) and expires_in > 0 else DEFAULT_TOKEN_SECONDS
    with _lock:
        if len(_tokens) >= MAX_CACHED_TOKENS:
            _tokens.clear()
        _tokens[key] = (token, time.monotonic() + max(0.0, float(seconds) - EXPIRY_MARGIN_SECONDS))


def _request_token(ctx: CallContext, token_url: str, form: dict[str, str]) -> tuple[str, Any]:
    response = send(ctx, "POST", token_url, form=form, headers={"Accept": "application/json"})
    body = json_object(ctx, response)
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ProviderFailure(INVALID_RESPONSE, f"{ctx.provider.name} token endpoint returned no access_token")
    if str(body.get("token_type", "bearer")).lower() != "bearer":
        raise ProviderFailure(INVALID_RESPONSE, f"{ctx.provider.name} token endpoint returned a non-bearer token")
    return token, body.get("expires_in")


def _token(ctx: CallContext, key: str, token_url: str, form: dict[str, str]) -> str:
    token = _cached(key)
    if token is None:
        try:
            token, expires_in = _request_token(ctx, token_url, form)
        except ProviderFailure as failure:
            if failure.response_code in (400, 401):
                # RFC 6749 answers bad client credentials with 400/401 invalid_client: not retryable.
                failure.error_class = AUTH_FAILED
            raise
        _store(key, token, expires_in)
    ctx.add_secret(token)
    return token


def client_secret_token(ctx: CallContext, token_url: str, *, client_id: str, client_secret: str, scope: str) -> str:
    """A client-credentials access token obtained with a client secret (form post)."""
    key = _cache_key("secret", token_url, client_id, scope, hashlib.sha256(client_secret.encode()).hexdigest())
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret, "scope": scope}
    return _token(ctx, key, token_url, form)


def signed_assertion(
    token_url: str, *, client_id: str, private_key_pem: str, key_id: str, now: float | None = None
) -> str:
    """A SMART Backend Services client assertion: RS384 JWT, iss = sub = client id, aud = token URL, 5 min, jti."""
    import jwt

    issued = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "exp": issued + ASSERTION_LIFETIME_SECONDS,
        "iat": issued,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, private_key_pem, algorithm="RS384", headers={"kid": key_id, "typ": "JWT"})


def smart_backend_token(
    ctx: CallContext, token_url: str, *, client_id: str, private_key_pem: str, key_id: str, scope: str
) -> str:
    """A SMART Backend Services access token: client_credentials with a signed jwt-bearer client assertion."""
    key = _cache_key("smart", token_url, client_id, key_id, scope, hashlib.sha256(private_key_pem.encode()).hexdigest())
    token = _cached(key)
    if token is not None:
        ctx.add_secret(token)
        return token
    from jwt.exceptions import PyJWTError

    try:
        assertion = signed_assertion(token_url, client_id=client_id, private_key_pem=private_key_pem, key_id=key_id)
    except (ValueError, TypeError, PyJWTError) as exc:
        raise ProviderFailure(CONFIGURATION, f"{ctx.provider.name} private key cannot sign an RS384 assertion") from exc
    ctx.add_secret(assertion)
    form = {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
    }
    return _token(ctx, key, token_url, form)
