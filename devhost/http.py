"""A raw ASGI app that bridges HTTP to the HTTP-triggered user functions, with the platform's CORS."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote

import azure.functions as func
from azure.functions import _abc as func_abc

from devhost.invocation import IndexedFunction, index_function
from devhost.routing import MethodNotAllowed, RouteNotFound, RouteTable

logger = logging.getLogger("devhost.http")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[str, str]]

CORS_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_EXPOSE_HEADERS = "x-correlation-id, Retry-After, ETag"
CORS_MAX_AGE_SECONDS = 600
_CORS_RESPONSE_HEADERS = {
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
}
# Framing headers are recomputed from the body actually sent.
_FRAMING_HEADERS = {"content-length", "transfer-encoding"}


def cors_origins_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The allowed CORS origins from FRONTEND_URLS (comma-separated; trailing slashes ignored)."""
    value = (environ if environ is not None else os.environ).get("FRONTEND_URLS", "")
    return tuple(_normalise_origin(part) for part in value.split(",") if part.strip())


class HttpBridge:
    """ASGI app: route, build `func.HttpRequest`, call the user function, send its `func.HttpResponse`."""

    def __init__(
        self,
        route_table: RouteTable,
        *,
        cors_origins: Sequence[str] | None = None,
        functions: Mapping[str, IndexedFunction] | None = None,
    ) -> None:
        self.route_table = route_table
        origins = cors_origins if cors_origins is not None else cors_origins_from_env()
        self.cors_origins = frozenset(_normalise_origin(origin) for origin in origins if origin.strip())
        self._functions = dict(functions or {})
        for route in route_table.routes:
            if route.function_name not in self._functions:
                self._functions[route.function_name] = index_function(route.function, os.getcwd())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point (http and lifespan)."""
        if scope["type"] == "lifespan":
            await _run_lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"devhost serves HTTP only, not {scope['type']!r}")
        body = await _read_body(receive)
        if body is None:
            return
        status, headers, payload = await self.respond(scope, body)
        encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        await send({"type": "http.response.start", "status": status, "headers": encoded})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else payload})

    async def respond(self, scope: Scope, body: bytes) -> tuple[int, Headers, bytes]:
        """The (status, headers, body) answering one request, CORS included."""
        method = scope["method"].upper()
        request_headers = _request_headers(scope)
        origin = request_headers.get("origin")
        allowed_origin = origin if origin and _normalise_origin(origin) in self.cors_origins else None
        if method == "OPTIONS" and origin and "access-control-request-method" in request_headers:
            return self._preflight(allowed_origin, request_headers)
        status, headers, payload = await self._dispatch(scope, method, request_headers, body)
        if allowed_origin:
            headers = _with_cors(headers, allowed_origin)
        return status, headers, payload

    async def _dispatch(
        self, scope: Scope, method: str, request_headers: dict[str, str], body: bytes
    ) -> tuple[int, Headers, bytes]:
        raw_path = _raw_path(scope)
        try:
            match = self.route_table.match(method, raw_path)
        except MethodNotAllowed as error:
            status, headers, payload = _json_error(405, "method_not_allowed", f"{method} is not allowed on {raw_path}")
            return status, [*headers, ("allow", ", ".join(error.allowed))], payload
        except RouteNotFound:
            return _json_error(404, "not_found", f"No route matches {method} {raw_path}")
        function = self._functions[match.function_name]
        request = func.HttpRequest(
            method,
            _request_url(scope, raw_path, request_headers),
            headers=request_headers,
            params=_query_params(scope),
            route_params=match.route_params,
            body=body,
        )
        try:
            result = await function.invoke_async(request)
            return _response_parts(result)
        except Exception:
            logger.exception("function %s failed on %s %s", function.name, method, raw_path)
            return _json_error(500, "internal_error", None)

    def _preflight(self, allowed_origin: str | None, request_headers: dict[str, str]) -> tuple[int, Headers, bytes]:
        headers: Headers = [("content-length", "0")]
        if allowed_origin:
            headers += [
                ("access-control-allow-origin", allowed_origin),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-methods", CORS_ALLOW_METHODS),
                ("access-control-max-age", str(CORS_MAX_AGE_SECONDS)),
                ("vary", "Origin"),
            ]
            requested = request_headers.get("access-control-request-headers")
            if requested:
                headers.append(("access-control-allow-headers", requested))
        return 204, headers, b""


def _normalise_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


async def _run_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _request_headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in headers:
            headers[name] = f"{headers[name]}{'; ' if name == 'cookie' else ', '}{value}"
        else:
            headers[name] = value
    client = scope.get("client")
    # Like the platform's front end, append the address the connection came from: whatever the caller
    # wrote into X-Forwarded-For stays to its left, where the app does not trust it.
    if client:
        forwarded = headers.get("x-forwarded-for")
        headers["x-forwarded-for"] = f"{forwarded}, {client[0]}" if forwarded else str(client[0])
    return headers


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if raw:
        return raw.split(b"?", 1)[0].decode("latin-1")
    return quote(scope.get("path", "/"), safe="/:@!$&'()*+,;=-._~")


def _request_url(scope: Scope, raw_path: str, headers: dict[str, str]) -> str:
    scheme = scope.get("scheme", "http")
    host = headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scheme}://{host}{raw_path}" + (f"?{query}" if query else "")


def _query_params(scope: Scope) -> dict[str, str]:
    params: dict[str, str] = {}
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        # A repeated key arrives once, its values joined by commas (ASP.NET StringValues).
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def _response_parts(result: Any) -> tuple[int, Headers, bytes]:
    if isinstance(result, str):
        body = result.encode("utf-8")
        return 200, [("content-type", "text/plain; charset=utf-8"), ("content-length", str(len(body)))], body
    if not isinstance(result, func_abc.HttpResponse):
        raise TypeError(f"an HTTP function must return func.HttpResponse or str, not {type(result).__name__}")
    headers: Headers = [
        (str(name), str(value)) for name, value in result.headers.items() if name.lower() not in _FRAMING_HEADERS
    ]
    if not any(name.lower() == "content-type" for name, _ in headers):
        mimetype, charset = result.mimetype, result.charset
        headers.append(("content-type", f"{mimetype}; charset={charset}" if mimetype.startswith("text/") else mimetype))
    body = result.get_body() or b""
    headers.append(("content-length", str(len(body))))
    for name, value in headers:
        # Fail inside the invocation's error handling rather than half-way through sending.
        name.encode("latin-1")
        value.encode("latin-1")
    return int(result.status_code), headers, body


def _json_error(status: int, error: str, message: str | None) -> tuple[int, Headers, bytes]:
    payload = {"error": error} if message is None else {"error": error, "message": message}
    body = json.dumps(payload).encode("utf-8")
    return status, [("content-type", "application/json"), ("content-length", str(len(body)))], body


def _with_cors(headers: Headers, origin: str) -> Headers:
    kept = [(name, value) for name, value in headers if name.lower() not in _CORS_RESPONSE_HEADERS]
    vary_values = [value for name, value in kept if name.lower() == "vary"]
    kept = [(name, value) for name, value in kept if name.lower() != "vary"]
    vary_tokens = [token.strip() for value in vary_values for token in value.split(",") if token.strip()]
    if not any(token.lower() == "origin" for token in vary_tokens):
        vary_tokens.append("Origin")
    return [
        *kept,
        ("access-control-allow-origin", origin),
        ("access-control-allow-credentials", "true"),
        ("access-control-expose-headers", CORS_EXPOSE_HEADERS),
        ("vary", ", ".join(vary_tokens)),
    ]
