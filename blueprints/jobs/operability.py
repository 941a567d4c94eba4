"""Operability: a timer that records readiness and poison-queue depths as metrics for the alerts in infra/."""

from __future__ import annotations

import azure.functions as func

from shared.platform import telemetry
from shared.platform.jobs import timer_job

bp = func.Blueprint()

# Every 5 minutes: the alert windows in infra/main.bicep (15 minutes) see at least two samples.
PROBE_SCHEDULE = "0 */5 * * * *"


# use_monitor=False: a missed probe is worth nothing later, so no schedule state is kept in storage.
@timer_job(bp, PROBE_SCHEDULE, use_monitor=False)
def probe_operability() -> None:
    """Record readiness per check and the depth of every poison queue."""
    from shared.health import service as health

    health.report_operability()
    # The gauges must leave before Flex Consumption stops an idle instance (the reader exports every 60 s).
    telemetry.flush()
