"""Persistence of a tenant's practice connectors (partition = tenantId, id = kind)."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository


class PracticeConnectorRepository(Repository):
    """One connector document per kind (ehr, calendar, webhook, erp, telephony) and tenant."""

    container_name = "practice_connectors"
    doc_type = "practiceConnector"

    def connector(self, tenant_id: str, kind: str) -> Document | None:
        """Point read of a tenant's connector of one kind."""
        return self.read(kind, tenant_id)
