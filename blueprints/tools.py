"""Tools: the persona's tools in the realtime function-tool format."""

from __future__ import annotations

import azure.functions as func

from shared.catalog import service as catalog
from shared.platform.errors import BadRequest
from shared.platform.http.adapter import operation
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request
from shared.tools.auth import ToolCaller

bp = func.Blueprint()

CATALOG_MAX_AGE = 300
# The session's key (the body names the session) or an operator bearer.
TOOL_CALLER = ToolCaller()


@operation(bp, "api/tools")
def get_tools(request: Request) -> Reply:
    """The tools a persona may call; personaId is required."""
    body = catalog.persona_tools(request.query.get("personaId"))
    return cacheable_json(request, body, max_age=CATALOG_MAX_AGE)


@operation(
    bp,
    "api/tools/execute",
    methods=["POST"],
    auth=TOOL_CALLER,
    body="shared.tools.models:ExecuteToolBody",
)
def execute_tool(request: Request) -> Reply:
    """Run a registry tool for a session (its key) or an operator: policy, approval, idempotency, retries."""
    from shared.tools import service as tools

    body = request.body
    grant = None
    if body.sessionId:
        grant = tools_session_grant(request, body.sessionId)
    elif request.principal is None:
        raise BadRequest("A session access key needs the sessionId it belongs to", code="session_id_required")
    status, answer = tools.execute(
        body, principal=request.principal, grant=grant, correlation_id=request.correlation_id
    )
    return Reply(answer, status=status)


def tools_session_grant(request: Request, session_id: str):
    """The session the body names, proven by its key or an operator bearer (a lower role: the contract's 403).

    The operation documents no 404: an unknown, expired or other tenant's session is a 400 `session_not_found`.
    """
    from shared.platform.errors import Forbidden, NotFound
    from shared.sessions.auth import session_grant
    from shared.tools.auth import ToolForbidden

    try:
        return session_grant(request, session_id)
    except ToolForbidden:
        raise
    except Forbidden as exc:
        raise ToolForbidden(exc.message) from exc
    except NotFound as exc:
        raise BadRequest("Session not found", code="session_not_found") from exc
