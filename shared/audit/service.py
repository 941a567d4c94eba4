"""Recording and reading the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from shared.audit.repository import PLATFORM_PARTITION, AuditRepository
from shared.platform import clock
from shared.platform.errors import Forbidden
from shared.platform.principal import Principal, Role
from shared.platform.store.repository import Document, Repository

AUDIT_PAGE_LIMIT = 200
REDACTED = "[redacted]"
EVENT_FIELDS = (
    "id",
    "action",
    "actorId",
    "actorEmail",
    "tenantId",
    "targetId",
    "targetType",
    "changes",
    "createdAt",
    "ip",
)

events = AuditRepository()


def record(
    actor: Principal,
    action: str,
    *,
    target_type: str,
    target_id: str,
    tenant_id: str | None,
    changes: dict[str, Any] | None = None,
    ip: str | None = None,
) -> Document:
    """Append one event for a mutation the actor just made."""
    event: Document = {
        "id": uuid.uuid4().hex,
        "tenantId": tenant_id or PLATFORM_PARTITION,
        "action": action,
        "actorId": actor.user_id,
        "targetType": target_type,
        "targetId": target_id,
        "changes": changes or {},
        "createdAt": clock.now_iso(),
    }
    if actor.email:
        event["actorEmail"] = actor.email
    if ip and ip != "unknown":
        event["ip"] = ip
    return events.append(event)


def diff(before: Document, after: Document, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """{field: {"from": old, "to": new}} for each field whose value changed."""
    return {
        name: {"from": before.get(name), "to": after.get(name)}
        for name in fields
        if before.get(name) != after.get(name)
    }


def update_audited(
    repository: Repository,
    item_id: str,
    partition_key: str,
    fields: Document,
    *,
    actor: Principal,
    action: str,
    target_type: str,
    tenant_id: str | None,
    ip: str | None = None,
    redacted: tuple[str, ...] = (),
    what: str = "Resource",
    loaded: Document | None = None,
    precondition: Callable[[Document], None] | None = None,
    ignored: tuple[str, ...] = ("updatedAt",),
) -> Document:
    """Set fields on a document (ETag-safe), then record exactly what changed; returns the document as stored.

    Fields named in `redacted` (secrets) appear in the audit diff as changed, never with their values;
    fields named in `ignored` (bookkeeping such as timestamps and revisions) are left out of the diff.
    `loaded` and `precondition` are passed to `Repository.update_fields`.
    """
    before, after = repository.update_fields(
        item_id, partition_key, fields, what=what, loaded=loaded, precondition=precondition
    )
    changes = diff(before, after, [name for name in fields if name not in ignored])
    for name in redacted:
        if name in changes:
            changes[name] = {"from": REDACTED, "to": REDACTED}
    if changes:
        record(actor, action, target_type=target_type, target_id=item_id, tenant_id=tenant_id, changes=changes, ip=ip)
    return after


def list_events(principal: Principal, limit: int = AUDIT_PAGE_LIMIT) -> list[dict[str, Any]]:
    """Newest first: every tenant's for super-admins, the own tenant's for its owners and admins."""
    if principal.is_super_admin:
        docs = events.newest_everywhere(limit)
    elif principal.can(Role.ADMIN) and principal.tenant_id:
        docs = events.newest_for_tenant(principal.tenant_id, limit)
    else:
        raise Forbidden("Only tenant owners and admins may read the audit log")
    return [{name: doc[name] for name in EVENT_FIELDS if name in doc} for doc in docs]
