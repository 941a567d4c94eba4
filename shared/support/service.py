"""Support tickets: tenant admins raise and read their own; super-admins see and work every tenant's.

Status moves along TRANSITIONS (open → in_progress → waiting_on_tenant → resolved, with the returns a
real desk needs); `resolvedAt` is set on resolve and cleared on reopen. Subject and description are plain
text, bounded and stored as sent (never as markup). A critical ticket — raised critical, or raised to
critical — is announced to SUPPORT_NOTIFY_EMAIL through the `emails` queue; the ticket records whether
that announcement was queued, failed or had no recipient configured.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from shared.audit import service as audit
from shared.platform import clock
from shared.platform.errors import BadRequest, NotFound, ValidationFailed
from shared.platform.ids import is_valid_id, tenant_prefix
from shared.platform.principal import Principal
from shared.platform.settings import get_settings
from shared.platform.store.repository import Document
from shared.support.repository import TicketRepository

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shared.support.models import NewTicket, TicketPatch

logger = logging.getLogger("tellgence.support")

TICKET_FIELDS = (
    "id",
    "tenantId",
    "subject",
    "description",
    "priority",
    "status",
    "submittedBy",
    "assignee",
    "createdAt",
    "updatedAt",
    "resolvedAt",
)
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "resolved"}),
    "in_progress": frozenset({"waiting_on_tenant", "resolved"}),
    "waiting_on_tenant": frozenset({"in_progress", "resolved"}),
    "resolved": frozenset({"open"}),
}
EMAIL_SUBJECT_MAX = 200
LIST_PAGE = 100
LIST_PAGE_MAX = 200

tickets = TicketRepository()


def ticket_view(doc: Document) -> dict[str, Any]:
    """The contract's ticket object."""
    return {name: doc[name] for name in TICKET_FIELDS if doc.get(name) is not None}


def check_transition(current: str, target: str) -> None:
    """Refuse a status change the desk does not allow (400 invalid_transition naming both)."""
    if current != target and target not in TRANSITIONS.get(current, frozenset()):
        raise BadRequest(f"A ticket cannot move from {current} to {target}", code="invalid_transition")


def _visible_tenant(principal: Principal, ticket_id: str) -> str:
    """The ticket's tenant when the caller may see it; 404 for malformed ids and other tenants' tickets."""
    tenant_id = tenant_prefix(ticket_id)
    if tenant_id is None or not principal.may_address_tenant(tenant_id):
        raise NotFound("Ticket not found")
    return tenant_id


def _ticket_tenant(principal: Principal, requested: str | None) -> str:
    """Where a new ticket goes: the caller's tenant, or (super-admins) the tenant they name, which must exist."""
    if requested is None or requested == principal.tenant_id:
        if principal.tenant_id is None:
            raise ValidationFailed("tenantId is required for a caller outside any tenant")
        return principal.tenant_id
    # One answer whether the tenant is someone else's or does not exist (the contract has no 404 here).
    unknown = BadRequest("tenantId does not name a tenant you can raise tickets for", code="unknown_tenant")
    if not principal.is_super_admin:
        raise unknown
    from shared.tenants import service as tenants

    if not tenants.tenant_exists(requested):
        raise unknown
    return requested


def create_ticket(principal: Principal, body: NewTicket, *, ip: str | None = None) -> dict[str, Any]:
    """Open a ticket in the caller's tenant; audited; a critical one is announced to the platform team."""
    tenant_id = _ticket_tenant(principal, body.tenantId)
    now = clock.now_iso()
    doc: Document = {
        "id": f"{tenant_id}:{uuid.uuid4().hex[:20]}",
        "tenantId": tenant_id,
        "subject": body.subject,
        "description": body.description,
        "priority": body.priority,
        "status": "open",
        "submittedBy": principal.user_id,
        "createdAt": now,
        "updatedAt": now,
    }
    if principal.email:
        doc["submitterEmail"] = principal.email
    recipient = _notify_recipient() if body.priority == "critical" else None
    if body.priority == "critical":
        doc["notification"] = {"status": "queued" if recipient else "not_configured", "at": now}
    stored = tickets.create(doc)
    audit.record(
        principal,
        "support.ticket_created",
        target_type="support_ticket",
        target_id=doc["id"],
        tenant_id=tenant_id,
        changes={"priority": {"from": None, "to": body.priority}, "status": {"from": None, "to": "open"}},
        ip=ip,
    )
    if recipient:
        stored = _announce(stored, recipient)
    return ticket_view(stored)


def get_ticket(principal: Principal, ticket_id: str) -> dict[str, Any]:
    """One ticket the caller may see."""
    tenant_id = _visible_tenant(principal, ticket_id)
    return ticket_view(tickets.get(ticket_id, tenant_id, what="Ticket"))


def list_tickets(principal: Principal, query: Mapping[str, str]) -> list[dict[str, Any]]:
    """Newest first: every tenant's (super-admins, unless they name one) or the caller's own tenant's.

    Hints: `status`, `tenantId` (super-admins; anyone else sees only their own tenant's) and `limit` (≤ 200).
    """
    from shared.platform import listquery

    limit = listquery.page_size(query, default=LIST_PAGE, maximum=LIST_PAGE_MAX)
    status = listquery.text(query, "status")
    requested = listquery.text(query, "tenantId")
    if principal.is_super_admin and requested is None:
        docs = tickets.everywhere(status, limit)
    elif principal.is_super_admin:
        docs = tickets.for_tenant(requested, status, limit) if is_valid_id(requested) else []
    else:
        # A tenant admin's list is their own tenant's, whatever else the query names.
        docs = tickets.for_tenant(principal.tenant_id, status, limit) if principal.tenant_id else []
    return [ticket_view(doc) for doc in docs]


def update_ticket(principal: Principal, ticket_id: str, patch: TicketPatch, *, ip: str | None = None) -> dict[str, Any]:
    """Assign, reprioritise or move a ticket along its statuses (ETag-safe); audited."""
    tenant_id = _visible_tenant(principal, ticket_id)
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        return get_ticket(principal, ticket_id)
    now = clock.now_iso()
    before: Document = {}

    def apply(doc: Document) -> None:
        before.clear()
        before.update(doc)
        if "status" in changes:
            check_transition(doc["status"], changes["status"])
            if changes["status"] == "resolved" and doc["status"] != "resolved":
                doc["resolvedAt"] = now
            elif changes["status"] != "resolved":
                doc.pop("resolvedAt", None)
            if changes["status"] == "in_progress" and not doc.get("assignee") and "assignee" not in changes:
                doc["assignee"] = principal.user_id
        doc.update(changes)
        doc["updatedAt"] = now

    after = tickets.update(ticket_id, tenant_id, apply, what="Ticket")
    diff = audit.diff(before, after, ["status", "priority", "assignee", "resolvedAt"])
    if diff:
        audit.record(
            principal,
            "support.ticket_updated",
            target_type="support_ticket",
            target_id=ticket_id,
            tenant_id=tenant_id,
            changes=diff,
            ip=ip,
        )
    if after.get("priority") == "critical" and before.get("priority") != "critical":
        recipient = _notify_recipient()
        if recipient:
            after = _announce(after, recipient)
        else:
            after = tickets.set_fields(ticket_id, tenant_id, {"notification": {"status": "not_configured", "at": now}})
    return ticket_view(after)


def _notify_recipient() -> str | None:
    """SUPPORT_NOTIFY_EMAIL normalized; None when unset (the ticket then records `not_configured`)."""
    from shared.email.models import InvalidAddress, normalize_address
    from shared.platform.errors import ServiceUnavailable

    address = get_settings().support_notify_email
    if not address:
        logger.warning("a critical support ticket was raised but SUPPORT_NOTIFY_EMAIL is not set")
        return None
    try:
        return normalize_address(address)
    except InvalidAddress:
        raise ServiceUnavailable(
            "SUPPORT_NOTIFY_EMAIL is not a valid email address", code="email_not_configured"
        ) from None


def critical_ticket_email(doc: Document, recipient: str) -> Any:
    """The platform team's email about a critical ticket (plain text: the ticket's words are never markup)."""
    from shared.email.models import EmailMessage, is_address

    reply_to = doc.get("submitterEmail")
    prefix = f"[critical] {doc['tenantId']}: "
    room = EMAIL_SUBJECT_MAX - len(prefix)
    subject = doc["subject"] if len(doc["subject"]) <= room else doc["subject"][: room - 1] + "…"
    text = (
        f"A critical support ticket needs the platform team.\n\n"
        f"Ticket: {doc['id']}\nTenant: {doc['tenantId']}\nSubmitted by: {doc['submittedBy']}\n"
        f"Status: {doc['status']}\nCreated: {doc['createdAt']}\n\n"
        f"Subject: {doc['subject']}\n\n{doc['description']}\n"
    )
    return EmailMessage(
        to=[recipient],
        subject=prefix + subject,
        text=text,
        reply_to=reply_to if reply_to and is_address(reply_to) else None,
        idempotency_key=f"support-critical:{doc['id']}:{doc['updatedAt']}",
        tags={"kind": "support-critical"},
    )


def _announce(doc: Document, recipient: str) -> Document:
    """Queue the critical-ticket email; a queue failure is recorded on the ticket, which stays raised."""
    from shared.email.service import enqueue_email

    try:
        enqueue_email(critical_ticket_email(doc, recipient))
        status = "queued"
    except Exception:  # the queue is down: the ticket exists, so say on it that nobody was told
        logger.exception("could not queue the critical-ticket email for %s", doc["id"])
        status = "failed"
    if (doc.get("notification") or {}).get("status") == status:
        return doc
    return tickets.set_fields(doc["id"], doc["tenantId"], {"notification": {"status": status, "at": clock.now_iso()}})
