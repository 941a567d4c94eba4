"""Quality: fold each finalized session's facts, and its evidence row's, into its tenant's funnel counters."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job
from shared.platform.store.registry import QUALITY_FACTS_QUEUE

bp = func.Blueprint()


@queue_job(bp, QUALITY_FACTS_QUEUE, message="shared.quality.models:QualityFactsMessage")
def apply_quality_facts(message) -> str:
    """Apply one session's current facts of one source (idempotent); a vanished session or row is skipped."""
    from shared.quality import service

    return service.apply_source_facts(message.tenantId, message.sessionId, message.source)
