"""Persistence of organization links, users and memberships."""

from __future__ import annotations

from shared.platform.store.repository import Repository


class OrgLinkRepository(Repository):
    """Which tenant a Clerk organization is (id = orgId)."""

    container_name = "org_links"
    doc_type = "orgLink"

    def tenant_for(self, org_id: str) -> str | None:
        """The tenant id linked to an organization, if any."""
        link = self.read(org_id, org_id)
        return link["tenantId"] if link else None


class UserRepository(Repository):
    """Clerk users synced by webhook (id = userId)."""

    container_name = "users"
    doc_type = "user"


class MembershipRepository(Repository):
    """A user's role in a tenant (partition = tenantId, id = userId)."""

    container_name = "memberships"
    doc_type = "membership"
