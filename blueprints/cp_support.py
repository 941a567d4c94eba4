"""Control-plane Support: tenant admins raise and read their tickets; super-admins see and work all of them."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import SUPER_ADMIN, ClerkBearer
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request
from shared.platform.principal import Role

bp = func.Blueprint()

TENANT_ADMIN_OR_SUPER_ADMIN = ClerkBearer(Role.ADMIN, super_admin_or=True)


@operation(bp, "api/cp/support", auth=TENANT_ADMIN_OR_SUPER_ADMIN)
def cp_list_support_tickets(request: Request) -> dict:
    """Tickets newest first: the caller's tenant's, or every tenant's for super-admins."""
    from shared.support import service as support

    return success(tickets=support.list_tickets(request.principal, request.query))


@operation(
    bp,
    "api/cp/support",
    methods=["POST"],
    auth=TENANT_ADMIN_OR_SUPER_ADMIN,
    body="shared.support.models:NewTicket",
    status=201,
)
def cp_create_support_ticket(request: Request) -> dict:
    """Raise a ticket for the caller's tenant; a critical one is announced to the platform team."""
    from shared.support import service as support

    return success(ticket=support.create_ticket(request.principal, request.body, ip=request.client_ip))


@operation(bp, "api/cp/support/{id}", auth=TENANT_ADMIN_OR_SUPER_ADMIN)
def cp_get_support_ticket(request: Request) -> dict:
    """One ticket of the caller's tenant (any tenant's for super-admins)."""
    from shared.support import service as support

    return success(ticket=support.get_ticket(request.principal, request.route["id"]))


@operation(bp, "api/cp/support/{id}", methods=["PATCH"], auth=SUPER_ADMIN, body="shared.support.models:TicketPatch")
def cp_update_support_ticket(request: Request) -> dict:
    """Assign, reprioritise or move a ticket along its statuses; audited."""
    from shared.support import service as support

    ticket = support.update_ticket(request.principal, request.route["id"], request.body, ip=request.client_ip)
    return success(ticket=ticket)
