"""Persistence of workflows (drafts and published versions) and of their executions with journaled steps."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository


class WorkflowRepository(Repository):
    """Per profile: its draft (`<profileId>:draft`) and immutable published versions (`<profileId>:v<N>`)."""

    container_name = "workflows"
    doc_type = "workflow"

    def draft(self, tenant_id: str, profile_id: str) -> Document | None:
        """Point read of a profile's draft."""
        return self.read(draft_id(profile_id), tenant_id)

    def version(self, tenant_id: str, profile_id: str, version: int) -> Document | None:
        """Point read of one published version."""
        return self.read(version_id(profile_id, version), tenant_id)


class ExecutionRepository(Repository):
    """An execution (id = executionId) and its steps (`<executionId>:<seq>`), items of one tenant's partition."""

    container_name = "workflow_executions"
    doc_type = "workflowExecution"

    def steps(self, tenant_id: str, execution_id: str) -> list[Document]:
        """An execution's journaled steps in order (one single-partition query)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.executionId = @executionId "
            "AND c.type = 'workflowStep' ORDER BY c.seq ASC",
            {"tenantId": tenant_id, "executionId": execution_id},
            tenant_id,
            limit=500,
        )


def draft_id(profile_id: str) -> str:
    """The id of a profile's draft."""
    return f"{profile_id}:draft"


def version_id(profile_id: str, version: int) -> str:
    """The id of a profile's published version N (also its `publishedWorkflowId`)."""
    return f"{profile_id}:v{version}"
