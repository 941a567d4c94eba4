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
