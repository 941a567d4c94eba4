"""Persistence of billing terms: one document per tenant (partition = tenant, id = tenantId)."""

from __future__ import annotations

from shared.platform.store.repository import CrossPartitionReader, Document, Repository


class BillingRepository(Repository):
    """A tenant's billing terms: plan, MRR, minutes limit, invoice status, trial and next billing dates."""

    container_name = "billing_accounts"
    doc_type = "billingAccount"

    def for_tenants(self, tenant_ids: list[str]) -> dict[str, Document]:
        """The stored terms of the given tenants by tenant id (one query; super-admin pages only)."""
        if not tenant_ids:
            return {}
        docs = CrossPartitionReader(self).query(
            "SELECT * FROM c WHERE ARRAY_CONTAINS(@ids, c.tenantId)", {"ids": tenant_ids}, limit=len(tenant_ids)
        )
        return {doc["tenantId"]: doc for doc in docs}
