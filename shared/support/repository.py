"""Persistence of support tickets: partition = tenant, id = '<tenantId>:<ticket>' so any reader finds its partition."""

from __future__ import annotations

from shared.platform.store.repository import CrossPartitionReader, Document, Repository


class TicketRepository(Repository):
    """Support tickets, one document each."""

    container_name = "support_tickets"
    doc_type = "supportTicket"

    def for_tenant(self, tenant_id: str, status: str | None, limit: int) -> list[Document]:
        """A tenant's tickets, newest first (one partition)."""
        where = " AND c.status = @status" if status else ""
        params = {"tenantId": tenant_id, **({"status": status} if status else {})}
        return self.query(
            f"SELECT * FROM c WHERE c.tenantId = @tenantId{where} ORDER BY c.createdAt DESC",
            params,
            tenant_id,
            limit=limit,
        )

    def everywhere(self, status: str | None, limit: int) -> list[Document]:
        """Every tenant's tickets, newest first (super-admin only)."""
        where = " AND c.status = @status" if status else ""
        return CrossPartitionReader(self).query(
            f"SELECT * FROM c WHERE c.type = 'supportTicket'{where} ORDER BY c.createdAt DESC",
            {"status": status} if status else None,
            limit=limit,
        )
