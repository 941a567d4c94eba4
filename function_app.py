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
    internal,
    meta,
    scenarios,
    session,
    sessions,
    tools,
    verticals,
    webhooks,
)
from blueprints.jobs import bookings as jobs_bookings
from blueprints.jobs import emails as jobs_emails
from blueprints.jobs import retention as jobs_retention
from shared.telemetry import configure_logging

configure_logging()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for blueprint in (
    health,
    meta,
    webhooks,
    session,
    sessions,
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
    internal,
    jobs_bookings,
    jobs_emails,
    jobs_retention,
):
    app.register_functions(blueprint.bp)
