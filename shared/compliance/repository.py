"""Persistence of compliance items: partition = tenant, id = '<tenantId>:<controlId>'."""

from __future__ import annotations

from typing import Any

from shared.platform.store.repository import CrossPartitionReader, Document, Repository


def item_id(tenant_id: str, control_id: str) -> str:
    """The id of a tenant's item for one control (deterministic, so seeding is idempotent)."""
    return f"{tenant_id}:{control_id}"


class ComplianceRepository(Repository):
    """One document per (tenant, control)."""

    container_name = "compliance_items"
    doc_type = "complianceItem"

    def for_tenant(self, tenant_id: str) -> list[Document]:
        """A tenant's items by framework and control (one partition)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId ORDER BY c.id", {"tenantId": tenant_id}, tenant_id
        )

    def seed(self, tenant_id: str, docs: list[Document]) -> int:
        """Create the given items of one tenant in one transactional batch; returns how many were created.

        A concurrent seeder that created any of them first makes the batch fail whole (nothing written), and
        the caller reads again.
        """
        if not docs:
            return 0
        from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

        from shared.platform.errors import Conflict
        from shared.platform.store.repository import store_errors

        operations: list[Any] = [("create", (self._stamp(doc),)) for doc in docs]
        with store_errors():
            try:
                self.container.execute_item_batch(operations, partition_key=tenant_id)
            except CosmosBatchOperationError as exc:
                raise Conflict("compliance items were seeded concurrently") from exc
            except CosmosHttpResponseError as exc:
                if exc.status_code == 409:
                    raise Conflict("compliance items were seeded concurrently") from exc
                raise
        return len(docs)

    def page_everywhere(self, where: list[str], params: dict[str, Any], limit: int) -> list[Document]:
        """Items of every tenant by id, filtered (super-admin only)."""
        clause = " AND ".join(["c.type = 'complianceItem'", *where])
        return CrossPartitionReader(self).query(f"SELECT * FROM c WHERE {clause} ORDER BY c.id", params, limit=limit)
