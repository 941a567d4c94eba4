"""Retention: a daily timer that redacts sessions whose consent retention has expired."""

from __future__ import annotations

import azure.functions as func

from shared.platform import telemetry
from shared.sessions import retention

bp = func.Blueprint()


@bp.timer_trigger(arg_name="timer", schedule="0 30 3 * * *", run_on_startup=False, use_monitor=True)
@telemetry.traced_job
def purge_expired_sessions(timer: func.TimerRequest) -> None:
    """03:30 UTC daily: redact expired session artifacts (catches up when past due)."""
    retention.purge_expired()
