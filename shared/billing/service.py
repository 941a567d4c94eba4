"""Billing operations: each tenant's billing record and the cross-tenant view, for super-admins.

The record joins three sources: the tenant directory (display name; plan and MRR until billing terms
are stored), the tenant's stored billing terms (container `billing_accounts`) and this month's usage
computed from its sessions (`shared.billing.usage`). A PATCH validates the change against the current
terms (INVOICE_TRANSITIONS; a plan changes only while the invoice is current; a next billing date lies in
the future), stores it with an ETag, mirrors plan and MRR onto the directory entry and is audited.
Nothing here charges anyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.audit import service as audit
from shared.billing import usage
from shared.billing.repository import BillingRepository
from shared.platform import clock
from shared.platform.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from shared.platform.principal import Principal
from shared.platform.store.repository import Document

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shared.billing.models import BillingPatch

LIST_PAGE = 25
PLAN_MINUTES = {"starter": 500, "growth": 2500, "enterprise": 10000}
DEFAULT_PLAN = "starter"
INVOICE_TRANSITIONS: dict[str, frozenset[str]] = {
    "current": frozenset({"overdue", "payment_failed"}),
    "overdue": frozenset({"current", "payment_failed"}),
    "payment_failed": frozenset({"current"}),
}
TERMS = ("plan", "mrr", "minutesLimit", "invoiceStatus", "trialEndsAt", "nextBillingAt")
RECORD_FIELDS = (
    "tenantId",
    "displayName",
    "plan",
    "mrr",
    "callsThisMonth",
    "minutesThisMonth",
    "minutesLimit",
    "invoiceStatus",
    "trialEndsAt",
    "nextBillingAt",
    "updatedAt",
)

accounts = BillingRepository()


def default_terms(entry: Document) -> Document:
    """The terms of a tenant nobody has set billing for: the directory's plan and MRR, the plan's minutes."""
    plan = entry.get("plan") if entry.get("plan") in PLAN_MINUTES else DEFAULT_PLAN
    return {
        "plan": plan,
        "mrr": entry.get("mrr") or 0,
        "minutesLimit": PLAN_MINUTES[plan],
        "invoiceStatus": "current",
        "nextBillingAt": clock.iso(usage.next_month_start(clock.utc_now())),
        "updatedAt": entry.get("updatedAt") or entry.get("firstSeenAt") or clock.now_iso(),
    }


def record_view(entry: Document, terms: Document | None, used: dict[str, Any]) -> dict[str, Any]:
    """The contract's billing record."""
    merged = {**default_terms(entry), **{k: v for k, v in (terms or {}).items() if k in (*TERMS, "updatedAt")}}
    record = {
        **merged,
        "tenantId": entry["tenantId"],
        "displayName": entry.get("displayName") or entry["tenantId"],
        "callsThisMonth": used["calls"],
        "minutesThisMonth": used["minutes"],
    }
    return {name: record[name] for name in RECORD_FIELDS if record.get(name) is not None}


def _entry(tenant_id: str) -> Document:
    from shared.tenants import service as tenants

    entry = tenants.read_tenant(tenant_id)
    if entry is None:
        raise NotFound("Tenant not found")
    return entry


def get_record(tenant_id: str) -> dict[str, Any]:
    """One tenant's billing record (directory entry + terms + this month's usage)."""
    entry = _entry(tenant_id)
    return record_view(entry, accounts.read(tenant_id, tenant_id), usage.this_month(tenant_id))


def list_records(query: Mapping[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    """One page of tenants by id with their records, the page's totals, and the tenant id to continue after.

    The only fan-out here: one directory page, one query for the page's terms, one usage query per tenant.
    Hints: `after` (a tenant id) and `limit` (≤ 25), read by shared.platform.listquery.
    """
    from shared.platform import listquery
    from shared.tenants import service as tenants

    limit = listquery.page_size(query, default=LIST_PAGE, maximum=LIST_PAGE)
    entries = tenants.page_entries(after=listquery.text(query, "after"), limit=limit)
    terms = accounts.for_tenants([entry["tenantId"] for entry in entries])
    records = [record_view(e, terms.get(e["tenantId"]), usage.this_month(e["tenantId"])) for e in entries]
    summary = {
        "totalMrr": round(sum(float(r["mrr"]) for r in records), 2),
        "totalCallsThisMonth": sum(r["callsThisMonth"] for r in records),
        "totalMinutesThisMonth": round(sum(r["minutesThisMonth"] for r in records), 2),
        "tenantCount": len(records),
    }
    next_after = entries[-1]["tenantId"] if len(entries) == limit else None
    return summary, records, next_after


def check_change(current: Document, changes: Document) -> None:
    """Refuse an invoice status move or plan change the billing desk does not allow (400 saying why)."""
    status_before = current["invoiceStatus"]
    status_after = changes.get("invoiceStatus", status_before)
    if status_after != status_before and status_after not in INVOICE_TRANSITIONS.get(status_before, frozenset()):
        raise BadRequest(f"An invoice cannot move from {status_before} to {status_after}", code="invalid_transition")
    if changes.get("plan", current["plan"]) != current["plan"] and status_after != "current":
        raise BadRequest("The plan can change only while the invoice is current", code="invalid_transition")
    next_billing = changes.get("nextBillingAt")
    if next_billing and clock.parse_iso(next_billing) <= clock.utc_now():
        raise BadRequest("nextBillingAt must lie in the future", code="validation_error")


def update_record(actor: Principal, tenant_id: str, patch: BillingPatch, *, ip: str | None = None) -> dict[str, Any]:
    """Change a tenant's billing terms (validated, ETag-safe), mirror plan and MRR, audit; charges nobody."""
    entry = _entry(tenant_id)
    changes = patch.model_dump(exclude_unset=True)
    stored = accounts.read(tenant_id, tenant_id)
    if not changes:
        return record_view(entry, stored, usage.this_month(tenant_id))
    if "plan" in changes and "minutesLimit" not in changes:
        changes["minutesLimit"] = PLAN_MINUTES[changes["plan"]]
    before, after = _write_terms(entry, stored, changes, actor)
    if any(before.get(name) != after.get(name) for name in ("plan", "mrr")):
        from shared.tenants import service as tenants

        tenants.mirror_billing_terms(tenant_id, plan=after["plan"], mrr=after["mrr"])
    diff = audit.diff(before, after, list(TERMS))
    if diff:
        audit.record(
            actor,
            "billing.updated",
            target_type="billing_record",
            target_id=tenant_id,
            tenant_id=tenant_id,
            changes=diff,
            ip=ip,
        )
    return record_view(entry, after, usage.this_month(tenant_id))


def _write_terms(
    entry: Document, stored: Document | None, changes: Document, actor: Principal
) -> tuple[Document, Document]:
    """Create or ETag-replace the terms document, re-validating against the copy each attempt writes over."""
    tenant_id = entry["tenantId"]
    stamp = {"updatedAt": clock.now_iso(), "updatedBy": actor.user_id}
    for attempt in range(accounts.max_update_attempts):
        if stored is None:
            base = {"id": tenant_id, "tenantId": tenant_id, **default_terms(entry)}
            check_change(base, changes)
            try:
                return base, accounts.create({**base, **changes, **stamp})
            except Conflict:
                stored = accounts.get(tenant_id, tenant_id, what="Billing record")
                continue
        check_change(stored, changes)
        try:
            return stored, accounts.replace({**stored, **changes, **stamp})
        except (PreconditionFailed, NotFound):
            accounts.pause_before_retry(attempt)
            stored = accounts.read(tenant_id, tenant_id)
    raise Conflict("The billing record is being changed by others; try again", code="write_conflict")
