"""Bearer tokens for tests: tenants, roles, claim versions and super-admins."""

from __future__ import annotations

import uuid
from typing import Any

from devhost.tokens import session_claims, sign


def new_tenant_id(prefix: str = "t") -> str:
    """A tenant id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class TokenFactory:
    """Signs tokens the app under test trusts; a tenant's org slug is the tenant id."""

    def __init__(self, key: Any, *, issuer: str, super_admin_user_id: str) -> None:
        self.key = key
        self.issuer = issuer
        self.super_admin_user_id = super_admin_user_id

    def token(
        self,
        tenant: str | None = None,
        role: str | None = "admin",
        *,
        user: str | None = None,
        super_admin: bool = False,
        version: int = 2,
        key: Any = None,
        **overrides: Any,
    ) -> str:
        """A signed token; `overrides` replace or add claims (None removes one)."""
        claims = session_claims(
            user_id=self.super_admin_user_id if super_admin else (user or f"user_{uuid.uuid4().hex[:10]}"),
            org_id=f"org_{tenant}" if tenant else None,
            org_slug=tenant,
            role=role if tenant else None,
            issuer=self.issuer,
            claims_version=version,
        )
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return sign(claims, key or self.key)

    def headers(self, tenant: str | None = None, role: str | None = "admin", **kwargs: Any) -> dict[str, str]:
        """An Authorization header for `token(...)`."""
        return {"Authorization": f"Bearer {self.token(tenant, role, **kwargs)}"}

    def super_admin(self, tenant: str | None = None, **kwargs: Any) -> dict[str, str]:
        """An Authorization header of the platform super-admin (optionally also a tenant member)."""
        return self.headers(tenant, "owner" if tenant else None, super_admin=True, **kwargs)
