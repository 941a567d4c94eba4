"""Azure Communication Services Call Automation: createCall, signed with the resource's access key.

HMAC-SHA256 access-key auth as ACS documents it: headers x-ms-date (RFC 1123), x-ms-content-sha256
(base64 SHA-256 of the body, also for an empty body) and
`Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<sig>`, where
sig = base64(HMAC-SHA256(base64-decoded key, "VERB\\n<path and query>\\n<date>;<host>;<content hash>")).

Idempotency: createCall honours Repeatability-Request-ID (a UUID, here derived from the idempotency
key) with Repeatability-First-Sent (when the request was first sent): a retry is answered without a
second call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from shared.integrations.clients.base import (
    CONFIGURATION,
    INVALID_RESPONSE,
    REJECTED,
    CallContext,
    Outcome,
    ProviderFailure,
    join_url,
    json_object,
    key_uuid,
    send,
    status_callback,
    with_query,
)
from shared.platform import clock

CALL_AUTOMATION_API_VERSION = "2024-09-15"
PHONE_NUMBERS_API_VERSION = "2022-12-01"
DEFAULT_PORTS = {"https": 443, "http": 80}


def _host(url: str) -> str:
    # The Host header as httpx sends it: the port only when it is not the scheme's default.
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def _path_and_query(url: str) -> str:
    import httpx

    return httpx.URL(url).raw_path.decode("ascii")


def sign(method: str, url: str, body: bytes, access_key: str, *, date: str) -> dict[str, str]:
    """The three ACS access-key headers for one request."""
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    string_to_sign = f"{method.upper()}\n{_path_and_query(url)}\n{date};{_host(url)};{content_hash}"
    key = base64.b64decode(access_key)
    signature = base64.b64encode(hmac.new(key, string_to_sign.encode(), hashlib.sha256).digest()).decode()
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": content_hash,
        "Authorization": f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}",
    }


def _signed(
    ctx: CallContext, method: str, url: str, body: bytes, extra: dict[str, str] | None = None
) -> dict[str, str]:
    try:
        headers = sign(method, url, body, ctx.config["accessKey"], date=format_datetime(clock.utc_now(), usegmt=True))
    except (ValueError, TypeError) as exc:
        raise ProviderFailure(CONFIGURATION, "The ACS access key is not valid base64") from exc
    return {**headers, **(extra or {})}


def health(ctx: CallContext) -> Outcome:
    """GET /phoneNumbers/{caller number}: the key signs and the number can call out from this resource."""
    number = ctx.config["sourceCallerIdNumber"]
    url = with_query(
        join_url(ctx.config["endpoint"], f"phoneNumbers/{quote(number, safe='')}"),
        {"api-version": PHONE_NUMBERS_API_VERSION},
    )
    response = send(ctx, "GET", url, headers={"Accept": "application/json", **_signed(ctx, "GET", url, b"")})
    capabilities = json_object(ctx, response).get("capabilities")
    calling = capabilities.get("calling") if isinstance(capabilities, dict) else None
    if not isinstance(calling, str) or "outbound" not in calling:
        raise ProviderFailure(REJECTED, "The ACS caller number has no outbound calling capability")
    return Outcome(summary="ACS resource reachable; caller number can call out", response_code=response.status_code)


def place_call(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """POST /calling/callConnections (createCall) to one PSTN target."""
    config = ctx.config
    callback = status_callback(ctx, config["callbackUrl"], params)
    request: dict[str, Any] = {
        "targets": [{"kind": "phoneNumber", "phoneNumber": {"value": params["to"]}}],
        "sourceCallerIdNumber": {"value": config["sourceCallerIdNumber"]},
        "callbackUri": callback,
        "operationContext": params.get("sessionId") or ctx.idempotency_key,
    }
    body = json.dumps(request, separators=(",", ":")).encode()
    url = with_query(
        join_url(config["endpoint"], "calling/callConnections"), {"api-version": CALL_AUTOMATION_API_VERSION}
    )
    headers = _signed(
        ctx,
        "POST",
        url,
        body,
        {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Repeatability-Request-ID": key_uuid(ctx.idempotency_key),
            "Repeatability-First-Sent": format_datetime(ctx.first_sent_at, usegmt=True),
        },
    )
    response = send(ctx, "POST", url, headers=headers, content=body)
    answer = json_object(ctx, response)
    connection_id = answer.get("callConnectionId")
    if not isinstance(connection_id, str):
        raise ProviderFailure(INVALID_RESPONSE, "ACS returned no callConnectionId", response_code=response.status_code)
    return Outcome(
        summary=f"Call connection {connection_id} {answer.get('callConnectionState') or 'created'}",
        response_code=response.status_code,
        external_id=connection_id,
        data={
            "callConnectionId": connection_id,
            "serverCallId": str(answer.get("serverCallId") or ""),
            "state": str(answer.get("callConnectionState") or ""),
        },
    )


ACTIONS = {"place_call": place_call}
