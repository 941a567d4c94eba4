"""Webhooks: signed callbacks from external providers."""

from __future__ import annotations

import azure.functions as func

from shared.identity import webhooks as clerk
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()


@operation(bp, "api/webhooks/clerk", methods=["POST"], raw_media_types=("application/json",))
def post_clerk_webhook(request: Request) -> Reply:
    """A Svix-signed Clerk event; replays of one delivery are accepted and applied once."""
    clerk.handle_clerk_delivery(request.raw_body, request.headers)
    return Reply(status=200)


@operation(
    bp,
    "api/webhooks/telephony-events",
    methods=["POST"],
    raw_media_types=("application/json", "application/x-www-form-urlencoded"),
)
def post_telephony_webhook(request: Request) -> dict:
    """Twilio status callbacks and ACS call events, HMAC-signed; each provider event is applied once."""
    from shared.telephony import service as telephony

    media_type = (request.header("content-type") or "application/json").split(";")[0].strip().lower()
    return telephony.receive(request.raw_body, media_type, request.header(telephony.SIGNATURE_HEADER), request.query)
