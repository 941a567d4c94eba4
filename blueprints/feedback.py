"""Feedback: a thumbs up or down on a demo, joined to its session when the caller proves access to it."""

from __future__ import annotations

import azure.functions as func

from blueprints.leads import OPTIONAL_OPERATOR, proven_session
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request
from shared.platform.ratelimit.service import RateLimit

bp = func.Blueprint()

FEEDBACK_LIMIT = RateLimit(limit=30, window_seconds=60)


@operation(
    bp, "api/feedback", methods=["POST"], auth=OPTIONAL_OPERATOR, body="shared.feedback.models:FeedbackBody",
    status=201, rate_limit=FEEDBACK_LIMIT,
)  # fmt: skip
def submit_feedback(request: Request) -> dict:
    """Store feedback in the session's tenant (or the caller's, or the demo tenant)."""
    from shared.feedback import service
    from shared.leads.service import lead_tenant

    grant = proven_session(request, request.body.sessionId)
    return service.submit(
        request.body,
        tenant_id=lead_tenant(grant, request.principal),
        session_id=grant.session_id if grant is not None else None,
        session=grant.session if grant is not None else None,
    )
