"""How Clerk organization roles map onto the platform's tenant roles."""

from __future__ import annotations

from shared.platform.principal import Role

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
