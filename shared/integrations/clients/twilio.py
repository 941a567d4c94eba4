"""Twilio Programmable Voice: POST /2010-04-01/Accounts/{AccountSid}/Calls.json, form-encoded, basic auth.

Twilio's Calls API takes no idempotency key, and Twilio documents that retrying a call-creating
POST after a 5xx may place a second call. So a call is retried automatically only when it certainly
did not reach Twilio (connection refused, 429); a timeout or 5xx is `outcome_unknown` for an operator.
The delivery's idempotency key and session ride in the StatusCallback URL, so the status events
Twilio posts back name the delivery they belong to.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.integrations.clients.base import (
    INVALID_RESPONSE,
    REJECTED,
    CallContext,
    Outcome,
    ProviderFailure,
    join_url,
    json_object,
    send,
    status_callback,
    with_query,
)

API_VERSION = "2010-04-01"
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


def _account_url(ctx: CallContext, tail: str = "") -> str:
    sid = quote(ctx.config["accountSid"], safe="")
    path = f"{API_VERSION}/Accounts/{sid}{tail}.json" if not tail else f"{API_VERSION}/Accounts/{sid}/{tail}.json"
    return join_url(ctx.config["apiBaseUrl"], path)


def _auth(ctx: CallContext) -> tuple[str, str]:
    return ctx.config["accountSid"], ctx.config["authToken"]


def _owns_number(ctx: CallContext, resource: str, key: str) -> bool:
    url = with_query(_account_url(ctx, resource), {"PhoneNumber": ctx.config["fromNumber"]})
    body = json_object(ctx, send(ctx, "GET", url, auth=_auth(ctx)))
    return bool(body.get(key))


def health(ctx: CallContext) -> Outcome:
    """The account must be active and the caller number one of its numbers or verified caller ids."""
    response = send(ctx, "GET", _account_url(ctx), auth=_auth(ctx))
    status = json_object(ctx, response).get("status")
    if status != "active":
        raise ProviderFailure(REJECTED, f"Twilio account is {status or 'in an unknown state'}, not active")
    if not (
        _owns_number(ctx, "IncomingPhoneNumbers", "incoming_phone_numbers")
        or _owns_number(ctx, "OutgoingCallerIds", "outgoing_caller_ids")
    ):
        raise ProviderFailure(
            REJECTED, "The caller number is neither a number of this Twilio account nor a verified caller id"
        )
    return Outcome(summary="Twilio account active; caller number verified", response_code=response.status_code)


def place_call(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """Create an outbound call; returns the CallSid."""
    config = ctx.config
    form: list[tuple[str, str]] = [("To", params["to"]), ("From", config["fromNumber"])]
    if config.get("applicationSid"):
        form.append(("ApplicationSid", config["applicationSid"]))
    else:
        form.append(("Url", config["voiceUrl"]))
    if config.get("statusCallbackUrl"):
        callback = status_callback(ctx, config["statusCallbackUrl"], params)
        form += [("StatusCallback", callback), ("StatusCallbackMethod", "POST")]
        form += [("StatusCallbackEvent", event) for event in STATUS_EVENTS]
    response = send(ctx, "POST", _account_url(ctx, "Calls"), idempotent=False, form=form, auth=_auth(ctx))
    body = json_object(ctx, response)
    sid = body.get("sid")
    if not isinstance(sid, str):
        raise ProviderFailure(INVALID_RESPONSE, "Twilio returned no call sid", response_code=response.status_code)
    return Outcome(
        summary=f"Call {sid} {body.get('status') or 'queued'}",
        response_code=response.status_code,
        external_id=sid,
        data={"callSid": sid, "status": str(body.get("status") or "")},
    )


ACTIONS = {"place_call": place_call}
