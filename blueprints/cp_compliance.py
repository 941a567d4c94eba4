"""Control-plane Compliance: control items by framework per tenant; super-admins work them, owners read their own."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import SUPER_ADMIN, ClerkBearer
from shared.platform.envelope import success
from shared.platform.errors import NotFound
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request
from shared.platform.principal import Role

bp = func.Blueprint()

TENANT_OWNER_OR_SUPER_ADMIN = ClerkBearer(Role.OWNER, super_admin_or=True)
NEXT_PAGE_HEADER = "x-next-after"


@operation(bp, "api/cp/compliance", auth=SUPER_ADMIN)
def cp_list_compliance(request: Request) -> Reply:
    """Every tenant's items, one page by id; `x-next-after` names where the next page starts."""
    from shared.compliance import service as compliance

    page, next_after = compliance.list_items(request.query)
    return Reply(success(items=page), headers={NEXT_PAGE_HEADER: next_after} if next_after else {})


@operation(bp, "api/cp/compliance/{tenantId}", auth=TENANT_OWNER_OR_SUPER_ADMIN)
def cp_get_tenant_compliance(request: Request) -> dict:
    """One tenant's items (seeded from the catalog on first read): super-admins any tenant, owners their own."""
    from shared.compliance import service as compliance

    tenant_id = request.route["tenantId"]
    if not request.principal.may_address_tenant(tenant_id):
        raise NotFound("Tenant not found")
    return success(tenantId=tenant_id, items=compliance.tenant_items(tenant_id))


@operation(
    bp,
    "api/cp/compliance/item/{id}",
    methods=["PATCH"],
    auth=SUPER_ADMIN,
    body="shared.compliance.models:ComplianceItemPatch",
)
def cp_update_compliance_item(request: Request) -> dict:
    """Attest, mark not applicable or pending, move the due date, or add notes; audited."""
    from shared.compliance import service as compliance

    item = compliance.update_item(request.principal, request.route["id"], request.body, ip=request.client_ip)
    return success(item=item)
