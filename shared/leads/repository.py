"""Persistence of leads, their notes and the emails waiting to be queued.

`leads` (partition /tenantId) holds two item types: the lead (id = leadId, type `lead`) and its notes (type
`leadNote`, one item each, never a growing array). Both carry `leadId`, so one single-partition query reads a
lead with its notes. `pending_emails` (partition /tenantId) holds emails whose queueing failed, until the
re-queue timer hands them to the `emails` queue.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from typing import Any

from shared.leads.documents import DOC_TYPE
from shared.platform.store.repository import CrossPartitionReader, Document, Page, Repository

NOTE_TYPE = "leadNote"
MAX_NOTES_READ = 500

# The columns the export writes, projected so a page carries no history, timeline or status log.
EXPORT_FIELDS = (
    "leadId",
    "createdAt",
    "updatedAt",
    "status",
    "score",
    "tier",
    "scoreLabel",
    "contact",
    "attribution",
    "demo",
    "sources",
    "scenarios",
    "submissionCount",
    "lastSubmittedAt",
    "interest",
    "crm",
    "previousMidDemoLeadId",
)


class LeadRepository(Repository):
    """Leads and their note items in one tenant partition."""

    container_name = "leads"
    doc_type = DOC_TYPE

    def latest_for_email(self, tenant_id: str, email_key: str) -> Document | None:
        """The tenant's most recently submitted lead with this email key (one single-partition query)."""
        items = self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = @type AND c.emailKey = @emailKey"
            " ORDER BY c.lastSubmittedAt DESC",
            {"tenantId": tenant_id, "type": DOC_TYPE, "emailKey": email_key},
            tenant_id,
            limit=1,
        )
        return items[0] if items else None

    def with_notes(self, tenant_id: str, lead_id: str) -> tuple[Document | None, list[Document]]:
        """A lead and its notes (oldest first) from one query; (None, []) when the tenant has no such lead."""
        items = self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.leadId = @leadId AND (c.type = @lead OR c.type = @note)"
            " ORDER BY c.createdAt",
            {"tenantId": tenant_id, "leadId": lead_id, "lead": DOC_TYPE, "note": NOTE_TYPE},
            tenant_id,
            limit=MAX_NOTES_READ + 1,
        )
        lead = next((item for item in items if item.get("type") == DOC_TYPE), None)
        return lead, [item for item in items if item.get("type") == NOTE_TYPE] if lead else []

    def page_of_leads(
        self, tenant_id: str, where: list[str], params: dict[str, Any], *, page_size: int, continuation: str | None
    ) -> Page:
        """One page of the tenant's leads matching `where`, newest first."""
        clauses = " AND ".join(["c.tenantId = @tenantId", "c.type = @type", *where])
        return self.page(
            f"SELECT * FROM c WHERE {clauses} ORDER BY c.createdAt DESC",
            {**params, "tenantId": tenant_id, "type": DOC_TYPE},
            tenant_id,
            page_size=page_size,
            continuation=continuation,
        )

    def notes_of(self, tenant_id: str, lead_ids: list[str]) -> list[Document]:
        """The notes of several leads of one tenant (oldest first, at most MAX_NOTES_READ in all)."""
        if not lead_ids:
            return []
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = @note AND ARRAY_CONTAINS(@ids, c.leadId)"
            " ORDER BY c.createdAt",
            {"tenantId": tenant_id, "note": NOTE_TYPE, "ids": lead_ids},
            tenant_id,
            limit=MAX_NOTES_READ,
        )

    def add_note(self, note: Document) -> Document:
        """Append one note item (append-only: notes have no update or delete path)."""
        return self.create({**note, "type": NOTE_TYPE})

    def export_rows(self, tenant_id: str, *, page_size: int) -> Iterator[Document]:
        """Every lead of the tenant, newest first, read page by page (one page in memory at a time)."""
        projection = ", ".join(f"c.{name}" for name in EXPORT_FIELDS)
        continuation: str | None = None
        while True:
            page = self.page(
                f"SELECT {projection} FROM c WHERE c.tenantId = @tenantId AND c.type = @type ORDER BY c.createdAt DESC",
                {"tenantId": tenant_id, "type": DOC_TYPE},
                tenant_id,
                page_size=page_size,
                continuation=continuation,
            )
            yield from page.items
            if not page.continuation:
                return
            continuation = page.continuation
            # The SDK's page objects sit in reference cycles, which only the cyclic collector frees: collect
            # them now, or a large export would hold every page read until a full collection happens to run.
            del page
            gc.collect()


class PendingEmailRepository(Repository):
    """Emails that could not be queued, one item per idempotency key."""

    container_name = "pending_emails"
    doc_type = "pendingEmail"

    def oldest(self, limit: int) -> list[Document]:
        """The oldest pending emails of every tenant (the re-queue timer only)."""
        return CrossPartitionReader(self).query(
            "SELECT * FROM c WHERE c.type = @type ORDER BY c.createdAt", {"type": self.doc_type}, limit=limit
        )


def pending_email_id(idempotency_key: str) -> str:
    """The item id of a pending email: a digest of its idempotency key (ids cannot hold ':' safely everywhere)."""
    return "pe-" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:48]
