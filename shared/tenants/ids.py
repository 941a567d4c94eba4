"""Tenant ids: their format, and the tenants the platform owns that no organization may ever claim."""

from __future__ import annotations

import re

TENANT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{1,62}[a-z0-9]")
DEFAULT_TENANT_ID = "default-practice"
PLATFORM_TENANT_ID = "platform"
# Owned by the code: anonymous demos, platform-wide audit events, and names that would read as ours.
RESERVED_TENANT_IDS = frozenset(
    {DEFAULT_TENANT_ID, PLATFORM_TENANT_ID, "default", "system", "admin", "api", "internal", "public", "tellgence"}
)


def is_tenant_id(value: object) -> bool:
    """Whether `value` is a well-formed tenant id."""
    return isinstance(value, str) and TENANT_ID_PATTERN.fullmatch(value) is not None


def is_reserved(tenant_id: str) -> bool:
    """Whether the tenant belongs to the platform (never linked to an organization, never a member's)."""
    return tenant_id in RESERVED_TENANT_IDS
