"""Compliance items: seeded per tenant from the control catalog, attested by the platform team, overdue by the clock.

Seeding is lazy and idempotent: reading a tenant's items creates the catalog controls that apply to it and
that it does not hold yet (in one transactional batch), so a new tenant gets its set on first read, a tenant
whose industry becomes healthcare gets the HIPAA set on the next read, and a new catalog version adds only
its new controls. The daily timer `seed_compliance_items` does the same for every tenant in the directory,
so the cross-tenant list is complete without anyone opening each tenant.

Stored statuses are pending, attested and not_applicable. `overdue` is never stored: an item that is
pending when its `dueAt` has passed reads as overdue, by the clock, at the moment it is read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared.audit import service as audit
from shared.compliance import catalog
from shared.compliance.repository import ComplianceRepository, item_id
from shared.platform import clock
from shared.platform.errors import Conflict, NotFound
from shared.platform.ids import tenant_prefix
from shared.platform.principal import Principal
from shared.platform.store.repository import Document

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from shared.compliance.models import ComplianceItemPatch

ITEM_FIELDS = (
    "id",
    "tenantId",
    "framework",
    "control",
    "description",
    "status",
    "attestedBy",
    "attestedAt",
    "dueAt",
    "notes",
    "updatedAt",
)
LIST_PAGE = 200
LIST_PAGE_MAX = 500
FRAMEWORK_ORDER = {name: index for index, name in enumerate(catalog.FRAMEWORKS)}

items = ComplianceRepository()


def effective_status(doc: Document, now: datetime) -> str:
    """The status as of `now`: a pending item past its due date is overdue."""
    status = doc.get("status", "pending")
    if status == "pending" and doc.get("dueAt") and clock.parse_iso(doc["dueAt"]) <= now:
        return "overdue"
    return status


def item_view(doc: Document, now: datetime) -> dict[str, Any]:
    """The contract's compliance item, with the status computed now."""
    view = {name: doc[name] for name in ITEM_FIELDS if doc.get(name) is not None}
    view["status"] = effective_status(doc, now)
    return view


def _sorted(docs: list[Document]) -> list[Document]:
    return sorted(docs, key=lambda d: (FRAMEWORK_ORDER.get(d.get("framework"), 99), d["id"]))


def new_item(tenant_id: str, control: dict[str, Any], now: datetime) -> Document:
    """A pending item for one catalog control, due `dueDays` after it is seeded."""
    stamp = clock.iso(now)
    return {
        "id": item_id(tenant_id, control["id"]),
        "tenantId": tenant_id,
        "controlId": control["id"],
        "framework": control["framework"],
        "control": control["control"],
        "description": control["description"],
        "status": "pending",
        "dueAt": clock.iso(now + timedelta(days=int(control["dueDays"]))),
        "catalogVersion": catalog.version(),
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def missing_controls(industry: object, held: list[Document]) -> list[dict[str, Any]]:
    """The applicable catalog controls a tenant does not hold yet."""
    have = {doc.get("controlId") for doc in held}
    return [control for control in catalog.applicable(industry) if control["id"] not in have]


def ensure_seeded(tenant_id: str, industry: object, held: list[Document]) -> list[Document]:
    """The tenant's items, with the missing applicable controls created first (idempotent)."""
    missing = missing_controls(industry, held)
    if not missing:
        return held
    now = clock.utc_now()
    docs = [new_item(tenant_id, control, now) for control in missing]
    try:
        items.seed(tenant_id, docs)
    except Conflict:
        return items.for_tenant(tenant_id)  # another request seeded them a moment ago
    return [*held, *docs]


def _tenant_entry(tenant_id: str) -> Document:
    from shared.tenants import service as tenants

    entry = tenants.read_tenant(tenant_id)
    if entry is None:
        raise NotFound("Tenant not found")
    return entry


def tenant_items(tenant_id: str) -> list[dict[str, Any]]:
    """A tenant's items by framework (seeding what is missing); NotFound for a tenant not in the directory."""
    entry = _tenant_entry(tenant_id)
    docs = ensure_seeded(tenant_id, entry.get("industry"), items.for_tenant(tenant_id))
    now = clock.utc_now()
    return [item_view(doc, now) for doc in _sorted(docs)]


def seed_all(limit: int = 5000) -> int:
    """Seed every tenant in the directory (the daily timer); returns how many items were created."""
    from shared.tenants.repository import TenantRepository

    created = 0
    for entry in TenantRepository().list_all(limit=limit):
        held = items.for_tenant(entry["tenantId"])
        created += len(ensure_seeded(entry["tenantId"], entry.get("industry"), held)) - len(held)
    return created


def list_items(query: Mapping[str, str]) -> tuple[list[dict[str, Any]], str | None]:
    """One page of every tenant's items by id, filtered; and the id to continue after (None at the end).

    Hints: `framework`, `status` (overdue and pending by the clock), `tenantId`, `after` (an item id) and
    `limit` (≤ 500), read by shared.platform.listquery.
    """
    from shared.platform import listquery

    now = clock.utc_now()
    limit = listquery.page_size(query, default=LIST_PAGE, maximum=LIST_PAGE_MAX)
    where: list[str] = []
    params: dict[str, Any] = {}
    for name in ("framework", "tenantId"):
        value = listquery.text(query, name)
        if value is not None:
            where.append(f"c.{name} = @{name}")
            params[name] = value
    after = listquery.text(query, "after")
    if after is not None:
        where.append("c.id > @after")
        params["after"] = after
    status = listquery.text(query, "status")
    if status in ("pending", "overdue"):
        where.append("c.status = 'pending'")
        where.append("c.dueAt <= @now" if status == "overdue" else "c.dueAt > @now")
        params["now"] = clock.iso(now)
    elif status is not None:
        where.append("c.status = @status")
        params["status"] = status
    docs = items.page_everywhere(where, params, limit)
    next_after = docs[-1]["id"] if len(docs) == limit else None
    return [item_view(doc, now) for doc in docs], next_after


def update_item(actor: Principal, compliance_id: str, patch: ComplianceItemPatch, *, ip: str | None = None) -> dict:
    """Attest, mark not applicable or pending, move the due date or note; ETag-safe and audited."""
    tenant_id = tenant_prefix(compliance_id)
    if tenant_id is None:
        raise NotFound("Compliance item not found")
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        return item_view(items.get(compliance_id, tenant_id, what="Compliance item"), clock.utc_now())
    now = clock.now_iso()
    before: Document = {}

    def apply(doc: Document) -> None:
        before.clear()
        before.update(doc)
        doc.update(changes)
        if changes.get("status") == "attested":
            # Attesting again re-records who and when: the latest attestation is the one that counts.
            doc["attestedBy"] = actor.user_id
            doc["attestedAt"] = now
        elif "status" in changes:
            doc.pop("attestedBy", None)
            doc.pop("attestedAt", None)
        doc["updatedAt"] = now
        doc["updatedBy"] = actor.user_id

    after = items.update(compliance_id, tenant_id, apply, what="Compliance item")
    audit.record(
        actor,
        "compliance.item_updated",
        target_type="compliance_item",
        target_id=compliance_id,
        tenant_id=tenant_id,
        changes=audit.diff(before, after, ["status", "attestedBy", "attestedAt", "dueAt", "notes"]),
        ip=ip,
    )
    return item_view(after, clock.utc_now())
