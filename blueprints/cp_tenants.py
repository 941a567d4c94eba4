"""Control-plane Tenants: the tenant directory, for platform super-admins."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import SUPER_ADMIN
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request
from shared.tenants import service as tenants

bp = func.Blueprint()


@operation(bp, "api/cp/tenants", auth=SUPER_ADMIN)
def cp_list_tenants(request: Request) -> dict:
    """Every tenant in the directory."""
    return success(tenants=tenants.list_tenants())


@operation(bp, "api/cp/tenants/{tenantId}", auth=SUPER_ADMIN)
def cp_get_tenant(request: Request) -> dict:
    """One tenant directory entry."""
    return success(tenant=tenants.get_tenant(request.route["tenantId"]))


@operation(
    bp, "api/cp/tenants/{tenantId}", methods=["PATCH"], auth=SUPER_ADMIN, body="shared.tenants.models:TenantPatch"
)
def cp_update_tenant(request: Request) -> dict:
    """Change a tenant's name, status, plan, MRR, location or industry; audited."""
    tenant = tenants.update_tenant(request.principal, request.route["tenantId"], request.body, ip=request.client_ip)
    return success(tenant=tenant)
