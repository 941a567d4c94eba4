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
