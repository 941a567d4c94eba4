"""Our signed webhook: a JSON POST with X-Tellgence-Timestamp, X-Tellgence-Signature (HMAC-SHA256 over
"<timestamp>.<body>") and Idempotency-Key; receivers verify the signature and deduplicate on the key."""

from __future__ import annotations

import json
import secrets
from typing import Any

from shared.integrations.clients.base import CallContext, Outcome, key_uuid, send
from shared.platform import clock
from shared.platform.outbound import signed_headers


def _post(ctx: CallContext, envelope: dict[str, Any], idempotency_key: str) -> Outcome:
    body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    headers = signed_headers(ctx.config["signingSecret"], body, idempotency_key)
    response = send(ctx, "POST", ctx.config["url"], headers=headers, content=body)
    return Outcome(
        summary=f"{envelope['event']} delivered (HTTP {response.status_code})",
        response_code=response.status_code,
        external_id=envelope["id"],
        data={"id": envelope["id"], "event": envelope["event"]},
    )


def health(ctx: CallContext) -> Outcome:
    """A signed `connector.test` ping that the endpoint must answer with a 2xx."""
    key = f"connector-test:{secrets.token_hex(8)}"
    envelope = {"id": key_uuid(key), "event": "connector.test", "occurredAt": clock.now_iso(), "data": {}}
    return _post(ctx, envelope, key)


def send_event(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """Deliver one event; its id is derived from the idempotency key, so a retry carries the same id."""
    envelope = {
        "id": key_uuid(ctx.idempotency_key),
        "event": params["event"],
        "occurredAt": clock.iso(ctx.first_sent_at),
        "data": params["data"],
    }
    return _post(ctx, envelope, ctx.idempotency_key)


ACTIONS = {"send_event": send_event}
