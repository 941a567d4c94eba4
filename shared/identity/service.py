"""Who the caller is: tokens to principals, the tenant directory, and Clerk directory sync."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from shared.identity.repository import MembershipRepository, OrgLinkRepository, UserRepository
from shared.identity.roles import role_from_clerk
from shared.identity.tokens import org_claims
from shared.platform import clock, lifecycle
from shared.platform.cache import TtlCache
from shared.platform.errors import Conflict, Forbidden, ServiceUnavailable
from shared.platform.principal import AccessState, Principal, Role
from shared.platform.settings import get_settings
from shared.platform.store import metering
from shared.platform.store.repository import Document
from shared.tenants import service as tenants
from shared.tenants.ids import is_reserved, is_tenant_id

ORG_LINK_CACHE_SECONDS = 300
MEMBERSHIP_CACHE_SECONDS = 15

org_links = OrgLinkRepository()
users = UserRepository()
memberships = MembershipRepository()


_org_tenants = TtlCache(ORG_LINK_CACHE_SECONDS)
_memberships = TtlCache(MEMBERSHIP_CACHE_SECONDS)


@lifecycle.on_reset
def clear_caches() -> None:
    """Forget every cached link and membership (tests, and after directory changes)."""
    for cache in (_org_tenants, _memberships):
        cache.clear()


def resolve_principal(claims: dict[str, Any]) -> Principal:
    """The principal of verified token claims; the tenant comes from the organization, never the request."""
    user_id = str(claims["sub"])
    is_super_admin = user_id in get_settings().super_admin_user_ids
    org = org_claims(claims)
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    base = {
        "user_id": user_id,
        "org_id": org.org_id,
        "is_super_admin": is_super_admin,
        "email": email,
        "claims": claims,
    }
    fallback_state = AccessState.SUPER_ADMIN if is_super_admin else None
    if not org.org_id:
        return Principal(**base, tenant_id=None, role=None, access_state=fallback_state or AccessState.NO_TENANT)
    tenant_id = tenant_for_org(org.org_id, slug=org.slug)
    # A platform-owned tenant has no members: an explicit link to one (dev tokens) grants nothing.
    role = None if is_reserved(tenant_id) else _effective_role(tenant_id, user_id, role_from_clerk(org.role))
    if role is None:
        return Principal(
            **base, tenant_id=tenant_id, role=None, access_state=fallback_state or AccessState.NO_MEMBERSHIP
        )
    tenants.record_activity(tenant_id)
    return Principal(**base, tenant_id=tenant_id, role=role, access_state=AccessState.TENANT_MEMBER)


def resolve_principal_or_outage(claims: dict[str, Any]) -> Principal:
    """Like resolve_principal, but a store outage is reported in the principal, not raised."""
    try:
        return resolve_principal(claims)
    except ServiceUnavailable:
        org = org_claims(claims)
        user_id = str(claims["sub"])
        return Principal(
            user_id=user_id,
            org_id=org.org_id,
            tenant_id=None,
            role=None,
            is_super_admin=user_id in get_settings().super_admin_user_ids,
            access_state=AccessState.DB_UNAVAILABLE,
            claims=claims,
        )


def _effective_role(tenant_id: str, user_id: str, token_role: Role | None) -> Role | None:
    """The token's org role, unless the directory says the membership was removed."""
    key = (tenant_id, user_id)
    membership = _memberships.get(key)
    if membership is None:
        # Cached for MEMBERSHIP_CACHE_SECONDS: one read per member and process, not per request.
        with metering.amortized():
            membership = memberships.read(user_id, tenant_id) or {}
            if not membership and token_role is not None:
                # First activity of this member: the directory learns about it now.
                membership = _write_membership(tenant_id, user_id, status="active", source="token", role=token_role)
        _memberships.put(key, membership)
    if membership.get("status") == "removed":
        return None
    if token_role is None:
        stored = membership.get("role")
        return Role(stored) if stored in {role.value for role in Role} else None
    return token_role


def _tenant_id_candidates(org_id: str, slug: str | None) -> list[str]:
    candidates = []
    if slug and is_tenant_id(slug.lower()):
        candidates.append(slug.lower())
    sanitized = re.sub(r"[^a-z0-9_-]", "-", org_id.lower()).strip("-")
    if is_tenant_id(sanitized):
        candidates.append(sanitized)
    candidates.append("org-" + hashlib.sha256(org_id.encode()).hexdigest()[:16])
    return [candidate for candidate in dict.fromkeys(candidates) if not is_reserved(candidate)]


def tenant_for_org(org_id: str, *, slug: str | None = None, display_name: str | None = None) -> str:
    """The tenant an organization is, creating the link (and a new tenant) on first sight."""
    cached = _org_tenants.get(org_id)
    if cached:
        return cached
    # Cached for ORG_LINK_CACHE_SECONDS: these reads happen once per organization and process.
    with metering.amortized():
        tenant_id = org_links.tenant_for(org_id)
        if tenant_id is None:
            tenant_id = _link_new_org(org_id, slug, display_name)
    _org_tenants.put(org_id, tenant_id)
    return tenant_id


def _create_org_link(org_id: str, tenant_id: str) -> str:
    """Link the organization; if another writer linked it first, its tenant stands."""
    try:
        org_links.create({"id": org_id, "orgId": org_id, "tenantId": tenant_id, "createdAt": clock.now_iso()})
        return tenant_id
    except Conflict:
        return org_links.tenant_for(org_id) or tenant_id


def link_organization(org_id: str, tenant_id: str) -> str:
    """Link an organization to a tenant explicitly (dev tokens, super-admins); an existing link is kept.

    Platform-owned tenants are never linked, whoever asks.
    """
    if is_reserved(tenant_id):
        raise Forbidden(f"{tenant_id} belongs to the platform and cannot be linked to an organization")
    _org_tenants.forget(org_id)
    return _create_org_link(org_id, tenant_id)


def _link_new_org(org_id: str, slug: str | None, display_name: str | None) -> str:
    """Claim a tenant for a new organization: a brand-new tenant, or one whose entry already names this org.

    A slug that equals an existing tenant no organization owns is NOT a claim on it (that tenant may
    hold other people's data): the next candidate id is used instead.
    """
    for candidate in _tenant_id_candidates(org_id, slug):
        entry = tenants.claim_tenant(candidate, org_id=org_id, display_name=display_name or slug)
        if entry is not None:
            return _create_org_link(org_id, candidate)
    raise Conflict("No tenant id is free for this organization", code="tenant_unavailable")


def _write_membership(tenant_id: str, user_id: str, *, status: str, source: str, role: Role | None = None) -> Document:
    """Create the membership, or update it in place when it exists (ETag-safe)."""
    _memberships.forget((tenant_id, user_id))
    now = clock.now_iso()
    fields: Document = {"status": status, "updatedAt": now, "source": source}
    if role is not None:
        fields["role"] = role.value
    try:
        return memberships.create({"id": user_id, "tenantId": tenant_id, "userId": user_id, "createdAt": now, **fields})
    except Conflict:
        return memberships.update(user_id, tenant_id, lambda doc: doc.update(fields), what="Membership")


def link_member(tenant_id: str, user_id: str, role: Role, *, source: str) -> Document:
    """Grant or change a member's role (directory sync and dev tokens)."""
    return _write_membership(tenant_id, user_id, status="active", source=source, role=role)


def remove_member(tenant_id: str, user_id: str) -> None:
    """Mark a membership removed: its tokens stop granting access within seconds."""
    _write_membership(tenant_id, user_id, status="removed", source="clerk")
