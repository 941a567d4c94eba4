"""The Azure Functions app: composes the blueprints of every OpenAPI tag and the background jobs."""

import azure.functions as func

from blueprints import cp_audit_log, cp_auth, cp_tenants, health, meta, webhooks
from shared.telemetry import configure_logging

configure_logging()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for blueprint in (health.bp, meta.bp, webhooks.bp, cp_auth.bp, cp_tenants.bp, cp_audit_log.bp):
    app.register_functions(blueprint)
