"""Who is calling: a tenant role, the caller's access state, and the authenticated principal.

The adapter's auth modes produce a Principal; services read it. Which identity provider vouched for
it (Clerk, today) is the identity domain's business, not the platform's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """A member's role in a tenant, from most to least powerful."""

    OWNER = "owner"
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        """Higher ranks may do everything lower ranks may."""
        return _RANKS[self]

    def at_least(self, minimum: Role) -> bool:
        """Whether this role satisfies an operation's minimum role."""
        return self.rank >= minimum.rank


_RANKS = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3, Role.OWNER: 4}


class AccessState(StrEnum):
    """How a signed-in user relates to a tenant."""

    TENANT_MEMBER = "tenant_member"
    SUPER_ADMIN = "super_admin"
    NO_TENANT = "no_tenant"
    NO_MEMBERSHIP = "no_membership"
    DB_UNAVAILABLE = "db_unavailable"


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified Clerk user, the tenant its organization resolves to, and its role there."""

    user_id: str
    org_id: str | None
    tenant_id: str | None
    role: Role | None
    is_super_admin: bool
    access_state: AccessState
    email: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_tenant_access(self) -> bool:
        """Whether the user may act inside `tenant_id` at all."""
        return self.tenant_id is not None and self.role is not None

    def can(self, minimum: Role) -> bool:
        """Whether the user's tenant role is at least `minimum`."""
        return self.has_tenant_access and self.role is not None and self.role.at_least(minimum)

    def may_address_tenant(self, tenant_id: str) -> bool:
        """Super-admins address any tenant; everyone else only their own."""
        return self.is_super_admin or (self.has_tenant_access and self.tenant_id == tenant_id)

    def session_view(self) -> dict[str, Any]:
        """The contract's control-plane session object (nullable fields kept as null)."""
        return {
            "userId": self.user_id,
            "orgId": self.org_id,
            "tenantId": self.tenant_id,
            "isSuperAdmin": self.is_super_admin,
            "role": self.role.value if self.role else None,
            "isOwner": self.can(Role.OWNER),
            "isAdmin": self.can(Role.ADMIN),
            "canOperate": self.can(Role.OPERATOR),
            "hasTenantAccess": self.has_tenant_access,
            "accessState": self.access_state.value,
        }
