"""The Tellgence ERP REST v1 shape (documented in docs/INTEGRATIONS.md): bearer API key, JSON, Idempotency-Key.

GET /v1/health; PUT /v1/customers/{externalId} (an upsert keyed on our id); POST /v1/invoices
(deduplicated by the server on Idempotency-Key: a replay answers the original invoice).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.integrations.clients.base import (
    INVALID_RESPONSE,
    CallContext,
    Outcome,
    ProviderFailure,
    join_url,
    json_object,
    send,
)


def _headers(ctx: CallContext, *, idempotent_write: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {ctx.config['apiKey']}", "Accept": "application/json"}
    if idempotent_write:
        headers["Idempotency-Key"] = ctx.idempotency_key
    return headers


def _url(ctx: CallContext, path: str) -> str:
    return join_url(ctx.config["baseUrl"], path)


def health(ctx: CallContext) -> Outcome:
    """GET /v1/health with the API key; the body must say status ok."""
    response = send(ctx, "GET", _url(ctx, "v1/health"), headers=_headers(ctx))
    if json_object(ctx, response).get("status") != "ok":
        raise ProviderFailure(INVALID_RESPONSE, "The ERP health endpoint did not report status ok")
    return Outcome(summary="ERP API reachable and the key is accepted", response_code=response.status_code)


def _written(ctx: CallContext, response: Any, what: str) -> Outcome:
    body = json_object(ctx, response)
    record_id = body.get("id")
    if not isinstance(record_id, str):
        raise ProviderFailure(INVALID_RESPONSE, f"The ERP returned no {what} id", response_code=response.status_code)
    replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
    data = {"id": record_id, "replayed": replayed}
    for key in ("number", "status"):
        if isinstance(body.get(key), str):
            data[key] = body[key]
    return Outcome(
        summary=f"{what.capitalize()} {record_id} {'already recorded' if replayed else 'saved'}",
        response_code=response.status_code,
        external_id=record_id,
        data=data,
    )


def upsert_customer(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """PUT /v1/customers/{externalId}."""
    url = _url(ctx, f"v1/customers/{quote(params['externalId'], safe='')}")
    response = send(ctx, "PUT", url, headers=_headers(ctx, idempotent_write=True), json_body=params)
    return _written(ctx, response, "customer")


def create_invoice(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """POST /v1/invoices with the delivery's Idempotency-Key."""
    response = send(
        ctx, "POST", _url(ctx, "v1/invoices"), headers=_headers(ctx, idempotent_write=True), json_body=params
    )
    return _written(ctx, response, "invoice")


ACTIONS = {"upsert_customer": upsert_customer, "create_invoice": create_invoice}
