"""Audit events: created once, read newest first, never replaced or deleted."""

from __future__ import annotations

from shared.platform.store.repository import CrossPartitionReader, Document, Repository

PLATFORM_PARTITION = "platform"


class AuditRepository(Repository):
    """Append-only: this class exposes no update or delete."""

    container_name = "audit"
    doc_type = "auditEvent"

    def append(self, event: Document) -> Document:
        """Store one new event."""
        return self.create(event)

    def newest_for_tenant(self, tenant_id: str, limit: int) -> list[Document]:
        """A tenant's events, newest first."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId ORDER BY c.createdAt DESC",
            {"tenantId": tenant_id},
            tenant_id,
            limit=limit,
        )

    def newest_everywhere(self, limit: int) -> list[Document]:
        """Every tenant's events, newest first (super-admins only)."""
        return CrossPartitionReader(self).query("SELECT * FROM c ORDER BY c.createdAt DESC", limit=limit)

    # The trail is immutable: the base class's write paths other than create are closed here.
    def replace(self, doc: Document) -> Document:
        raise PermissionError("audit events are immutable")

    def upsert(self, doc: Document) -> Document:
        raise PermissionError("audit events are immutable")

    def delete(self, item_id: str, partition_key: str) -> bool:
        raise PermissionError("audit events are immutable")
