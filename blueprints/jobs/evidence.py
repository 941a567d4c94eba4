"""Evidence: keep each session's evidence index row up to date; delete stored packs and PDFs past retention."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job, timer_job
from shared.platform.store.registry import EVIDENCE_INDEX_QUEUE

bp = func.Blueprint()


@queue_job(bp, EVIDENCE_INDEX_QUEUE, message="shared.evidence.models:IndexMessage")
def index_session_evidence(message) -> str:
    """Recompute one session's row (queued by finalize and by each new pack); a vanished session is skipped."""
    from shared.evidence import service as evidence

    return evidence.index_session(message.tenantId, message.sessionId)


@timer_job(bp, "0 45 3 * * *")
def purge_expired_evidence_files() -> str:
    """03:45 UTC daily: delete packs and PDFs past their session's artifact expiry (catches up when past due)."""
    from shared.evidence import storage

    return f"{storage.purge_expired()} expired evidence/PDF blob(s) deleted"
