"""The one HTTP adapter: what a web framework's middleware would do, for every operation.

`operation(bp, route, ...)` registers a handler as an HTTP-triggered function of a Blueprint.
The function is named after the handler (the operationId in snake_case). Per request it reads
route params, validates the query and the JSON body into pydantic models, runs the auth mode,
calls the handler, serialises its result, maps ServiceError to the error envelope and stamps
`x-correlation-id` on every response.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import azure.functions as func

from shared.platform import telemetry
from shared.platform.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ServiceError,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from shared.platform.http import contract
from shared.platform.http.auth import PUBLIC, AuthMode
from shared.platform.http.cookies import parse_cookies
from shared.platform.http.request import Reply, Request
from shared.platform.ids import is_valid_id
from shared.platform.jsonbody import parse_json
from shared.platform.ratelimit.service import RateLimit
from shared.platform.references import ModelRef, resolve_model
from shared.platform.settings import SettingsError, get_settings
from shared.platform.store import metering

logger = logging.getLogger("tellgence.http")

CORRELATION_HEADER = "x-correlation-id"
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
JSON_MEDIA_TYPE = "application/json"
MAX_QUERY_VALUE_CHARS = 2048
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

Handler = Callable[[Request], Any]

# operation function name -> its auth mode; the role-table test reads it.
OPERATION_AUTH: dict[str, AuthMode] = {}
# operation function name -> its default rate limit, for the operations that have one.
OPERATION_RATE_LIMITS: dict[str, RateLimit] = {}
# Operations that write with optimistic concurrency and answer 409 to a stale or lost write, even
# where their contract lists no 409 (the test client reads this set).
OPERATION_CONFLICTS: set[str] = set()


def operation(
    bp: func.Blueprint,
    route: str,
    *,
    methods: Sequence[str] = ("GET",),
    auth: AuthMode = PUBLIC,
    query: ModelRef | None = None,
    body: ModelRef | None = None,
    status: int = 200,
    rate_limit: RateLimit | None = None,
    error_fields: Callable[[ServiceError], dict] | None = None,
    route_patterns: Mapping[str, str] | None = None,
    raw_media_types: Sequence[str] = (),
    conflicts: bool = False,
) -> Callable[[Handler], Handler]:
    """Register `handler(request) -> result` as the HTTP function of one contract operation.

    `query` and `body` name pydantic models as "module:Class" (or pass the class): they are
    imported on the first request that needs them, which keeps pydantic out of the cold start.

    `rate_limit` applies to operations whose contract lists 429; the limit is per client and
    operation, and RATE_LIMITS may override it by the operation's function name.
    `error_fields` adds the fields an operation's contract requires in its 400 body.
    Every route parameter must be a well-formed id (shared.platform.ids) unless `route_patterns` gives
    it another full-match pattern; a malformed one is a 404 before anything else runs.
    A JSON body is checked against the contract's request schema, then `body`; operations that read
    their raw body (webhooks) list the media types they take in `raw_media_types`.
    `conflicts` declares that the operation answers 409 to a stale or lost optimistic-concurrency write.
    """

    def register(handler: Handler) -> Handler:
        spec = _OperationSpec(
            name=handler.__name__,
            auth=auth,
            query_model=query,
            body_model=body,
            status=status,
            rate_limit=rate_limit,
            error_fields=error_fields,
            route_patterns={name: re.compile(pattern) for name, pattern in (route_patterns or {}).items()},
            raw_media_types=tuple(raw_media_types),
        )

        def http_function(req: func.HttpRequest) -> func.HttpResponse:
            return _dispatch(req, handler, spec)

        # No functools.wraps: the worker reads the signature, and __wrapped__ would expose the
        # handler's instead of the `req` binding.
        http_function.__name__ = handler.__name__
        http_function.__qualname__ = handler.__qualname__
        http_function.__doc__ = handler.__doc__
        http_function.__module__ = handler.__module__
        bp.route(route=route, methods=list(methods), auth_level=func.AuthLevel.ANONYMOUS)(http_function)
        OPERATION_AUTH[handler.__name__] = auth
        if rate_limit is not None:
            OPERATION_RATE_LIMITS[handler.__name__] = rate_limit
        if conflicts:
            OPERATION_CONFLICTS.add(handler.__name__)
        return handler

    return register


@dataclass(frozen=True, slots=True)
class _OperationSpec:
    name: str
    auth: AuthMode
    query_model: ModelRef | None
    body_model: ModelRef | None
    status: int
    rate_limit: RateLimit | None
    error_fields: Callable[[ServiceError], dict] | None
    route_patterns: Mapping[str, re.Pattern[str]]
    raw_media_types: tuple[str, ...]


def _dispatch(req: func.HttpRequest, handler: Handler, spec: _OperationSpec) -> func.HttpResponse:
    started = time.perf_counter()
    correlation_id = _correlation_id(req.headers.get(CORRELATION_HEADER))
    span = telemetry.operation_span(handler.__name__, correlation_id, method=req.method)
    if metering.enabled():
        with metering.measure() as count:
            response = _respond(req, handler, spec, correlation_id, span)
        metering.record(correlation_id, spec.name, count)
    else:
        response = _respond(req, handler, spec, correlation_id, span)
    span.end(response.status_code)
    logger.info(
        "%s %s -> %s in %.1f ms correlation_id=%s",
        req.method,
        _path_of(req.url),
        response.status_code,
        (time.perf_counter() - started) * 1000,
        correlation_id,
    )
    return response


def _respond(
    req: func.HttpRequest, handler: Handler, spec: _OperationSpec, correlation_id: str, span: telemetry.OperationSpan
) -> func.HttpResponse:
    try:
        request = _build_request(req, correlation_id)
        _check_route_ids(request, spec)
        _check_query_text(request)
        if spec.rate_limit is not None:
            from shared.platform.ratelimit import service as ratelimit

            ratelimit.hit(spec.name, request.client_ip, spec.rate_limit)
        # Who is calling is settled before anything about the input is revealed.
        request.principal = spec.auth.authenticate(request)
        span.set_tenant(request.principal)
        if spec.query_model is not None:
            request.query = _validate(spec.query_model, request.query, "query")
        _read_body(request, spec)
        response = _to_response(handler(request), spec.status)
    except ServiceError as exc:
        if spec.error_fields is not None and exc.status == 400:
            exc.fields = {**spec.error_fields(exc), **exc.fields}
        response = _error_response(exc)
    except SettingsError as exc:
        logger.error("configuration error in %s: %s correlation_id=%s", spec.name, exc, correlation_id)
        response = _error_response(ServiceUnavailable(str(exc), code="configuration_error"))
    except Exception as exc:
        span.record_exception(exc)
        logger.exception("unhandled error in %s %s correlation_id=%s", req.method, _path_of(req.url), correlation_id)
        response = _json_response({"error": "internal_error", "message": f"Unexpected error ({correlation_id})"}, 500)
    response.headers[CORRELATION_HEADER] = correlation_id
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _check_route_ids(request: Request, spec: _OperationSpec) -> None:
    """Every path parameter is a well-formed id (or matches its declared pattern) before any store call."""
    for name, value in request.route.items():
        pattern = spec.route_patterns.get(name)
        ok = pattern.fullmatch(value) is not None if pattern is not None else is_valid_id(value)
        if not ok:
            raise NotFound("Not found")


def _check_query_text(request: Request) -> None:
    """Query values are short, printable text: anything else is a malformed query."""
    for name, value in request.query.items():
        if len(name) > MAX_QUERY_VALUE_CHARS or len(value) > MAX_QUERY_VALUE_CHARS or _UNPRINTABLE.search(value):
            raise BadRequest("The query string is malformed", code="invalid_query")


def _read_body(request: Request, spec: _OperationSpec) -> None:
    """Check the media type, parse the JSON body and hold it to the contract, then to the operation's model."""
    rules = contract.rules_for(spec.name)
    has_body = bool(request.raw_body.strip())
    if spec.raw_media_types:
        if has_body and _media_type(request) not in spec.raw_media_types:
            raise UnsupportedMediaType(f"The body must be one of: {', '.join(spec.raw_media_types)}")
        return
    takes_json = spec.body_model is not None or (rules is not None and rules.schema is not None)
    if not takes_json:
        return
    if not has_body:
        if rules is not None and rules.body_required:
            raise ValidationFailed("A JSON request body is required")
        value: Any = {}
    else:
        if _media_type(request) != JSON_MEDIA_TYPE:
            raise UnsupportedMediaType("The body must be application/json")
        value = parse_json(request.raw_body)
        if not isinstance(value, dict):
            raise ValidationFailed("The request body must be a JSON object")
        contract.check_body(spec.name, value)
    request.body = _validate(spec.body_model, value, "body") if spec.body_model is not None else value


def _media_type(request: Request) -> str:
    return (request.header("content-type") or "").split(";")[0].strip().lower()


def _correlation_id(incoming: str | None) -> str:
    if incoming and _CORRELATION_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path or "/"


def client_address(headers: Mapping[str, str], trusted_hops: int) -> str:
    """The caller's address: the X-Forwarded-For entry appended by the outermost trusted proxy.

    Each trusted proxy appends the address it saw, so the caller is the entry `trusted_hops` from the
    right; anything to its left was written by the caller and is ignored. Azure's front end is one
    trusted hop (and the dev host appends the socket peer the same way).
    """
    entries = [entry.strip() for entry in headers.get("x-forwarded-for", "").split(",") if entry.strip()]
    if trusted_hops <= 0 or len(entries) < trusted_hops:
        return "unknown"
    address = entries[-trusted_hops]
    if address.count(":") == 1:  # IPv4 with a port, as Azure's front end sends it
        address = address.split(":")[0]
    if address.startswith("[") and "]" in address:  # [IPv6]:port
        address = address[1 : address.index("]")]
    return address[:64] or "unknown"


def _build_request(req: func.HttpRequest, correlation_id: str) -> Request:
    settings = get_settings()
    headers = {key.lower(): value for key, value in req.headers.items()}
    declared_length = headers.get("content-length", "")
    if declared_length.isdigit() and int(declared_length) > settings.max_body_bytes:
        raise PayloadTooLarge(f"The request body exceeds {settings.max_body_bytes} bytes")
    raw_body = req.get_body() or b""
    if len(raw_body) > settings.max_body_bytes:
        raise PayloadTooLarge(f"The request body exceeds {settings.max_body_bytes} bytes")
    return Request(
        method=req.method.upper(),
        url=req.url,
        path=_path_of(req.url),
        route=dict(req.route_params),
        query=dict(req.params),
        body=None,
        raw_body=raw_body,
        headers=headers,
        cookies=parse_cookies(headers.get("cookie")),
        client_ip=client_address(headers, settings.trusted_proxy_hops),
        correlation_id=correlation_id,
    )


def _validate(model: ModelRef, data: Any, where: str) -> Any:
    from pydantic import ValidationError

    try:
        return resolve_model(model).model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(describe_validation_error(exc, where)) from exc


def describe_validation_error(exc: Any, where: str) -> str:
    """A short, human message naming each invalid field (never echoing the rejected values)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:10]:
        location = ".".join(str(part) for part in (where, *error["loc"]))
        problems.append(f"{location}: {error['msg']}")
    return "; ".join(problems) or f"Invalid {where}"


def _to_response(result: Any, default_status: int) -> func.HttpResponse:
    if isinstance(result, func.HttpResponse):
        return result
    if not isinstance(result, Reply):
        return _json_response(result, default_status)
    status = result.status or default_status
    if result.media_type and result.media_type != JSON_MEDIA_TYPE:
        body = result.body if isinstance(result.body, bytes | str) or result.body is None else str(result.body)
        response = func.HttpResponse(body=body, status_code=status, mimetype=result.media_type.split(";")[0])
        response.headers["Content-Type"] = result.media_type
    elif result.body is None:
        response = func.HttpResponse(status_code=status)
    else:
        response = _json_response(result.body, status)
    for name, value in result.headers.items():
        response.headers[name] = value
    for cookie in result.cookies:
        response.headers.add("Set-Cookie", cookie)
    return response


def _error_response(exc: ServiceError) -> func.HttpResponse:
    response = _json_response(exc.envelope(), exc.status)
    for name, value in exc.headers().items():
        response.headers[name] = value
    return response


def _json_response(body: Any, status: int) -> func.HttpResponse:
    return func.HttpResponse(
        body=dump_json(body),
        status_code=status,
        mimetype=JSON_MEDIA_TYPE,
        charset="utf-8",
    )


def dump_json(value: Any) -> str:
    """Serialise a handler result: pydantic models without None fields, datetimes as ISO-8601."""
    try:
        # The encoder walks dicts and lists in C and asks `_json_default` only about the rest.
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    except TypeError:
        # A key the encoder refuses (not str, int, float, bool or None): the walk makes every key a str.
        return json.dumps(_jsonable(value), separators=(",", ":"), ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
