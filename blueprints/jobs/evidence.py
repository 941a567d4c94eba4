"""Evidence: keep each session's evidence index row up to date."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job
from shared.platform.store.registry import EVIDENCE_INDEX_QUEUE

bp = func.Blueprint()


@queue_job(bp, EVIDENCE_INDEX_QUEUE, message="shared.evidence.models:IndexMessage")
def index_session_evidence(message) -> str:
    """Recompute one session's row (queued by finalize and by each new pack); a vanished session is skipped."""
    from shared.evidence import service as evidence

    return evidence.index_session(message.tenantId, message.sessionId)
