"""Who may execute a tool: the session's access key (the body names the session), or an operator bearer."""

from __future__ import annotations

from typing import Any

from shared.platform.errors import Forbidden, Unauthorized
from shared.platform.http.request import Request
from shared.platform.principal import Role
from shared.sessions import access


class ToolForbidden(Forbidden):
    """A refusal in the shape executeTool's contract gives every 403 (success false, "Policy Denied")."""

    def __init__(self, message: str, *, tool_name: str = "", runtime: dict | None = None) -> None:
        super().__init__(message, code="Policy Denied")
        self.tool_name = tool_name
        self.runtime = runtime or {"status": "denied"}

    def envelope(self) -> dict:
        return {
            "success": False,
            "error": "Policy Denied",
            "message": self.message,
            "toolName": self.tool_name,
            "runtime": self.runtime,
        }


class ToolCaller:
    """The auth mode of executeTool, settled before the body is read.

    A session key (header, or cookie) defers the proof to the handler, which knows the session from the
    body (`shared.sessions.auth.session_grant`: one point read). Otherwise the caller must be an operator
    of a tenant (or a super-admin); a missing token is 401, an invalid one 401, a lower role 403 (in the
    contract's 403 shape).
    """

    name = "session_access or operator"

    def authenticate(self, request: Request) -> Any:
        from shared.identity.auth import ClerkBearer

        if request.header(access.ACCESS_HEADER) or request.cookies.get(access.ACCESS_COOKIE):
            return None
        if not request.header("authorization"):
            raise Unauthorized("The session access key or an operator token is required", code="missing_token")
        try:
            return ClerkBearer(Role.OPERATOR, super_admin_or=True).authenticate(request)
        except ToolForbidden:
            raise
        except Forbidden as exc:
            raise ToolForbidden(exc.message) from exc
