"""Internal: orchestrator callbacks, authenticated by the shared workflow secret."""

from __future__ import annotations

import azure.functions as func

from shared.bookings import service as bookings
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.auth import WORKFLOW_SECRET
from shared.platform.http.request import Request
from shared.sessions import aggregate

bp = func.Blueprint()


@operation(
    bp,
    "api/internal/workflow/booking-lifecycle",
    methods=["POST"],
    auth=WORKFLOW_SECRET,
    body="shared.bookings.models:WorkflowBookingCallback",
)
def post_internal_booking_lifecycle(request: Request) -> dict:
    """Send a due reminder now, mark a no-show, or complete no-show recovery."""
    session_id, action = request.body.sessionId, request.body.action
    tenant_id = aggregate.locate(session_id)
    if action == "send_reminder":
        bookings.deliver_reminder(session_id, tenant_id, None, actor=bookings.ORCHESTRATOR_ACTOR)
    else:
        bookings.transition(session_id, tenant_id, action, actor=bookings.ORCHESTRATOR_ACTOR)
    return success(sessionId=session_id)
