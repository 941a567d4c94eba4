"""Control-plane Leads: the lead desk of the caller's tenant (operators read, admins write)."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import ClerkBearer
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request
from shared.platform.principal import Role

bp = func.Blueprint()

# Super-admins outside any tenant work the platform's own leads (default-practice).
LEADS_READ = ClerkBearer(Role.OPERATOR, super_admin_or=True)
LEADS_WRITE = ClerkBearer(Role.ADMIN, super_admin_or=True)
# `export.csv` is a literal segment of its own route: the lead id route must never match it.
LEAD_ROUTE = r"api/cp/leads/{leadId:regex(^(?!export\.csv$))}"


@operation(bp, "api/cp/leads", auth=LEADS_READ, query="shared.leads.models:LeadListQuery")
def cp_list_leads(request: Request) -> Reply:
    """One page of the tenant's leads, newest first; the next page's token in X-Continuation-Token."""
    from shared.leads import desk

    body, token = desk.list_leads(request.principal, request.query)
    return Reply(body, headers={desk.CONTINUATION_HEADER: token} if token else {})


@operation(bp, "api/cp/leads/export.csv", auth=LEADS_READ)
def cp_export_leads_csv(request: Request) -> Reply:
    """Every lead of the tenant as CSV (UTF-8 with BOM, formulas neutralised), read page by page."""
    from shared.leads import desk

    chunks, disposition = desk.export_csv(request.principal)
    body = bytearray()
    for chunk in chunks:
        body += chunk
    return Reply(bytes(body), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


@operation(bp, LEAD_ROUTE, auth=LEADS_READ)
def cp_get_lead(request: Request) -> dict:
    """One lead of the tenant with its notes."""
    from shared.leads import desk

    return desk.get_lead(request.principal, request.route["leadId"])


@operation(bp, LEAD_ROUTE, methods=["PATCH"], auth=LEADS_WRITE, body="shared.leads.models:LeadPatchBody")
def cp_patch_lead(request: Request) -> dict:
    """Move the lead along the pipeline (audited with actor and time)."""
    from shared.leads import desk

    return desk.move_status(request.principal, request.route["leadId"], request.body.status, ip=request.client_ip)


@operation(
    bp, LEAD_ROUTE + "/notes", methods=["POST"], auth=LEADS_WRITE, body="shared.leads.models:LeadNoteBody",
    status=201,
)  # fmt: skip
def cp_append_lead_note(request: Request) -> dict:
    """Append an internal note (author from the token) to a lead; the lead with its notes."""
    from shared.leads import desk

    return desk.append_note(request.principal, request.route["leadId"], request.body.body, ip=request.client_ip)
