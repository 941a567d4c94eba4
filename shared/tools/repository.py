"""Persistence of the tool execution journal (container `tool_executions`, partition = tenantId)."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository


class ToolExecutionRepository(Repository):
    """One item per execution (id = executionId) and per approval request (id = approvalId)."""

    container_name = "tool_executions"
    doc_type = "toolExecution"

    def for_session(self, tenant_id: str, session_id: str, limit: int = 200) -> list[Document]:
        """A session's journal items in the order they started (one partition)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.sessionId = @sessionId ORDER BY c.startedAt ASC",
            {"tenantId": tenant_id, "sessionId": session_id},
            tenant_id,
            limit=limit,
        )
