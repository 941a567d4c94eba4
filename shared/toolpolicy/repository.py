"""Persistence of tool rules (partition `global`) and tenant overrides (partition `tenant:<id>`)."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository

GLOBAL_SCOPE = "global"


def tenant_scope(tenant_id: str) -> str:
    """The partition of one tenant's overrides."""
    return f"tenant:{tenant_id}"


class ToolPolicyRepository(Repository):
    """Global rules and per-tenant overrides, one document per tool (id = toolId)."""

    container_name = "tool_policy"
    doc_type = "toolRule"

    def rules(self) -> list[Document]:
        """Every stored global rule."""
        return self.query("SELECT * FROM c WHERE c.scope = @scope", {"scope": GLOBAL_SCOPE}, GLOBAL_SCOPE)

    def overrides(self, tenant_id: str) -> list[Document]:
        """A tenant's overrides."""
        scope = tenant_scope(tenant_id)
        return self.query("SELECT * FROM c WHERE c.scope = @scope ORDER BY c.toolId", {"scope": scope}, scope)
