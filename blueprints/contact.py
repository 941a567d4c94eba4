"""Contact: the contact form, stored as a lead with source `contact` and notified like any lead."""

from __future__ import annotations

import azure.functions as func

from blueprints.leads import CAPTURE_LIMIT, OPTIONAL_OPERATOR, capture_message
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()


@operation(
    bp, "api/contact", methods=["POST"], auth=OPTIONAL_OPERATOR, body="shared.leads.models:ContactBody",
    rate_limit=CAPTURE_LIMIT,
)  # fmt: skip
def create_contact(request: Request) -> dict:
    """Store a contact request as a lead (merged with the address's lead of the last 24 h) and notify sales."""
    from shared.leads import service

    captured = service.capture(
        "contact",
        request.body.model_dump(exclude_none=True),
        tenant_id=service.lead_tenant(None, request.principal),
        correlation_id=request.correlation_id,
    )
    # The contract's answer has no delivery flag: a notification that waits for the queue is still sent later.
    return success(message=capture_message(captured))
