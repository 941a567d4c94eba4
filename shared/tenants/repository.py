"""Persistence of tenant directory entries."""

from __future__ import annotations

from shared.platform.store.repository import CrossPartitionReader, Document, Repository


class TenantRepository(Repository):
    """Tenant directory entries, one per partition (id = tenantId)."""

    container_name = "tenants"
    doc_type = "tenant"

    def read_tenant(self, tenant_id: str) -> Document | None:
        """Point read of one tenant."""
        return self.read(tenant_id, tenant_id)

    def list_all(self, limit: int = 500) -> list[Document]:
        """Every tenant, oldest first (super-admin directory only)."""
        return CrossPartitionReader(self).query(
            "SELECT * FROM c WHERE c.type = 'tenant' ORDER BY c.firstSeenAt", limit=limit
        )

    def page_by_id(self, after: str | None, limit: int) -> list[Document]:
        """Up to `limit` tenants by id, after the tenant `after` (super-admin pages only)."""
        where = " AND c.id > @after" if after else ""
        return CrossPartitionReader(self).query(
            f"SELECT * FROM c WHERE c.type = 'tenant'{where} ORDER BY c.id",
            {"after": after} if after else None,
            limit=limit,
        )
