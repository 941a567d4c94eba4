"""Persistence of integrations: practice connectors, the activity log and the demo providers' records."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository


class PracticeConnectorRepository(Repository):
    """One connector document per kind (ehr, calendar, webhook, erp, telephony) and tenant (id = kind)."""

    container_name = "practice_connectors"
    doc_type = "practiceConnector"

    def connector(self, tenant_id: str, kind: str) -> Document | None:
        """Point read of a tenant's connector of one kind."""
        return self.read(kind, tenant_id)

    def for_tenant(self, tenant_id: str) -> dict[str, Document]:
        """Every connector of a tenant by kind (one single-partition query; at most one per kind)."""
        docs = self.query("SELECT * FROM c WHERE c.tenantId = @tenantId", {"tenantId": tenant_id}, tenant_id, limit=20)
        return {doc["id"]: doc for doc in docs}


class ActivityRepository(Repository):
    """Append-only: one item per connector execution; the container's TTL bounds retention."""

    container_name = "integration_activity"
    doc_type = "integrationActivity"

    def newest(self, tenant_id: str, limit: int) -> list[Document]:
        """A tenant's most recent executions, newest first."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId ORDER BY c.timestamp DESC",
            {"tenantId": tenant_id},
            tenant_id,
            limit=limit,
        )


class DemoRecordRepository(Repository):
    """What demo-tier providers did: one record per provider and idempotency key."""

    container_name = "demo_records"
    doc_type = "demoRecord"

    def for_session(self, tenant_id: str, session_id: str, limit: int) -> list[Document]:
        """The records a session's calls produced, oldest first."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.sessionId = @sessionId ORDER BY c.recordedAt ASC",
            {"tenantId": tenant_id, "sessionId": session_id},
            tenant_id,
            limit=limit,
        )

    def of_actions(self, tenant_id: str, provider_id: str, action_ids: list[str], limit: int) -> list[Document]:
        """A tenant's newest records of some actions of one provider (one partition)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.providerId = @providerId "
            "AND ARRAY_CONTAINS(@actionIds, c.actionId) ORDER BY c.recordedAt DESC",
            {"tenantId": tenant_id, "providerId": provider_id, "actionIds": action_ids},
            tenant_id,
            limit=limit,
        )
