"""Metrics jobs: counting queued events into rollups, the public SLO snapshot, the nightly reconciliation."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job, timer_job
from shared.platform.store.registry import METRICS_EVENTS_QUEUE

bp = func.Blueprint()

# The snapshot is cached for 5 minutes by clients; 15 minutes keeps the cross-tenant read rare and the page fresh.
SLO_REFRESH_SCHEDULE = "0 */15 * * * *"
# 02:15 UTC: yesterday is over, and the retention purge (03:30) has not yet run on it.
RECONCILE_SCHEDULE = "0 15 2 * * *"


@queue_job(bp, METRICS_EVENTS_QUEUE, message="shared.metrics.models:MetricBatch")
def apply_metric_events(batch) -> str:
    """Count one `record` call's events into the tenant's rollups and append the new ones to its session feed."""
    from shared.metrics import service as metrics

    return metrics.apply(batch.events).summary()


@timer_job(bp, SLO_REFRESH_SCHEDULE)
def refresh_public_slos() -> str:
    """Recompute the public SLO snapshot from every tenant's day rollups of the last 30 days."""
    from shared.metrics import service as metrics

    snapshot = metrics.refresh_public_slos()
    return f"{len(snapshot['scenarios'])} scenario(s) at {snapshot['generatedAt']}"


@timer_job(bp, RECONCILE_SCHEDULE)
def reconcile_metrics_rollups() -> str:
    """Recount yesterday's hour and day rollups of every active tenant from its sessions; log and repair drift."""
    from datetime import timedelta

    from shared.metrics import service as metrics
    from shared.platform import clock

    return metrics.reconcile_day((clock.utc_now() - timedelta(days=1)).date()).summary()
