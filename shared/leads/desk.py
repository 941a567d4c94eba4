"""The control-plane lead desk: list, read, move along the pipeline, annotate and export a tenant's leads.

The tenant is the caller's (from the organization, never from the request); a super-admin who is not a
member of a tenant works the platform's own leads in `default-practice`. Every read is a single-partition
query: a lead and its notes come back from one query (they share `leadId`), a list page and its leads' notes
from two. Another tenant's lead is simply not in the partition: 404.

Status moves follow `shared.leads.status` (ETag write, retried on a lost race) and each change is recorded
twice: in the lead's `statusHistory` ({from, to, at, actor}) and as an audit event with the actor and time.
Notes are append-only items whose author comes from the token; each one is audited too.

The list pages with Cosmos continuation tokens: `limit` (1-200, default 50) and `continuationToken`; the
next page's token comes back in the `X-Continuation-Token` header (the contract's body has no place for it),
base64url-wrapped so it is one opaque, printable query value.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from shared.audit import service as audit
from shared.leads import documents, export, status
from shared.leads.models import LeadListQuery
from shared.leads.repository import LeadRepository
from shared.platform import clock, events
from shared.platform.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from shared.platform.principal import Principal
from shared.tenants.ids import DEFAULT_TENANT_ID

CONTINUATION_HEADER = "X-Continuation-Token"
EXPORT_PAGE_SIZE = 1000
MAX_STATUS_ATTEMPTS = 5
MAX_AUTHOR_NAME = 200

leads = LeadRepository()


def desk_tenant(principal: Principal) -> str:
    """The tenant whose leads the caller works: its own, or the demo tenant for a super-admin outside any."""
    if principal.has_tenant_access and principal.tenant_id:
        return principal.tenant_id
    return DEFAULT_TENANT_ID


def _wrap(token: str | None) -> str | None:
    return base64.urlsafe_b64encode(token.encode("utf-8")).decode("ascii").rstrip("=") if token else None


def _unwrap(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        raise BadRequest("continuationToken: not a token this API issued", code="invalid_continuation_token") from None


def _load(tenant_id: str, lead_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from shared.leads.ids import is_lead_id

    if not is_lead_id(lead_id):
        raise NotFound("Lead not found")
    lead, notes = leads.with_notes(tenant_id, lead_id)
    if lead is None:
        raise NotFound("Lead not found")
    return lead, notes


def list_leads(principal: Principal, query: LeadListQuery) -> tuple[dict[str, Any], str | None]:
    """One page of the tenant's leads, newest first, with the filters; and the next page's token (or None)."""
    from azure.cosmos.exceptions import CosmosHttpResponseError

    tenant_id = desk_tenant(principal)
    where: list[str] = []
    params: dict[str, Any] = {}
    if query.status:
        where.append("c.status = @status")
        params["status"] = query.status
    if query.tier:
        where.append("c.tier = @tier")
        params["tier"] = query.tier
    if query.scenarioId:
        # Any scenario the prospect tried, not only the latest demo.
        where.append("ARRAY_CONTAINS(c.scenarios, @scenarioId)")
        params["scenarioId"] = query.scenarioId
    if query.since:
        where.append("c.createdAt >= @since")
        params["since"] = query.since
    try:
        page = leads.page_of_leads(
            tenant_id, where, params, page_size=query.limit, continuation=_unwrap(query.continuationToken)
        )
    except CosmosHttpResponseError as error:
        if error.status_code == 400:
            raise BadRequest(
                "continuationToken: not a token of this query", code="invalid_continuation_token"
            ) from None
        raise
    notes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for note in leads.notes_of(tenant_id, [lead["leadId"] for lead in page.items]):
        notes[note["leadId"]].append(note)
    views = [documents.contract_view(lead, notes.get(lead["leadId"], [])) for lead in page.items]
    return {"tenantId": tenant_id, "count": len(views), "leads": views}, _wrap(page.continuation)


def get_lead(principal: Principal, lead_id: str) -> dict[str, Any]:
    """One lead of the caller's tenant with its notes; 404 for any other."""
    lead, notes = _load(desk_tenant(principal), lead_id)
    return documents.contract_view(lead, notes)


def _announce_status(
    principal: Principal, before: dict[str, Any], stored: dict[str, Any], changes: dict[str, Any], ip: str | None
) -> None:
    """Publish a lead's stored status change as `lead.stored` and audit it as `lead.status_changed`."""
    events.publish("lead.stored", before, stored)
    audit.record(
        principal,
        "lead.status_changed",
        target_type="lead",
        target_id=stored["leadId"],
        tenant_id=stored["tenantId"],
        changes=changes,
        ip=ip,
    )


def move_status(principal: Principal, lead_id: str, target: str, *, ip: str | None = None) -> dict[str, Any]:
    """Move the lead to `target` (ETag-safe), audited; asking for its current status changes nothing."""
    tenant_id = desk_tenant(principal)
    lead, notes = _load(tenant_id, lead_id)
    for _ in range(MAX_STATUS_ATTEMPTS):
        updated, change = status.apply(lead, target, actor=principal.user_id, now=clock.now_iso())
        if change is None:
            return documents.contract_view(lead, notes)
        try:
            stored = leads.replace(updated)
        except PreconditionFailed:
            lead = leads.get(lead_id, tenant_id, what="Lead")  # a submission merged meanwhile: apply to it
            continue
        _announce_status(principal, lead, stored, {"status": {"from": change.previous, "to": change.status}}, ip)
        return documents.contract_view(stored, notes)
    raise Conflict("The lead is being changed by others; try again", code="write_conflict")


def lead_status(principal: Principal, lead_id: str) -> str | None:
    """The status of a lead of the caller's tenant, or None when the tenant has no such lead (one query)."""
    from shared.leads.ids import is_lead_id

    if not is_lead_id(lead_id):
        return None
    lead, _ = leads.with_notes(desk_tenant(principal), lead_id)
    return None if lead is None else str(lead.get("status", status.INITIAL))


def advance(
    principal: Principal, lead_id: str, choose: Callable[[str], str | None], *, reason: str, ip: str | None = None
) -> str | None:
    """Move a lead forward to the status `choose(current)` names, one pipeline step at a time; the new status.

    For another domain's fact that drags a lead along (a pilot created from it moved): the lead takes every
    step between its status and the target, each one in its `statusHistory`, in one ETag write (a lost race
    re-reads and chooses again), published as `lead.stored` and audited once as `lead.status_changed` with the
    reason. `choose` returning None (or the lead's own status) leaves the lead alone; a lead that is gone is
    left alone too (None).
    """
    from shared.leads.ids import is_lead_id

    if not is_lead_id(lead_id):
        return None
    tenant_id = desk_tenant(principal)
    lead, _ = leads.with_notes(tenant_id, lead_id)
    for _ in range(MAX_STATUS_ATTEMPTS):
        if lead is None:
            return None
        current = str(lead.get("status", status.INITIAL))
        target = choose(current)
        if target is None or target == current or target not in status.PIPELINE or current not in status.PIPELINE:
            return None
        if status.PIPELINE.index(target) < status.PIPELINE.index(current):
            return None
        updated, now = lead, clock.now_iso()
        for step in status.PIPELINE[status.PIPELINE.index(current) + 1 : status.PIPELINE.index(target) + 1]:
            updated, _change = status.apply(updated, step, actor=principal.user_id, now=now)
        try:
            stored = leads.replace(updated)
        except PreconditionFailed:
            lead = leads.read(lead_id, tenant_id)
            continue
        _announce_status(
            principal,
            lead,
            stored,
            {"status": {"from": current, "to": target}, "reason": {"from": None, "to": reason}},
            ip,
        )
        return target
    raise Conflict("The lead is being changed by others; try again", code="write_conflict")


def _author_name(principal: Principal) -> str | None:
    name = principal.claims.get("name") if isinstance(principal.claims, dict) else None
    return documents.clean_line(name, MAX_AUTHOR_NAME) or (principal.email or None)


def append_note(principal: Principal, lead_id: str, body: str, *, ip: str | None = None) -> dict[str, Any]:
    """Append one note (author from the token) to a lead of the caller's tenant, audited; the lead with its notes."""
    text = documents.clean_block(body, 5_000)
    if not text:
        raise BadRequest("body.body: must not be blank", code="validation_error")
    tenant_id = desk_tenant(principal)
    lead, notes = _load(tenant_id, lead_id)
    note: dict[str, Any] = {
        "id": f"note-{uuid.uuid4().hex}",
        "leadId": lead_id,
        "tenantId": tenant_id,
        "authorUserId": principal.user_id,
        "body": text,
        "createdAt": clock.now_iso(),
    }
    if author := _author_name(principal):
        note["authorDisplayName"] = author
    stored = leads.add_note(note)
    audit.record(
        principal,
        "lead.note_added",
        target_type="lead",
        target_id=lead_id,
        tenant_id=tenant_id,
        changes={"notes": {"from": len(notes), "to": len(notes) + 1}},
        ip=ip,
    )
    return documents.contract_view(lead, [*notes, stored])


def export_csv(principal: Principal, *, page_size: int | None = None) -> tuple[Iterator[bytes], str]:
    """The CSV chunks of every lead of the caller's tenant (read page by page) and the Content-Disposition."""
    tenant_id = desk_tenant(principal)
    rows = leads.export_rows(tenant_id, page_size=page_size or EXPORT_PAGE_SIZE)
    return export.csv_chunks(rows), export.content_disposition(tenant_id)
