"""The Azure Functions app: composes the blueprints of every OpenAPI tag and the background jobs."""

import azure.functions as func

import blueprints
from shared import subscriptions
from shared.platform import telemetry

telemetry.configure()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

for module in blueprints.modules():
    app.register_functions(module.bp)

subscriptions.connect()
