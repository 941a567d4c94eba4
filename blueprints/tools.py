"""Tools: the persona's tools in the realtime function-tool format."""

from __future__ import annotations

import azure.functions as func

from shared.catalog import service as catalog
from shared.platform.http.adapter import operation
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

CATALOG_MAX_AGE = 300


@operation(bp, "api/tools")
def get_tools(request: Request) -> Reply:
    """The tools a persona may call; personaId is required."""
    body = catalog.persona_tools(request.query.get("personaId"))
    return cacheable_json(request, body, max_age=CATALOG_MAX_AGE)
