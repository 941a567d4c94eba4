"""Auth modes: each operation names one; the adapter runs it before reading the input."""

from __future__ import annotations

import hmac
from typing import Any, Protocol

from shared.identity.roles import Role
from shared.platform.errors import Forbidden, NotFound, Unauthorized
from shared.platform.http.request import Request
from shared.platform.settings import get_settings


class AuthMode(Protocol):
    """Resolves the principal of a request or raises Unauthorized / Forbidden / NotFound."""

    name: str

    def authenticate(self, request: Request) -> Any: ...


class Public:
    """Anyone may call; there is no principal."""

    name = "public"

    def authenticate(self, request: Request) -> None:
        return None


class ClerkBearer:
    """A valid Clerk session token, and optionally a minimum tenant role or platform super-admin.

    - `min_role`: the caller must be a member of its organization's tenant with at least this role.
    - `super_admin`: only platform super-admins.
    - `super_admin_or`: super-admins, or members with at least `min_role` (e.g. the audit log).
    - neither: any signed-in user (the auth session itself).
    - `store_optional`: a Cosmos outage yields a principal in state db_unavailable instead of 503.
    """

    def __init__(
        self,
        min_role: Role | None = None,
        *,
        super_admin: bool = False,
        super_admin_or: bool = False,
        store_optional: bool = False,
    ):
        self.min_role = min_role
        self.store_optional = store_optional
        self.super_admin = super_admin
        self.super_admin_or = super_admin_or
        if super_admin:
            self.name = "super_admin"
        elif min_role is not None:
            self.name = f"{'super_admin or ' if super_admin_or else ''}{min_role.value}"
        else:
            self.name = "signed_in"

    def authenticate(self, request: Request) -> Any:
        from shared.identity import service as identity
        from shared.identity.tokens import bearer_token, verify_token

        token = bearer_token(request.header("authorization"))
        if token is None:
            raise Unauthorized("A Clerk bearer token is required", code="missing_token")
        claims = verify_token(token)
        principal = (
            identity.resolve_principal_or_outage(claims) if self.store_optional else identity.resolve_principal(claims)
        )
        if self.super_admin:
            if not principal.is_super_admin:
                raise Forbidden("Only platform super-admins may do this")
        elif self.min_role is not None:
            allowed = principal.can(self.min_role) or (self.super_admin_or and principal.is_super_admin)
            if not allowed:
                if not principal.has_tenant_access:
                    raise Forbidden("You are not a member of a tenant", code="no_tenant_access")
                raise Forbidden(f"This needs the {self.min_role.value} role or higher")
        return principal


class RealtimeApiKey:
    """`x-api-key` or `Authorization: ApiKey …` equal to API_KEY_FOR_REALTIME; open when unset."""

    name = "realtime_api_key"

    def authenticate(self, request: Request) -> None:
        expected = get_settings().api_key_for_realtime
        if not expected:
            return None
        presented = request.header("x-api-key") or ""
        authorization = request.header("authorization") or ""
        if not presented and authorization.lower().startswith("apikey "):
            presented = authorization[7:].strip()
        if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise Unauthorized("A valid API key is required", code="invalid_api_key")
        return None


class WorkflowSecret:
    """The orchestrator's shared secret; the route does not exist while the secret is unset."""

    name = "workflow_secret"
    header = "x-tellgence-workflow-secret"

    def authenticate(self, request: Request) -> None:
        expected = get_settings().internal_workflow_callback_secret
        if not expected:
            raise NotFound("Not found")
        presented = request.header(self.header) or ""
        if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise Unauthorized("The workflow secret is not valid", code="invalid_workflow_secret")
        return None


PUBLIC = Public()
SIGNED_IN = ClerkBearer(store_optional=True)
SUPER_ADMIN = ClerkBearer(super_admin=True)
VIEWER = ClerkBearer(Role.VIEWER)
OPERATOR = ClerkBearer(Role.OPERATOR)
ADMIN = ClerkBearer(Role.ADMIN)
OWNER = ClerkBearer(Role.OWNER)
REALTIME_API_KEY = RealtimeApiKey()
WORKFLOW_SECRET = WorkflowSecret()


class OptionalBearer:
    """Anonymous callers pass with no principal; a caller who sends a token must present a valid one.

    A valid token upgrades the caller (e.g. an operator's demo session lands in their tenant); an
    invalid or forged token is refused, never silently downgraded to anonymous.
    """

    def __init__(self, min_role: Role | None = None) -> None:
        self._bearer = ClerkBearer(min_role)
        self.name = f"public or {self._bearer.name}"

    def authenticate(self, request: Request) -> Any:
        if not request.header("authorization"):
            return None
        return self._bearer.authenticate(request)


class RealtimeCaller:
    """The realtime API key (when API_KEY_FOR_REALTIME is set) and, optionally, a Clerk bearer of `min_role`.

    For realtime writes that decide a tenant: the key gates the browser app as on every realtime operation,
    and a bearer, when sent, must be valid and upgrades the caller like OptionalBearer. An `Authorization:
    ApiKey …` header is the key, not a missing bearer.
    """

    def __init__(self, min_role: Role = Role.OPERATOR) -> None:
        self._bearer = ClerkBearer(min_role)
        self.name = f"realtime_api_key + public or {min_role.value}"

    def authenticate(self, request: Request) -> Any:
        REALTIME_API_KEY.authenticate(request)
        authorization = (request.header("authorization") or "").strip()
        if not authorization or authorization.lower().startswith("apikey "):
            return None
        return self._bearer.authenticate(request)


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
    from shared.platform.http import csrf
    from shared.sessions import access, grants

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
