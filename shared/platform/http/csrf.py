"""CSRF double-submit tokens: issued by GET /api/csrf, checked on cookie-authenticated writes."""

from __future__ import annotations

import hmac
import secrets

from shared.platform.errors import Forbidden
from shared.platform.http.cookies import build_cookie
from shared.platform.http.request import Request
from shared.platform.settings import get_settings

CSRF_HEADER = "x-csrf-token"
CSRF_TOKEN_BYTES = 32
CSRF_COOKIE_MAX_AGE = 12 * 60 * 60
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def issue_token() -> tuple[str, str]:
    """A fresh token and the Set-Cookie value that pairs the browser with it."""
    token = secrets.token_urlsafe(CSRF_TOKEN_BYTES)
    cookie = build_cookie(get_settings().csrf_cookie_name, token, max_age=CSRF_COOKIE_MAX_AGE)
    return token, cookie


def verify(request: Request) -> None:
    """Refuse a state-changing request whose x-csrf-token does not match its CSRF cookie."""
    if request.method in SAFE_METHODS:
        return
    cookie_token = request.cookies.get(get_settings().csrf_cookie_name, "")
    header_token = request.header(CSRF_HEADER) or ""
    if not cookie_token or not header_token:
        raise Forbidden("A CSRF token is required for cookie-authenticated requests", code="csrf_required")
    if not hmac.compare_digest(cookie_token.encode(), header_token.encode()):
        raise Forbidden("The CSRF token does not match", code="csrf_mismatch")
