"""The session access auth mode: a session's key (header, or cookie plus CSRF), or a bearer of its tenant."""

from __future__ import annotations

from typing import Any

from shared.identity.auth import ClerkBearer
from shared.platform.errors import NotFound, Unauthorized
from shared.platform.http import csrf
from shared.platform.http.request import Request
from shared.platform.principal import Role
from shared.sessions import access, grants


class SessionAccess:
    """The session's access key (header, or cookie plus CSRF), or a bearer of the session's tenant.

    A state-changing request authenticated by the cookie must also come from one of FRONTEND_URLS
    and carry the CSRF token bound to that key; a header cannot be sent cross-site without CORS
    consent, so header-authenticated requests need not. `reads` names the document proving access
    also loads: the session, or its handle (the call state).
    """

    def __init__(self, route_param: str = "id", *, admin_role: Role = Role.OPERATOR, reads: str = "session") -> None:
        self.route_param = route_param
        self.admin_role = admin_role
        self.reads = reads
        self.name = f"session_access or {admin_role.value}"

    def authenticate(self, request: Request) -> Any:
        return session_grant(
            request, request.route.get(self.route_param, ""), admin_role=self.admin_role, reads=self.reads
        )


def session_grant(
    request: Request, session_id: str, *, admin_role: Role = Role.OPERATOR, reads: str = "session"
) -> Any:
    """Prove access to one session: its key by header, or by cookie plus CSRF, or a bearer of its tenant."""
    if not session_id:
        raise NotFound("Session not found")
    header_key = request.header(access.ACCESS_HEADER)
    if header_key:
        return grants.by_key(session_id, header_key, "header", reads=reads)
    cookie_key = request.cookies.get(access.ACCESS_COOKIE)
    if cookie_key:
        csrf.verify(request, cookie_key)
        return grants.by_key(session_id, cookie_key, "cookie", reads=reads)
    if request.header("authorization"):
        principal = ClerkBearer(admin_role, super_admin_or=True).authenticate(request)
        return grants.by_principal(session_id, principal, reads=reads)
    raise Unauthorized("The session access key is required", code="missing_session_access")
