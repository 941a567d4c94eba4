"""The framework-neutral request view handlers receive, and the Reply they may return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.platform.jsonbody import parse_json


@dataclass(slots=True)
class Request:
    """What a handler may know about its HTTP request, already parsed and authenticated."""

    method: str
    url: str
    path: str
    route: Mapping[str, str]
    query: Any
    body: Any
    raw_body: bytes
    headers: Mapping[str, str]
    cookies: Mapping[str, str]
    client_ip: str
    correlation_id: str
    principal: Any = None

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name."""
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The raw body parsed as JSON; BadRequest when it is not JSON."""
        return parse_json(self.raw_body)

    def accepts(self, media_type: str) -> bool:
        """Whether the Accept header names this media type explicitly."""
        accept = self.header("accept") or ""
        return any(part.split(";")[0].strip().lower() == media_type for part in accept.split(","))


@dataclass(slots=True)
class Reply:
    """A handler result that sets its own status, headers, cookies or media type."""

    body: Any = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)
    media_type: str | None = None
