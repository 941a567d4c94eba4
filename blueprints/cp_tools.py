"""Tools CP: the tool execution journal, for operators."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import OPERATOR
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()


@operation(bp, "api/cp/tools/executions/{executionId}", auth=OPERATOR)
def cp_get_tool_execution(request: Request) -> dict:
    """One journal item of the caller's tenant (durable; another tenant's is a 404)."""
    from shared.tools import service as tools

    return tools.get_execution(request.principal.tenant_id, request.route["executionId"])
