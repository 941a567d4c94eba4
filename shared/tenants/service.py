"""The tenant directory: entries created by org sync or first activity, patched by super-admins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.audit import service as audit
from shared.platform import clock, lifecycle
from shared.platform.cache import TtlCache
from shared.platform.errors import Conflict, NotFound
from shared.platform.principal import Principal
from shared.platform.store import metering
from shared.platform.store.repository import Document
from shared.tenants.repository import TenantRepository

if TYPE_CHECKING:
    from shared.tenants.models import TenantPatch

ACTIVITY_WRITE_INTERVAL_SECONDS = 300
# The fields of the contract's tenant object, in its order.
TENANT_VIEW_FIELDS = (
    "tenantId",
    "displayName",
    "firstSeenAt",
    "lastActivityAt",
    "status",
    "plan",
    "mrr",
    "callsThisMonth",
    "minutesThisMonth",
    "location",
    "industry",
)

tenants = TenantRepository()
_activity_written = TtlCache(ACTIVITY_WRITE_INTERVAL_SECONDS)


def read_tenant(tenant_id: str) -> Document | None:
    """One tenant's stored entry, or None."""
    return tenants.read_tenant(tenant_id)


def tenant_exists(tenant_id: str) -> bool:
    """Whether the directory has this tenant (point read)."""
    return tenants.read_tenant(tenant_id) is not None


def _new_entry(tenant_id: str, *, display_name: str | None, org_id: str | None) -> Document:
    now = clock.now_iso()
    doc: Document = {
        "id": tenant_id,
        "tenantId": tenant_id,
        "displayName": display_name or tenant_id,
        "status": "active",
        "firstSeenAt": now,
        "lastActivityAt": now,
    }
    if org_id:
        doc["clerkOrgId"] = org_id
    return doc


def ensure_tenant(tenant_id: str, *, display_name: str | None = None, org_id: str | None = None) -> Document:
    """The tenant's entry, created (active, first seen now) when absent; an existing entry is never re-owned."""
    existing = tenants.read_tenant(tenant_id)
    if existing is not None:
        return existing
    try:
        return tenants.create(_new_entry(tenant_id, display_name=display_name, org_id=org_id))
    except Conflict:
        return tenants.get(tenant_id, tenant_id, what="Tenant")


def claim_tenant(tenant_id: str, *, org_id: str, display_name: str | None) -> Document | None:
    """The entry of `tenant_id` for organization `org_id`: created for it when new, or already naming it.

    None when the tenant exists without naming this organization: an organization never takes over an
    existing tenant (a creation race is settled by Cosmos: exactly one creator wins).
    """
    existing = tenants.read_tenant(tenant_id)
    if existing is None:
        try:
            return tenants.create(_new_entry(tenant_id, display_name=display_name, org_id=org_id))
        except Conflict:
            existing = tenants.read_tenant(tenant_id)
    return existing if existing is not None and existing.get("clerkOrgId") == org_id else None


def sync_from_organization(tenant_id: str, *, org_id: str, name: str | None, archived: bool = False) -> Document:
    """Apply a Clerk organization event to the tenant its organization is linked to."""
    ensure_tenant(tenant_id, display_name=name, org_id=org_id)

    def apply(doc: Document) -> None:
        if name:
            doc["displayName"] = name
        if archived:
            doc["status"] = "archived"

    return tenants.update(tenant_id, tenant_id, apply, what="Tenant")


def record_activity(tenant_id: str) -> None:
    """Move lastActivityAt forward, at most once per interval per process (it is a hint, not a log)."""
    if _activity_written.get(tenant_id):
        return
    _activity_written.put(tenant_id, True)
    with metering.amortized():
        try:
            tenants.set_fields(tenant_id, tenant_id, {"lastActivityAt": clock.now_iso()})
        except NotFound:
            ensure_tenant(tenant_id)


def tenant_view(doc: Document) -> dict[str, Any]:
    """The contract's tenant object."""
    return {name: doc[name] for name in TENANT_VIEW_FIELDS if doc.get(name) is not None}


def list_tenants() -> list[dict[str, Any]]:
    """Every tenant in the directory."""
    return [tenant_view(doc) for doc in tenants.list_all()]


def get_tenant(tenant_id: str) -> dict[str, Any]:
    """One tenant; NotFound when absent."""
    return tenant_view(tenants.get(tenant_id, tenant_id, what="Tenant"))


def update_tenant(actor: Principal, tenant_id: str, patch: TenantPatch, *, ip: str | None = None) -> dict[str, Any]:
    """Apply a validated patch and audit exactly what changed; an empty patch changes nothing."""
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        return get_tenant(tenant_id)
    before, after = tenants.update_fields(
        tenant_id, tenant_id, {**changes, "updatedAt": clock.now_iso()}, what="Tenant"
    )
    audit.record(
        actor,
        "tenant.updated",
        target_type="tenant",
        target_id=tenant_id,
        tenant_id=tenant_id,
        changes=audit.diff(before, after, list(changes)),
        ip=ip,
    )
    return tenant_view(after)


def page_entries(*, after: str | None, limit: int) -> list[Document]:
    """One page of directory entries by tenant id, after `after` (super-admin surfaces)."""
    return tenants.page_by_id(after, limit)


def mirror_billing_terms(tenant_id: str, *, plan: str, mrr: float) -> None:
    """Set the directory's plan and MRR to what billing now holds (billing audits the change; one call)."""
    tenants.set_fields(tenant_id, tenant_id, {"plan": plan, "mrr": mrr, "updatedAt": clock.now_iso()})


@lifecycle.on_reset
def clear_caches() -> None:
    """Forget the activity throttle (tests)."""
    _activity_written.clear()
