"""Control-plane Verticals: every vertical pack with its workflow definitions."""

from __future__ import annotations

import azure.functions as func

from shared.catalog import service as catalog
from shared.identity.auth import VIEWER
from shared.platform.http.adapter import operation
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

CATALOG_MAX_AGE = 300


@operation(bp, "api/cp/verticals/packs", auth=VIEWER)
def cp_list_vertical_packs(request: Request) -> Reply:
    """Every vertical pack."""
    return cacheable_json(request, catalog.list_packs(), max_age=CATALOG_MAX_AGE, public=False)
