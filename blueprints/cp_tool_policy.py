"""Control-plane Tool policy: global rules (super-admins) and tenant overrides."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import SUPER_ADMIN, ClerkBearer
from shared.platform.envelope import success
from shared.platform.errors import NotFound
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request
from shared.platform.principal import Role
from shared.tenants import service as tenants
from shared.toolpolicy import service as policy

bp = func.Blueprint()

TENANT_ADMIN_OR_SUPER_ADMIN = ClerkBearer(Role.ADMIN, super_admin_or=True)


def _addressed_tenant(request: Request, *, must_exist: bool) -> str:
    tenant_id = request.route["tenantId"]
    if not request.principal.may_address_tenant(tenant_id) or (must_exist and not tenants.tenant_exists(tenant_id)):
        raise NotFound("Tenant not found")
    return tenant_id


@operation(bp, "api/cp/tool-policy", auth=SUPER_ADMIN)
def cp_list_tool_policy(request: Request) -> dict:
    """Every tool's global rule."""
    return success(rules=policy.list_rules())


@operation(
    bp,
    "api/cp/tool-policy/{toolId}",
    methods=["PATCH"],
    auth=SUPER_ADMIN,
    body="shared.toolpolicy.models:ToolRulePatch",
)
def cp_update_tool_policy(request: Request) -> dict:
    """Change a tool's global access or HIPAA flag; audited."""
    rule = policy.update_rule(request.principal, request.route["toolId"], request.body, ip=request.client_ip)
    return success(rule=rule)


@operation(bp, "api/cp/tool-policy/tenants/{tenantId}/overrides", auth=TENANT_ADMIN_OR_SUPER_ADMIN)
def cp_list_tenant_tool_overrides(request: Request) -> dict:
    """One tenant's overrides: super-admins for any tenant, admins for their own."""
    return success(overrides=policy.list_overrides(_addressed_tenant(request, must_exist=False)))


@operation(
    bp,
    "api/cp/tool-policy/tenants/{tenantId}/overrides/{toolId}",
    methods=["PATCH"],
    auth=TENANT_ADMIN_OR_SUPER_ADMIN,
    body="shared.toolpolicy.models:TenantOverridePatch",
)
def cp_set_tenant_tool_override(request: Request) -> dict:
    """Enable or disable one tool for one tenant; audited. An empty patch reads the current state."""
    tenant_id = _addressed_tenant(request, must_exist=True)
    override = policy.set_override(
        request.principal, tenant_id, request.route["toolId"], request.body, ip=request.client_ip
    )
    return success(override=override)
