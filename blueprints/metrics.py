"""Metrics: the dashboard, summary, trends, scenario health, pipeline and the live session feed of a tenant.

Every figure comes from the tenant's rollup documents (one query per request, whatever the traffic); the tenant
is the caller's, from the token; operators and up.
"""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import OPERATOR
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

SSE_MEDIA_TYPE = "text/event-stream; charset=utf-8"


@operation(bp, "api/cp/metrics", auth=OPERATOR)
def get_dashboard_metrics(request: Request) -> dict:
    """Sessions and leads ever, sessions live now, the 24 h tool error rate and a health word."""
    from shared.metrics import service as metrics

    return metrics.dashboard(request.principal)


@operation(bp, "api/cp/metrics/overview", auth=OPERATOR)
def get_metrics_overview(request: Request) -> dict:
    """Headline counts since the tenant began."""
    from shared.metrics import service as metrics

    return metrics.overview(request.principal)


@operation(bp, "api/cp/metrics/summary", auth=OPERATOR)
def get_metrics_summary(request: Request) -> dict:
    """The last 24 h with deltas against the 24 h before."""
    from shared.metrics import service as metrics

    return metrics.summary(request.principal)


@operation(bp, "api/cp/metrics/trends", auth=OPERATOR, query="shared.metrics.models:TrendsQuery")
def get_metrics_trends(request: Request) -> dict:
    """Hourly (24h) or daily (7d, 30d) series of calls, latency, error rate and active scenarios."""
    from shared.metrics import service as metrics

    return metrics.trends(request.principal, request.query.window)


@operation(bp, "api/cp/metrics/scenario-health", auth=OPERATOR)
def get_scenario_health(request: Request) -> dict:
    """One health row per scenario for the last 24 h."""
    from shared.metrics import service as metrics

    return metrics.scenario_health(request.principal)


@operation(bp, "api/cp/metrics/sessions/events", auth=OPERATOR, query="shared.metrics.models:FeedQuery")
def get_session_feed_events(request: Request) -> dict | Reply:
    """Recent session events as JSON, or a finite SSE batch; `since` or Last-Event-ID resumes."""
    from shared.metrics import feed
    from shared.metrics import service as metrics

    tenant_id = request.principal.tenant_id
    cursor = feed.parse_cursor(request.header("last-event-id"), request.query.since)
    batch = metrics.feed_batch(tenant_id, cursor)
    if feed.wants_event_stream(request.header("accept")):
        body = feed.sse_batch(batch.items, resume_seq=batch.resume_seq, more=batch.more)
        # X-Accel-Buffering: a buffering proxy would otherwise hold the batch back.
        return Reply(body=body, media_type=SSE_MEDIA_TYPE, headers={"X-Accel-Buffering": "no"})
    return feed.events_response(tenant_id, batch.items)


@operation(bp, "api/cp/metrics/pipeline", auth=OPERATOR)
def get_pipeline_metrics(request: Request) -> dict:
    """Leads by status and tier, pilots by status."""
    from shared.metrics import service as metrics

    return metrics.pipeline(request.principal)


@operation(bp, "api/cp/metrics/scenarios", auth=OPERATOR)
def get_scenario_metrics(request: Request) -> dict:
    """Per-scenario sessions, outcomes and mean duration since the tenant began."""
    from shared.metrics import service as metrics

    return metrics.scenario_metrics(request.principal)
