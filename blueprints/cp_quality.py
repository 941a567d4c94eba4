"""Control-plane Quality: scorecards of a tenant's sessions and its quality funnel (operators)."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import OPERATOR
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()


@operation(bp, "api/cp/quality", auth=OPERATOR)
def cp_list_quality_scorecards(request: Request) -> dict:
    """The tenant's stored scorecards, most recently computed first."""
    from shared.quality import service

    return service.list_scorecards(request.principal)


@operation(bp, "api/cp/quality/funnel", auth=OPERATOR)
def cp_get_quality_funnel(request: Request) -> dict:
    """The tenant's quality funnel, from its rollup counters."""
    from shared.quality import service

    return service.get_funnel(request.principal)


@operation(bp, "api/cp/quality/session/{sessionId}", auth=OPERATOR)
def cp_get_quality_scorecard(request: Request) -> dict:
    """A session's scorecard: the stored one, or evaluated and stored on the first read."""
    from shared.quality import service

    return service.get_scorecard(request.principal, request.route["sessionId"])


@operation(bp, "api/cp/quality/session/{sessionId}/recompute", methods=["POST"], auth=OPERATOR)
def cp_post_quality_recompute(request: Request) -> dict:
    """Evaluate a session again and replace its stored scorecard."""
    from shared.quality import service

    return service.recompute(request.principal, request.route["sessionId"], ip=request.client_ip)
