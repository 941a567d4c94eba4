"""Integrations: the provider catalog, practice connectors, connection and action tests, the activity log."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import ADMIN, OPERATOR
from shared.integrations import activity, connectors
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()


@operation(bp, "api/cp/integrations", auth=ADMIN)
def get_integrations(request: Request) -> dict:
    """The provider catalog and the tenant's release-safety report."""
    return connectors.integrations_overview(request.principal.tenant_id)


@operation(bp, "api/cp/integrations/practice-connectors", auth=ADMIN)
def get_practice_connector_settings(request: Request) -> dict:
    """Every connector kind of the tenant: provider, status, masked config, last test and health."""
    return connectors.practice_connectors(request.principal.tenant_id)


@operation(
    bp,
    "api/cp/integrations/practice-connectors/{kind}",
    methods=["PUT"],
    auth=ADMIN,
    body="shared.integrations.models:ConnectorBody",
)
def upsert_practice_connector(request: Request) -> dict:
    """Connect (or reconfigure) the tenant's connector of one kind; secrets sealed at rest; audited."""
    return connectors.upsert(request.principal, request.route["kind"], request.body, ip=request.client_ip)


@operation(bp, "api/cp/integrations/practice-connectors/{kind}", methods=["DELETE"], auth=ADMIN)
def delete_practice_connector(request: Request) -> dict:
    """Disconnect a connector (its secrets are erased) and say what stops working; audited."""
    return connectors.disconnect(request.principal, request.route["kind"], ip=request.client_ip)


@operation(bp, "api/cp/integrations/activity-log", auth=OPERATOR)
def get_integration_activity_log(request: Request) -> dict:
    """The tenant's most recent connector executions, newest first."""
    entries = activity.recent(request.principal.tenant_id)
    return success(entries=entries, count=len(entries))


@operation(
    bp,
    "api/cp/integrations/{id}/test",
    methods=["POST"],
    auth=ADMIN,
    body="shared.integrations.models:ConnectionTestBody",
)
def test_integration_connection(request: Request) -> dict:
    """Test a provider connection with the posted config (or the stored connector's); failures are a 200 "failed"."""
    return connectors.test_connection(request.principal, request.route["id"], request.body.root)


@operation(
    bp,
    "api/cp/integrations/{id}/actions/{actionId}/test",
    methods=["POST"],
    auth=ADMIN,
    body="shared.integrations.models:ActionTestBody",
)
def test_integration_action(request: Request) -> dict:
    """Run one provider action for real with the posted (or stored) config and params."""
    return connectors.test_action(request.principal, request.route["id"], request.route["actionId"], request.body)
