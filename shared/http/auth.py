"""Auth modes: each operation names one; the adapter runs it before the handler."""

from __future__ import annotations

from typing import Any, Protocol

from shared.http.request import Request


class AuthMode(Protocol):
    """Resolves the principal of a request or raises Unauthorized / Forbidden / NotFound."""

    name: str

    def authenticate(self, request: Request) -> Any: ...


class Public:
    """Anyone may call; there is no principal."""

    name = "public"

    def authenticate(self, request: Request) -> None:
        return None


PUBLIC = Public()
