"""Workflows: a fast-start profile's workflow graph, drafted, published as immutable versions, and triggered."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import ADMIN, OPERATOR
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()


@operation(bp, "api/cp/workflows/trigger", methods=["POST"], auth=OPERATOR, body="shared.workflows.models:TriggerBody")
def trigger_workflow(request: Request) -> dict:
    """Queue a run of a published workflow action for a profile or session; answers its executionId."""
    from shared.workflows import service as workflows

    return workflows.trigger(
        request.principal, request.body, correlation_id=request.correlation_id, ip=request.client_ip
    )


@operation(
    bp,
    "api/cp/workflows/{profileId}",
    auth=OPERATOR,
    query="shared.workflows.models:StateQuery",
)
def get_workflow_state(request: Request) -> Reply:
    """The profile's draft or published workflow (or `?version=N`); the ETag is the draft's revision."""
    from shared.workflows import service as workflows

    body, etag = workflows.workflow_state(request.principal, request.route["profileId"], request.query.version)
    return Reply(body, headers={"ETag": etag} if etag else {})


@operation(
    bp,
    "api/cp/workflows/{profileId}/draft",
    methods=["PUT"],
    auth=ADMIN,
    body="shared.workflows.models:DraftBody",
    conflicts=True,
)
def update_workflow_draft(request: Request) -> Reply:
    """Validate and save the whole draft; a stale If-Match (or revision) is a 409."""
    from shared.workflows import service as workflows

    body, etag = workflows.save_draft(
        request.principal,
        request.route["profileId"],
        request.body,
        if_match=request.header("if-match"),
        ip=request.client_ip,
    )
    return Reply(body, headers={"ETag": etag})


@operation(bp, "api/cp/workflows/{profileId}/publish", methods=["POST"], auth=ADMIN, conflicts=True)
def publish_workflow(request: Request) -> dict:
    """Publish the draft as the next immutable version; an invalid draft is a 400 naming each problem."""
    from shared.workflows import service as workflows

    return workflows.publish(request.principal, request.route["profileId"], ip=request.client_ip)
