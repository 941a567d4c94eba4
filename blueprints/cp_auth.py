"""Control-plane Auth: who the signed-in operator is and what they may do."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import SIGNED_IN
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()


@operation(bp, "api/cp/auth/session", auth=SIGNED_IN)
def cp_get_auth_session(request: Request) -> dict:
    """The resolved control-plane session: tenant, role and access state."""
    return success(session=request.principal.session_view())
