"""Persistence of fast-start onboarding profiles (partition = tenantId, id = profileId)."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository


class OnboardingProfileRepository(Repository):
    """A tenant's fast-start profiles."""

    container_name = "onboarding_profiles"
    doc_type = "fastStartProfile"

    def read_profile(self, tenant_id: str, profile_id: str) -> Document | None:
        """Point read of one profile in its tenant."""
        return self.read(profile_id, tenant_id)

    def for_tenant(self, tenant_id: str, limit: int) -> list[Document]:
        """A tenant's profiles, newest first (one single-partition query)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = @type ORDER BY c.createdAt DESC",
            {"tenantId": tenant_id, "type": self.doc_type},
            tenant_id,
            limit=limit,
        )

    def count_for_tenant(self, tenant_id: str) -> int:
        """How many profiles a tenant has (one single-partition query)."""
        rows = self.query(
            "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = @tenantId AND c.type = @type",
            {"tenantId": tenant_id, "type": self.doc_type},
            tenant_id,
        )
        return int(rows[0]) if rows else 0
