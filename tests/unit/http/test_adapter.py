"""The HTTP adapter: parsing, validation, auth hook, body cap, error envelope, correlation ids."""

from __future__ import annotations

import json
import logging

import azure.functions as func
import pytest
from pydantic import BaseModel, Field

from shared.platform.errors import Conflict, Forbidden, TooManyRequests
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request
from shared.platform.settings import reload_settings

bp = func.Blueprint()


class EchoQuery(BaseModel):
    page: int = Field(default=1, ge=1)


class EchoBody(BaseModel):
    name: str = Field(min_length=1)
    count: int = 0


@operation(bp, "t/items/{itemId}", methods=["POST"], query=EchoQuery, body=EchoBody, status=201)
def create_echo(request: Request) -> dict:
    """Echo what the adapter parsed."""
    return {
        "itemId": request.route["itemId"],
        "page": request.query.page,
        "name": request.body.name,
        "count": request.body.count,
        "ip": request.client_ip,
        "cookie": request.cookies.get("a"),
    }


@operation(bp, "t/conflict", methods=["POST"])
def raise_conflict(request: Request) -> dict:
    raise Conflict("Already there")


@operation(bp, "t/limited")
def raise_rate_limited(request: Request) -> dict:
    raise TooManyRequests(retry_after=17)


@operation(bp, "t/boom")
def raise_unexpected(request: Request) -> dict:
    raise RuntimeError("database password=hunter2 leaked in an exception")


@operation(bp, "t/cookies")
def set_two_cookies(request: Request) -> Reply:
    return Reply({"ok": True}, cookies=["a=1; Path=/", "b=2; Path=/"], headers={"ETag": '"v1"'})


class DenyAll:
    name = "deny"

    def authenticate(self, request: Request) -> None:
        raise Forbidden("Not for you")


@operation(bp, "t/denied", auth=DenyAll())
def denied(request: Request) -> dict:
    raise AssertionError("the handler must not run when auth refuses")


app = func.FunctionApp()
app.register_functions(bp)
INDEXED = app.get_functions()  # indexing twice is refused, as in the worker
FUNCTIONS = {f.get_function_name(): f.get_user_function() for f in INDEXED}


def call(name: str, method: str = "GET", *, body: bytes = b"", headers=None, params=None, route=None):
    defaults = {"Content-Type": "application/json"} if body else {}
    request = func.HttpRequest(
        method,
        f"http://localhost/{name}",
        headers={**defaults, **(headers or {})},
        params=params or {},
        route_params=route or {},
        body=body,
    )
    return FUNCTIONS[name](request)


def body_of(response: func.HttpResponse) -> dict:
    return json.loads(response.get_body())


def test_functions_are_named_after_their_handlers_and_bind_req():
    assert set(FUNCTIONS) >= {"create_echo", "raise_conflict", "set_two_cookies"}
    function = next(f for f in INDEXED if f.get_function_name() == "create_echo")
    assert function.get_trigger().name == "req"
    assert function.get_trigger().route == "t/items/{itemId}"


def test_route_query_body_cookies_and_client_ip_reach_the_handler():
    response = call(
        "create_echo",
        "POST",
        body=b'{"name": "x", "count": 3}',
        params={"page": "2"},
        route={"itemId": "i-1"},
        headers={"Cookie": "a=b", "X-Forwarded-For": "10.0.0.1, 203.0.113.7:4411"},
    )
    assert response.status_code == 201
    assert body_of(response) == {
        "itemId": "i-1",
        "page": 2,
        "name": "x",
        "count": 3,
        "ip": "203.0.113.7",
        "cookie": "b",
    }
    assert response.mimetype == "application/json"


@pytest.mark.parametrize(
    ("forwarded", "hops", "expected"),
    [
        # The caller may write anything into X-Forwarded-For; the trusted front end appends the truth.
        ("6.6.6.6, 198.51.100.9", 1, "198.51.100.9"),
        ("6.6.6.6, 7.7.7.7, 198.51.100.9", 1, "198.51.100.9"),
        ("6.6.6.6, 198.51.100.9, 10.1.2.3", 2, "198.51.100.9"),
        ("198.51.100.9", 2, "unknown"),
        ("[2001:db8::1]:443", 1, "2001:db8::1"),
        ("2001:db8::1", 1, "2001:db8::1"),
        ("", 1, "unknown"),
        ("198.51.100.9", 0, "unknown"),
    ],
)
def test_the_client_is_the_entry_the_trusted_proxy_appended(forwarded, hops, expected):
    from shared.platform.http.adapter import client_address

    assert client_address({"x-forwarded-for": forwarded}, hops) == expected


@pytest.mark.parametrize(
    ("body", "params", "code", "fragment"),
    [
        (b"{not json", {}, "invalid_json", "not valid JSON"),
        (b"[1, 2]", {}, "validation_error", "JSON object"),
        (b'{"name": ""}', {}, "validation_error", "body.name"),
        (b'{"count": 1}', {}, "validation_error", "body.name"),
        (b'{"name": "x"}', {"page": "zero"}, "validation_error", "query.page"),
        (b'{"name": "x"}', {"page": "0"}, "validation_error", "query.page"),
    ],
)
def test_bad_input_is_a_400_envelope_naming_the_field(body, params, code, fragment):
    response = call("create_echo", "POST", body=body, params=params, route={"itemId": "i"})
    assert response.status_code == 400
    envelope = body_of(response)
    assert set(envelope) == {"error", "message"}
    assert envelope["error"] == code
    assert fragment in envelope["message"]


def test_body_over_the_cap_is_413(monkeypatch):
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    reload_settings()
    try:
        response = call("create_echo", "POST", body=b'{"name": "' + b"x" * 3000 + b'"}', route={"itemId": "i"})
        declared = call("create_echo", "POST", body=b"{}", headers={"Content-Length": "999999"}, route={"itemId": "i"})
    finally:
        monkeypatch.delenv("MAX_BODY_BYTES")
        reload_settings()
    assert response.status_code == 413
    assert body_of(response)["error"] == "payload_too_large"
    assert declared.status_code == 413


def test_a_json_body_needs_the_json_media_type():
    response = call(
        "create_echo", "POST", body=b'{"name": "x"}', headers={"Content-Type": "text/plain"}, route={"itemId": "i"}
    )
    assert response.status_code == 415
    assert body_of(response)["error"] == "unsupported_media_type"
    charset = call(
        "create_echo",
        "POST",
        body=b'{"name": "x"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
        route={"itemId": "i"},
    )
    assert charset.status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": NaN}',
        b'{"name": "x", "count": 1e400}',
        b'{"name": "x", "count": Infinity}',
        b'{"name": "x", "count": ' + b"9" * 5000 + b"}",
        b'{"name": "\\ud800"}',
        b"[" * 100_000,
        b'{"a":' * 70 + b"1" + b"}" * 70,
    ],
)
def test_hostile_json_is_a_400_not_a_500(raw):
    response = call("create_echo", "POST", body=raw, route={"itemId": "i"})
    assert response.status_code == 400
    assert body_of(response)["error"] == "invalid_json"


@pytest.mark.parametrize("item_id", ["..", "a/b", "x" * 200, "a..b", "-x", "a b", "a\nb"])
def test_a_malformed_path_id_is_404_before_the_handler(item_id):
    response = call("create_echo", "POST", body=b'{"name": "x"}', route={"itemId": item_id})
    assert response.status_code == 404


def test_a_malformed_query_value_is_400():
    response = call("create_echo", "POST", body=b'{"name": "x"}', params={"page": "1\x00"}, route={"itemId": "i"})
    assert (response.status_code, body_of(response)["error"]) == (400, "invalid_query")


def test_a_malformed_setting_is_a_503_naming_it(monkeypatch):
    monkeypatch.setenv("MAX_BODY_BYTES", "lots")
    from shared.platform.settings import get_settings

    get_settings.cache_clear()
    try:
        response = call("raise_conflict", "POST")
    finally:
        monkeypatch.delenv("MAX_BODY_BYTES")
        reload_settings()
    assert response.status_code == 503
    envelope = body_of(response)
    assert envelope["error"] == "configuration_error" and "MAX_BODY_BYTES" in envelope["message"]


def test_service_errors_map_to_their_status_and_envelope():
    response = call("raise_conflict", "POST")
    assert response.status_code == 409
    assert body_of(response) == {"error": "conflict", "message": "Already there"}


def test_rate_limit_error_carries_retry_after():
    response = call("raise_rate_limited")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "17"


def test_unexpected_exception_is_a_500_without_details(caplog):
    with caplog.at_level(logging.ERROR, logger="tellgence.http"):
        response = call("raise_unexpected", headers={"x-correlation-id": "corr-12345678"})
    assert response.status_code == 500
    envelope = body_of(response)
    assert envelope["error"] == "internal_error"
    assert "hunter2" not in response.get_body().decode()
    assert "corr-12345678" in caplog.text


def test_auth_mode_runs_before_the_handler():
    response = call("denied")
    assert response.status_code == 403
    assert body_of(response)["error"] == "forbidden"


def test_every_response_carries_a_correlation_id():
    kept = call("raise_conflict", "POST", headers={"x-correlation-id": "abc-12345678"})
    assert kept.headers["x-correlation-id"] == "abc-12345678"
    fresh = call("raise_conflict", "POST", headers={"x-correlation-id": "bad id with spaces"})
    assert len(fresh.headers["x-correlation-id"]) == 32


def test_reply_keeps_every_cookie_and_header():
    response = call("set_two_cookies")
    assert response.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert response.headers["ETag"] == '"v1"'
    assert response.headers["Cache-Control"] == "no-store"


class Inner(BaseModel):
    when: str
    note: str | None = None


def test_results_serialise_models_dates_mappings_and_tuples_in_any_nesting():
    from datetime import UTC, date, datetime
    from types import MappingProxyType

    from shared.platform.http.adapter import dump_json

    value = {
        "model": Inner(when="now"),
        "models": [Inner(when="a", note="n"), (1, 2)],
        "at": datetime(2026, 12, 2, 7, 0, tzinfo=UTC),
        "day": date(2026, 12, 2),
        "frozen": MappingProxyType({"k": Inner(when="b")}),
        "text": "é\u2028",
    }
    assert json.loads(dump_json(value)) == {
        "model": {"when": "now"},
        "models": [{"when": "a", "note": "n"}, [1, 2]],
        "at": "2026-12-02T07:00:00+00:00",
        "day": "2026-12-02",
        "frozen": {"k": {"when": "b"}},
        "text": "é\u2028",
    }
    assert "\\u00e9" not in dump_json(value) and dump_json(Inner(when="x")) == '{"when":"x"}'


def test_keys_the_encoder_refuses_become_strings_and_unknown_objects_are_refused():
    from shared.platform.http.adapter import dump_json

    assert json.loads(dump_json({(1, 2): "pair", 3: "three"})) == {"(1, 2)": "pair", "3": "three"}
    with pytest.raises(TypeError):
        dump_json({"x": object()})
