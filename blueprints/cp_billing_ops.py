"""Control-plane Billing Ops: each tenant's billing record and the cross-tenant view, for super-admins."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import SUPER_ADMIN
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

NEXT_PAGE_HEADER = "x-next-after"


@operation(bp, "api/cp/billing-ops", auth=SUPER_ADMIN)
def cp_list_billing_ops(request: Request) -> Reply:
    """One page of tenants by id with their records and the page's totals; `x-next-after` continues it."""
    from shared.billing import service as billing

    summary, records, next_after = billing.list_records(request.query)
    body = success(summary=summary, records=records)
    return Reply(body, headers={NEXT_PAGE_HEADER: next_after} if next_after else {})


@operation(bp, "api/cp/billing-ops/{tenantId}", auth=SUPER_ADMIN)
def cp_get_billing_record(request: Request) -> dict:
    """One tenant's billing record with this month's calls and minutes."""
    from shared.billing import service as billing

    return success(record=billing.get_record(request.route["tenantId"]))


@operation(
    bp,
    "api/cp/billing-ops/{tenantId}",
    methods=["PATCH"],
    auth=SUPER_ADMIN,
    body="shared.billing.models:BillingPatch",
)
def cp_update_billing_record(request: Request) -> dict:
    """Change plan, MRR, minutes limit, invoice status or dates (validated transitions); audited."""
    from shared.billing import service as billing

    record = billing.update_record(request.principal, request.route["tenantId"], request.body, ip=request.client_ip)
    return success(record=record)
