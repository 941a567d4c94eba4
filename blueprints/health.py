"""Health: liveness and readiness probes and the full health report."""

from __future__ import annotations

import azure.functions as func

from shared.health import service as health
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()


@operation(bp, "healthz")
def get_root_liveness(request: Request) -> dict:
    """Process liveness for infrastructure probes."""
    return health.liveness()


@operation(bp, "api/health/live")
def get_liveness(request: Request) -> dict:
    """Process liveness with the deployed commit."""
    return health.liveness_with_commit()


@operation(bp, "api/health/realtime")
def get_health_realtime(request: Request) -> dict:
    """Lightweight liveness with uptime."""
    return health.realtime_liveness()


@operation(bp, "readyz")
def get_root_readiness(request: Request) -> Reply:
    """Readiness for infrastructure probes: 503 names each failing dependency."""
    body, ready = health.readiness()
    return Reply(body, status=200 if ready else 503)


@operation(bp, "api/health/ready")
def get_readiness(request: Request) -> Reply:
    """Readiness: 503 takes the instance out of rotation."""
    body, ready = health.readiness()
    return Reply(body, status=200 if ready else 503)


@operation(bp, "api/health")
def get_health(request: Request) -> Reply:
    """Full health report with services and the configuration surface."""
    body, healthy = health.health_report()
    return Reply(body, status=200 if healthy else 503)
