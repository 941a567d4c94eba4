"""Scenarios: the public demo catalog (core and proof scenarios only)."""

from __future__ import annotations

import azure.functions as func

from shared.catalog import service as catalog
from shared.platform.http.adapter import operation
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

CATALOG_MAX_AGE = 300


@operation(bp, "api/scenarios", query="shared.catalog.models:PublicScenarioQuery")
def get_scenarios(request: Request) -> Reply:
    """Public scenarios, optionally by industry and visibility."""
    body = catalog.list_scenarios(
        industry=request.query.industry, visibility=request.query.visibility, include_hidden=False
    )
    return cacheable_json(request, body, max_age=CATALOG_MAX_AGE)


@operation(bp, "api/scenarios/{slug}")
def get_scenario_by_slug(request: Request) -> Reply:
    """One public scenario."""
    body = catalog.get_scenario(request.route["slug"], include_hidden=False)
    return cacheable_json(request, body, max_age=CATALOG_MAX_AGE)
