"""Microsoft Graph calendar client: app-only token from the Microsoft identity platform, then events.

Token: POST {authority}/{tenant}/oauth2/v2.0/token (client_credentials, scope {graph host}/.default).
Event: POST {graph}/users/{userId}/events with `transactionId` derived from the idempotency key:
Graph uses it to avoid creating the same event twice when a client retries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from shared.integrations.clients import oauth
from shared.integrations.clients.base import (
    INVALID_RESPONSE,
    CallContext,
    Outcome,
    ProviderFailure,
    join_url,
    json_object,
    key_uuid,
    send,
    with_query,
)
from shared.platform import clock
from shared.platform.errors import ValidationFailed


def _scope(graph_base: str) -> str:
    parts = urlsplit(graph_base)
    return f"{parts.scheme}://{parts.netloc}/.default"


def _headers(ctx: CallContext) -> dict[str, str]:
    config = ctx.config
    token_url = join_url(config["authorityUrl"], f"{quote(config['tenantId'], safe='')}/oauth2/v2.0/token")
    token = oauth.client_secret_token(
        ctx,
        token_url,
        client_id=config["clientId"],
        client_secret=config["clientSecret"],
        scope=_scope(config["graphBaseUrl"]),
    )
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _user_url(ctx: CallContext, tail: str) -> str:
    return join_url(ctx.config["graphBaseUrl"], f"users/{quote(ctx.config['userId'], safe='@.')}/{tail}")


def health(ctx: CallContext) -> Outcome:
    """A token, then GET /users/{id}/calendar: the app may read the owner's calendar."""
    response = send(ctx, "GET", with_query(_user_url(ctx, "calendar"), {"$select": "id,name"}), headers=_headers(ctx))
    body = json_object(ctx, response)
    if not isinstance(body.get("id"), str):
        raise ProviderFailure(INVALID_RESPONSE, f"{ctx.provider.name} returned no calendar")
    return Outcome(
        summary=f"Calendar {str(body.get('name') or '')[:60] or 'of the configured user'} is reachable",
        response_code=response.status_code,
    )


def _graph_time(value: str, name: str) -> dict[str, str]:
    try:
        moment = clock.parse_iso(value)
    except ValueError as exc:
        raise ValidationFailed(f"params.{name}: is not a valid date-time", code="invalid_params") from exc
    # Graph's dateTimeTimeZone: a local date-time plus a zone name; we always send UTC.
    return {"dateTime": clock.iso(moment).removesuffix("Z"), "timeZone": "UTC"}


def create_event(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """POST /users/{id}/events."""
    start, end = _graph_time(params["start"], "start"), _graph_time(params["end"], "end")
    if clock.parse_iso(params["end"]) <= clock.parse_iso(params["start"]):
        raise ValidationFailed("params.end: must be after start", code="invalid_params")
    event: dict[str, Any] = {
        "subject": params["subject"],
        "start": start,
        "end": end,
        "transactionId": key_uuid(ctx.idempotency_key),
    }
    if "body" in params:
        event["body"] = {"contentType": "text", "content": params["body"]}
    if "location" in params:
        event["location"] = {"displayName": params["location"]}
    if params.get("attendees"):
        event["attendees"] = [
            {
                "emailAddress": {"address": a["email"], **({"name": a["name"]} if "name" in a else {})},
                "type": "required",
            }
            for a in params["attendees"]
        ]
    response = send(ctx, "POST", _user_url(ctx, "events"), headers=_headers(ctx), json_body=event)
    body = json_object(ctx, response)
    event_id = body.get("id")
    if not isinstance(event_id, str):
        raise ProviderFailure(
            INVALID_RESPONSE, f"{ctx.provider.name} returned no event id", response_code=response.status_code
        )
    return Outcome(
        summary=f"Event created in {ctx.provider.name}",
        response_code=response.status_code,
        external_id=event_id,
        data={"id": event_id, "webLink": str(body.get("webLink") or ""), "iCalUId": str(body.get("iCalUId") or "")},
    )


ACTIONS = {"create_event": create_event}
