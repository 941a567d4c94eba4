"""Sessions CP: the session desk, bookings by operators, outbound calls, the exceptions desk and integration retries.

`GET api/cp/sessions/exceptions` and `GET api/cp/sessions/exceptions/{id}` share their shape with
`api/cp/sessions/{id}` and `api/cp/sessions/{id}/cost|pdf|tool-executions`: every route of this tag
with a session id writes it as SESSION_ID, whose constraint refuses the literal `exceptions`, so no
two routes can match one path (tests/contract/test_routes.py checks it).
"""

from __future__ import annotations

import azure.functions as func

from shared.exceptions import service as exceptions
from shared.identity.auth import OPERATOR, VIEWER
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

# The session id of every api/cp/sessions/{id}... route: anything but the literal "exceptions".
SESSION_ID = "{id:regex(^(?!exceptions$).+$)}"


@operation(bp, "api/cp/sessions/exceptions", auth=VIEWER)
def cp_list_exceptions(request: Request) -> dict:
    """The tenant's exceptions, newest first."""
    return success(exceptions=exceptions.list_exceptions(request.principal.tenant_id))


@operation(bp, "api/cp/sessions/exceptions/{id}", auth=VIEWER)
def cp_get_exception(request: Request) -> dict:
    """One of the tenant's exceptions."""
    return success(exception=exceptions.get_exception(request.principal.tenant_id, request.route["id"]))


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
    return success(exception=exception)


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
    return success(result=result)


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


# --- the session desk -----------------------------------------------------------------------------------


def _desk_session(request: Request) -> dict:
    """The route's session in the caller's tenant (another tenant's, or an expired one, is a 404)."""
    from shared.sessions import aggregate

    return aggregate.read_live(request.principal.tenant_id, request.route["id"])


@operation(bp, "api/cp/sessions", auth=VIEWER, query="shared.sessions.models:DeskListQuery")
def cp_list_sessions(request: Request) -> dict:
    """The tenant's sessions, newest first, `limit` a page; `count` is the tenant's total."""
    from shared.sessions import service as sessions

    return sessions.desk_list(request.principal.tenant_id, request.query.page, request.query.limit)


@operation(bp, f"api/cp/sessions/{SESSION_ID}", auth=VIEWER)
def cp_get_session(request: Request) -> dict:
    """One session of the tenant (the public session object)."""
    from shared.sessions import service as sessions

    return success(session=sessions.session_view(_desk_session(request)))


@operation(bp, f"api/cp/sessions/{SESSION_ID}/cost", auth=VIEWER)
def cp_get_session_cost(request: Request) -> dict:
    """The session's estimated cost (the same price table as the public cost)."""
    from shared.sessions import service as sessions

    return sessions.desk_cost(_desk_session(request))


@operation(bp, f"api/cp/sessions/{SESSION_ID}/pdf", auth=OPERATOR)
def cp_get_session_pdf(request: Request) -> Reply:
    """The session summary PDF: the builder and stored file of the public GET /api/sessions/{id}/pdf."""
    from shared.evidence import service as evidence
    from shared.platform.http.caching import etag_matches
    from shared.sessions.access import SessionGrant

    doc = _desk_session(request)
    stored = evidence.session_pdf(SessionGrant(doc["id"], doc["tenantId"], "bearer", session=doc))
    headers = {"ETag": stored.etag, "Content-Disposition": f'attachment; filename="{stored.filename}"'}
    if etag_matches(request, stored.etag):
        return Reply(status=304, headers=headers)
    return Reply(body=stored.data, headers=headers, media_type=stored.media_type)


@operation(bp, f"api/cp/sessions/{SESSION_ID}/tool-executions", auth=OPERATOR)
def cp_list_session_tool_executions(request: Request) -> dict:
    """The session's tool execution journal (one partition), oldest first."""
    from shared.tools import service as tools

    doc = _desk_session(request)
    return tools.session_executions(doc["tenantId"], doc["id"])


@operation(
    bp,
    f"api/cp/sessions/{SESSION_ID}/booking-lifecycle",
    methods=["PATCH"],
    auth=OPERATOR,
    body="shared.bookings.models:OperatorLifecycleBody",
)
def cp_update_booking_lifecycle(request: Request) -> dict:
    """Move the booking to a status (the machine's action leading there), in the ledger like the public route."""
    from shared.bookings import service as bookings

    bookings.operator_transition(request.principal, request.route["id"], request.body.status, request.body.notes)
    return success()


@operation(bp, f"api/cp/sessions/{SESSION_ID}/booking-workflow/evidence", auth=VIEWER)
def cp_get_booking_workflow_evidence(request: Request) -> dict:
    """The booking's outcome, its exceptions and its ledger."""
    from shared.bookings import service as bookings

    return bookings.workflow_evidence(request.principal, request.route["id"])


@operation(
    bp,
    f"api/cp/sessions/{SESSION_ID}/booking-workflow/signal",
    methods=["POST"],
    auth=OPERATOR,
    body="shared.bookings.models:WorkflowSignalBody",
)
def cp_signal_booking_workflow(request: Request) -> dict:
    """skipReminder: withdraw the booking's pending reminder (400 when there is none), recorded in the ledger."""
    from shared.bookings import service as bookings

    return bookings.skip_reminder(request.principal, request.route["id"])


@operation(
    bp,
    "api/cp/sessions/outbound",
    methods=["POST"],
    auth=OPERATOR,
    body="shared.telephony.models:OutboundCallBody",
)
def cp_create_outbound_session(request: Request) -> dict:
    """Start an outbound call: a session, the tenant's telephony connector, an outbound_initiated event."""
    from shared.telephony import service as telephony

    return telephony.start_outbound(request.principal, request.body)
