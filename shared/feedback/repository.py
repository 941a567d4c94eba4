"""Persistence of feedback items (container `feedback`, partition /tenantId, id = FB- id)."""

from __future__ import annotations

from shared.platform.store.repository import Repository


class FeedbackRepository(Repository):
    """One item per feedback submission; never updated."""

    container_name = "feedback"
    doc_type = "feedback"
