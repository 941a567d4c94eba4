"""The Azure Functions app: composes the blueprints of every OpenAPI tag and the background jobs."""

import azure.functions as func

from blueprints import (
    cp_audit_log,
    cp_auth,
    cp_channels,
    cp_scenarios,
    cp_tenants,
    cp_tool_policy,
    cp_verticals,
    health,
    meta,
    scenarios,
    session,
    tools,
    verticals,
    webhooks,
)
from shared.telemetry import configure_logging

configure_logging()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for blueprint in (
    health,
    meta,
    webhooks,
    session,
    scenarios,
    verticals,
    tools,
    cp_auth,
    cp_tenants,
    cp_audit_log,
    cp_scenarios,
    cp_verticals,
    cp_tool_policy,
    cp_channels,
):
    app.register_functions(blueprint.bp)
