"""Persistence of quality records and funnel counters: container `quality_scores`, partition /tenantId.

qualityRecord   one per session (id = qs_<sessionId>): the scorecard once computed (the contract's fields at
                the top level, with the findings behind it), and the funnel facts the session, its scorecard
                and its evidence-index row contributed (`facts`), plus a transition still being applied
                (`pending`); ttl = the session's
qualityFunnel   one per tenant (id = funnel): the funnel counters of shared.quality.funnel and the tokens of
                the transitions they applied most recently
"""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository

RECORD = "qualityRecord"
FUNNEL = "qualityFunnel"
FUNNEL_ID = "funnel"
LIST_LIMIT = 200


class QualityRepository(Repository):
    """Quality records and the funnel counters of one tenant partition."""

    container_name = "quality_scores"
    doc_type = RECORD

    def newest_scored(self, tenant_id: str, limit: int = LIST_LIMIT) -> list[Document]:
        """The tenant's scorecards, most recently computed first (one single-partition query)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = @type AND IS_DEFINED(c.totalScore)"
            " ORDER BY c.createdAt DESC",
            {"tenantId": tenant_id, "type": RECORD},
            tenant_id,
            limit=limit,
        )
