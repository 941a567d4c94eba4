"""Pilots: every Monday, last week's snapshot of each active pilot, one queue message per pilot."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job, timer_job
from shared.platform.store.registry import PILOT_SNAPSHOTS_QUEUE

bp = func.Blueprint()


@timer_job(bp, "0 0 6 * * 1")
def queue_weekly_pilot_snapshots() -> str:
    """06:00 UTC on Mondays: queue last week's snapshot of every active pilot (the timer lists across tenants)."""
    from shared.pilots import weekly

    return f"{weekly.queue_last_week()} pilot snapshot(s) queued"


@queue_job(bp, PILOT_SNAPSHOTS_QUEUE, message="shared.pilots.models:PilotSnapshotMessage")
def compute_pilot_snapshot(message) -> str:
    """Compute and store one pilot's week (idempotent), emailing the attestation link when it is due."""
    from shared.pilots import weekly

    return weekly.run_snapshot_job(message.tenantId, message.pilotId, message.weekId)
