"""Auth modes the platform itself knows: the protocol every mode follows, anyone, and shared-secret callers.

Each operation names one mode; the adapter runs it before reading the input. Modes that rest on a
domain live with it: Clerk bearers in `shared.identity.auth`, session access keys in
`shared.sessions.auth`.
"""

from __future__ import annotations

import hmac
from typing import Any, Protocol

from shared.platform.errors import NotFound, Unauthorized
from shared.platform.http.request import Request
from shared.platform.settings import get_settings


class AuthMode(Protocol):
    """Resolves the principal of a request or raises Unauthorized / Forbidden / NotFound."""

    name: str

    def authenticate(self, request: Request) -> Any: ...


class Public:
    """Anyone may call; there is no principal."""

    name = "public"

    def authenticate(self, request: Request) -> None:
        return None


class RealtimeApiKey:
    """`x-api-key` or `Authorization: ApiKey …` equal to API_KEY_FOR_REALTIME; open when unset."""

    name = "realtime_api_key"

    def authenticate(self, request: Request) -> None:
        expected = get_settings().api_key_for_realtime
        if not expected:
            return None
        presented = request.header("x-api-key") or ""
        authorization = request.header("authorization") or ""
        if not presented and authorization.lower().startswith("apikey "):
            presented = authorization[7:].strip()
        if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise Unauthorized("A valid API key is required", code="invalid_api_key")
        return None


class WorkflowSecret:
    """The orchestrator's shared secret; the route does not exist while the secret is unset."""

    name = "workflow_secret"
    header = "x-tellgence-workflow-secret"

    def authenticate(self, request: Request) -> None:
        expected = get_settings().internal_workflow_callback_secret
        if not expected:
            raise NotFound("Not found")
        presented = request.header(self.header) or ""
        if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
            raise Unauthorized("The workflow secret is not valid", code="invalid_workflow_secret")
        return None


PUBLIC = Public()
REALTIME_API_KEY = RealtimeApiKey()
WORKFLOW_SECRET = WorkflowSecret()
