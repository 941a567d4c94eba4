"""Persistence of exceptions: one item per exception in `session_exceptions` (partition = tenantId)."""

from __future__ import annotations

from shared.platform.store.repository import Document, Page, Repository


class SessionExceptionRepository(Repository):
    """The desk's items; a tenant's exceptions live in one partition, so the desk never fans out."""

    container_name = "session_exceptions"
    doc_type = "sessionException"

    def newest(self, tenant_id: str, limit: int) -> list[Document]:
        """A tenant's exceptions, newest first."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId ORDER BY c.createdAt DESC",
            {"tenantId": tenant_id},
            tenant_id,
            limit=limit,
        )

    def open_deliveries(self, tenant_id: str, *, page_size: int, continuation: str | None) -> Page:
        """One page of the tenant's open exceptions that carry a failed delivery an automatic retry may repeat."""
        return self.page(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.status = 'open' AND IS_DEFINED(c.delivery) "
            "AND c.delivery.status = 'failed' AND c.delivery.errorClass != 'outcome_unknown' "
            "ORDER BY c.createdAt ASC",
            {"tenantId": tenant_id},
            tenant_id,
            page_size=page_size,
            continuation=continuation,
        )

    def for_session(self, tenant_id: str, session_id: str, limit: int = 200) -> list[Document]:
        """A session's exceptions, oldest first (one partition)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.sessionId = @sessionId ORDER BY c.createdAt ASC",
            {"tenantId": tenant_id, "sessionId": session_id},
            tenant_id,
            limit=limit,
        )

    def touching(self, tenant_id: str, start: str, end: str, *, page_size: int = 1000) -> list[Document]:
        """A tenant's exceptions opened before `end` that were open at some point after `start` (ISO instants).

        That is: still open, or resolved / ignored (`resolvedAt`, else `updatedAt`) at or after `start`. Read in
        pages of `page_size` with only the fields a window's counts need.
        """
        items: list[Document] = []
        continuation: str | None = None
        while True:
            page = self.page(
                "SELECT c.id, c.tenantId, c.status, c.createdAt, c.resolvedAt, c.updatedAt FROM c"
                " WHERE c.tenantId = @tenantId AND c.createdAt < @end"
                " AND (c.status = 'open' OR c.resolvedAt >= @start OR c.updatedAt >= @start)",
                {"tenantId": tenant_id, "start": start, "end": end},
                tenant_id,
                page_size=page_size,
                continuation=continuation,
            )
            items.extend(page.items)
            if not page.continuation:
                return items
            continuation = page.continuation
