"""The Azure Functions app: composes the blueprints of every OpenAPI tag and the background jobs."""

import azure.functions as func

from blueprints import health, meta
from shared.telemetry import configure_logging

configure_logging()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for blueprint in (health.bp, meta.bp):
    app.register_functions(blueprint)
