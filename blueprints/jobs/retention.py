"""Retention: a daily timer that redacts sessions whose consent retention has expired."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import timer_job

bp = func.Blueprint()


@timer_job(bp, "0 30 3 * * *")
def purge_expired_sessions() -> str:
    """03:30 UTC daily: redact expired session artifacts (catches up when past due)."""
    from shared.sessions import retention

    return f"{retention.purge_expired()} session(s) redacted"
