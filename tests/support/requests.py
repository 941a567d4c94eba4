"""Framework-neutral Request views for unit tests of auth modes and CSRF."""

from __future__ import annotations

from shared.platform.http.request import Request


def make_request(
    method: str = "POST",
    *,
    headers: dict | None = None,
    cookies: dict | None = None,
    route: dict | None = None,
    path: str = "/api/test",
) -> Request:
    """A parsed request as the adapter hands it to auth modes (header names lower-cased)."""
    return Request(
        method=method,
        url=f"http://127.0.0.1:7071{path}",
        path=path,
        route=route or {},
        query={},
        body=None,
        raw_body=b"",
        headers={key.lower(): value for key, value in (headers or {}).items()},
        cookies=cookies or {},
        client_ip="127.0.0.1",
        correlation_id="c" * 16,
    )
