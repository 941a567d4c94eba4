"""Verticals: the workflows of the accounting, healthcare and legal packs."""

from __future__ import annotations

import azure.functions as func

from shared.catalog import service as catalog
from shared.platform.http.adapter import operation
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

CATALOG_MAX_AGE = 300


@operation(bp, "api/verticals/accounting/workflows")
def get_accounting_workflows(request: Request) -> Reply:
    """Accounting pack workflows."""
    return cacheable_json(request, catalog.vertical_workflows("accounting"), max_age=CATALOG_MAX_AGE)


@operation(bp, "api/verticals/healthcare/workflows")
def get_healthcare_workflows(request: Request) -> Reply:
    """Healthcare pack workflows."""
    return cacheable_json(request, catalog.vertical_workflows("healthcare"), max_age=CATALOG_MAX_AGE)


@operation(bp, "api/verticals/legal/workflows")
def get_legal_workflows(request: Request) -> Reply:
    """Legal pack workflows."""
    return cacheable_json(request, catalog.vertical_workflows("legal"), max_age=CATALOG_MAX_AGE)
