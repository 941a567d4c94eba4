"""Sessions CP: the exceptions desk and integration retries (the session desk's other operations join this tag).

`GET api/cp/sessions/exceptions` and `GET api/cp/sessions/exceptions/{id}` share their shape with
`api/cp/sessions/{id}` and `api/cp/sessions/{id}/cost|pdf|tool-executions`: every route of this tag
with a session id writes it as SESSION_ID, whose constraint refuses the literal `exceptions`, so no
two routes can match one path (tests/contract/test_routes.py checks it).
"""

from __future__ import annotations

import azure.functions as func

from shared.exceptions import service as exceptions
from shared.identity.auth import OPERATOR, VIEWER
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()

# The session id of every api/cp/sessions/{id}... route: anything but the literal "exceptions".
SESSION_ID = "{id:regex(^(?!exceptions$).+$)}"


@operation(bp, "api/cp/sessions/exceptions", auth=VIEWER)
def cp_list_exceptions(request: Request) -> dict:
    """The tenant's exceptions, newest first."""
    return {"success": True, "exceptions": exceptions.list_exceptions(request.principal.tenant_id)}


@operation(bp, "api/cp/sessions/exceptions/{id}", auth=VIEWER)
def cp_get_exception(request: Request) -> dict:
    """One of the tenant's exceptions."""
    return {"success": True, "exception": exceptions.get_exception(request.principal.tenant_id, request.route["id"])}


@operation(
    bp,
    "api/cp/sessions/exceptions/{id}/action",
    methods=["POST"],
    auth=OPERATOR,
    body="shared.exceptions.models:ExceptionActionBody",
)
def cp_action_exception(request: Request) -> dict:
    """Resolve or ignore an exception (the same action again changes nothing); audited."""
    exception = exceptions.act(
        request.principal, request.route["id"], request.body.action, request.body.notes, ip=request.client_ip
    )
    return {"success": True, "exception": exception}


@operation(
    bp,
    f"api/cp/sessions/{SESSION_ID}/retry-integration",
    methods=["POST"],
    auth=OPERATOR,
    body="shared.exceptions.models:RetryIntegrationBody",
)
def cp_retry_integration(request: Request) -> dict:
    """Queue one failed integration of a session for a retry with its original idempotency key."""
    from shared.integrations import deliveries

    result = deliveries.retry_one(request.principal, request.route["id"], request.body, ip=request.client_ip)
    return {"success": True, "result": result}


@operation(
    bp,
    "api/cp/sessions/retry-all-integrations",
    methods=["POST"],
    auth=OPERATOR,
    body="shared.exceptions.models:NoBody",
)
def cp_retry_all_integrations(request: Request) -> dict:
    """Queue every open, safely repeatable integration failure of the tenant (bounded per request)."""
    from shared.integrations import deliveries

    return deliveries.retry_all(request.principal, ip=request.client_ip)
