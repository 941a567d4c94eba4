"""Tenant roles, their order, and how Clerk organization roles map onto them."""

from __future__ import annotations

from enum import StrEnum


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

# Clerk's built-in `org:member` is the least-privileged role; tenants grant more with custom
# roles named like ours (org:operator, org:owner).
_CLERK_ROLES = {
    "owner": Role.OWNER,
    "admin": Role.ADMIN,
    "operator": Role.OPERATOR,
    "viewer": Role.VIEWER,
    "member": Role.VIEWER,
    "basic_member": Role.VIEWER,
}


def role_from_clerk(value: str | None) -> Role | None:
    """Our role for a Clerk org role (`org:admin` in v1 claims, `admin` in v2); None if unknown."""
    if not value:
        return None
    return _CLERK_ROLES.get(value.strip().lower().removeprefix("org:"))
