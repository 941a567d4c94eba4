"""Control-plane Scenarios: the whole catalog, hidden and exception scenarios included."""

from __future__ import annotations

import azure.functions as func

from shared.catalog import service as catalog
from shared.identity.auth import VIEWER
from shared.platform.http.adapter import operation
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

CATALOG_MAX_AGE = 300


@operation(bp, "api/cp/scenarios", auth=VIEWER, query="shared.catalog.models:AdminScenarioQuery")
def cp_get_scenarios(request: Request) -> Reply:
    """Every scenario, optionally by industry and visibility."""
    body = catalog.list_scenarios(
        industry=request.query.industry, visibility=request.query.visibility, include_hidden=True
    )
    return cacheable_json(request, body, max_age=CATALOG_MAX_AGE, public=False)


@operation(bp, "api/cp/scenarios/{slug}", auth=VIEWER)
def cp_get_scenario_by_slug(request: Request) -> Reply:
    """One scenario, whatever its visibility."""
    body = catalog.get_scenario(request.route["slug"], include_hidden=True)
    return cacheable_json(request, body, max_age=CATALOG_MAX_AGE, public=False)
