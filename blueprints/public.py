"""Public: the trust center's service levels, aggregated across tenants and precomputed by a timer."""

from __future__ import annotations

import azure.functions as func

from shared.platform.http.adapter import operation
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request
from shared.platform.ratelimit.service import RateLimit

bp = func.Blueprint()

SLO_MAX_AGE = 300
# Generous for a page that caches for five minutes; it bounds what one client can make the store pay.
SLO_LIMIT = RateLimit(limit=60, window_seconds=60)


@operation(bp, "api/public/slos", rate_limit=SLO_LIMIT)
def get_public_s_l_os(request: Request) -> Reply:
    """Latency, success and tool-call success per public scenario; ETag and 304, cacheable for five minutes."""
    from shared.metrics import service as metrics

    return cacheable_json(request, metrics.public_slos(), max_age=SLO_MAX_AGE)
