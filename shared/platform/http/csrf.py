"""CSRF protection of cookie-authenticated writes: an allowed Origin and a token bound to the session key.

The browser holds the session key only in an HttpOnly cookie, which a cross-site page can make it
send but cannot read. `GET /api/csrf` answers the token bound to that cookie's key (an HMAC of a
fixed label under the key); a state-changing request authenticated by the cookie must echo it in
`x-csrf-token` and come from one of FRONTEND_URLS. A token is worthless with any other session key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from shared.platform.errors import Forbidden
from shared.platform.http.request import Request
from shared.platform.settings import get_settings

CSRF_HEADER = "x-csrf-token"
CSRF_LABEL = b"tellgence-csrf-v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_for(session_key: str) -> str:
    """The CSRF token bound to one session key."""
    digest = hmac.new(session_key.encode(), CSRF_LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_token(session_key: str | None) -> str:
    """The token for the caller's session cookie; without one, a random token no write will accept."""
    return token_for(session_key) if session_key else secrets.token_urlsafe(32)


def origin_allowed(origin: str | None) -> bool:
    """Whether a request's Origin is one of FRONTEND_URLS."""
    if not origin:
        return False
    return origin.strip().rstrip("/").lower() in {url.lower() for url in get_settings().frontend_urls}


def verify(request: Request, session_key: str) -> None:
    """Refuse a cookie-authenticated state change from another origin or without the key's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    if not origin_allowed(request.header("origin")):
        raise Forbidden("Cookie-authenticated changes must come from the Tellgence web app", code="origin_not_allowed")
    presented = request.header(CSRF_HEADER) or ""
    if not presented:
        raise Forbidden("A CSRF token is required for cookie-authenticated requests", code="csrf_required")
    if not hmac.compare_digest(presented.encode(), token_for(session_key).encode()):
        raise Forbidden("The CSRF token does not match this session", code="csrf_mismatch")
