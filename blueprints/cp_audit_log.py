"""Control-plane Audit Log: the immutable trail of admin actions."""

from __future__ import annotations

import azure.functions as func

from shared.audit import service as audit
from shared.identity.auth import ClerkBearer
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request
from shared.platform.principal import Role

bp = func.Blueprint()


@operation(bp, "api/cp/audit", auth=ClerkBearer(Role.ADMIN, super_admin_or=True))
def cp_list_audit_events(request: Request) -> dict:
    """Newest events first: all tenants for super-admins, the own tenant for owners and admins."""
    return success(events=audit.list_events(request.principal))
