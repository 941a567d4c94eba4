"""Persistence of the evidence index: one row per session (id = sessionId), partitioned by tenant."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository

LIST_LIMIT = 200


class EvidenceIndexRepository(Repository):
    """Evidence index rows; only `shared.evidence` writes them."""

    container_name = "evidence_index"
    doc_type = "evidenceIndex"

    def newest_for_tenant(self, tenant_id: str, limit: int = LIST_LIMIT) -> list[Document]:
        """A tenant's rows, the most recently changed first (one partition, at most `limit`)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId ORDER BY c.updatedAt DESC",
            {"tenantId": tenant_id},
            tenant_id,
            limit=limit,
        )
