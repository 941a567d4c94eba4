"""Auth modes that rest on a Clerk session token: roles, super-admins, optional bearers."""

from __future__ import annotations

from typing import Any

from shared.platform.errors import Forbidden, Unauthorized
from shared.platform.http.auth import REALTIME_API_KEY
from shared.platform.http.request import Request
from shared.platform.principal import Role


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


SIGNED_IN = ClerkBearer(store_optional=True)
SUPER_ADMIN = ClerkBearer(super_admin=True)
VIEWER = ClerkBearer(Role.VIEWER)
OPERATOR = ClerkBearer(Role.OPERATOR)
ADMIN = ClerkBearer(Role.ADMIN)
OWNER = ClerkBearer(Role.OWNER)
