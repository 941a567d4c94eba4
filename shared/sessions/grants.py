"""Proving access to one session: by its key (one point read) or as an operator of its tenant."""

from __future__ import annotations

from typing import Literal

from shared.platform.errors import NotFound
from shared.platform.principal import Principal
from shared.sessions import access, aggregate
from shared.sessions.access import SessionGrant
from shared.tenants.ids import is_reserved

Reads = Literal["session", "handle"]


def by_key(session_id: str, key: str, via: str, *, reads: Reads = "session") -> SessionGrant:
    """The grant for a presented key: 404 for an unknown or expired session, 401 for a wrong key.

    The key names its tenant, so the session (or its handle, for call-state operations) is one point
    read, and that document comes back inside the grant.
    """
    tenant_id = access.tenant_in_key(key)
    if reads == "handle":
        handle = aggregate.read_handle(session_id)
        if handle["tenantId"] != tenant_id:
            raise NotFound("Session not found")
        access.verify_key(key, handle.get("keyHash"))
        return SessionGrant(session_id, tenant_id, via, handle=handle)
    session = aggregate.read_live(tenant_id, session_id)
    access.verify_key(key, session.get("keyHash"))
    return SessionGrant(session_id, tenant_id, via, session=session)


def by_principal(session_id: str, principal: Principal, *, reads: Reads = "session") -> SessionGrant:
    """The grant of an operator of the session's tenant (or a super-admin); another tenant's session is 404.

    Anonymous demo sessions live in a platform-owned tenant no organization can join, so only
    super-admins see them.
    """
    own_tenant = principal.tenant_id if principal.has_tenant_access else None
    if reads == "session" and own_tenant is not None:
        session = aggregate.sessions.read(session_id, own_tenant)
        if session is not None and not aggregate.is_expired(session):
            return SessionGrant(session_id, own_tenant, "bearer", session=session)
        if not principal.is_super_admin:
            raise NotFound("Session not found")
    handle = aggregate.read_handle(session_id)
    tenant_id = handle["tenantId"]
    allowed = principal.is_super_admin or (tenant_id == own_tenant and not is_reserved(tenant_id))
    if not allowed:
        raise NotFound("Session not found")
    return SessionGrant(session_id, tenant_id, "bearer", handle=handle if reads == "handle" else None)
