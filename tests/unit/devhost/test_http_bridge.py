"""The ASGI bridge: func.HttpRequest in, func.HttpResponse out, platform CORS, errors as JSON."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import azure.functions as func
import httpx
import pytest

from devhost.host import DevHost
from devhost.http import cors_origins_from_env

ALLOWED_ORIGIN = "http://localhost:3000"
CLIENT = ("203.0.113.9", 51000)
seen_threads: list[str] = []


def build_app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="", methods=["GET"])
    def get_root(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(json.dumps({"root": True}), mimetype="application/json")

    @app.route(route="api/items/{itemId:int}", methods=["GET", "DELETE"])
    def get_item(req: func.HttpRequest) -> func.HttpResponse:
        seen_threads.append(threading.current_thread().name)
        payload = {
            "route": dict(req.route_params),
            "query": dict(req.params),
            "url": req.url,
            "method": req.method,
            "forwarded": req.headers.get("x-forwarded-for"),
            "cookie": req.headers.get("cookie"),
        }
        return func.HttpResponse(json.dumps(payload), mimetype="application/json")

    @app.route(route="api/echo", methods=["POST"])
    def echo(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(
            req.get_body(),
            status_code=201,
            headers={"X-Echo-Type": req.headers.get("content-type", ""), "ETag": '"v1"'},
            mimetype="application/octet-stream",
        )

    @app.route(route="api/cookies", methods=["POST"])
    def set_cookies(req: func.HttpRequest) -> func.HttpResponse:
        response = func.HttpResponse("ok", headers={"Vary": "Accept-Encoding"})
        response.headers.add("Set-Cookie", "session_access=abc; Path=/; HttpOnly; Secure; SameSite=None")
        response.headers.add("Set-Cookie", "csrf_token=xyz; Path=/; Secure; SameSite=None")
        return response

    @app.route(route="api/async/{name}", methods=["GET"])
    async def async_hello(req: func.HttpRequest) -> func.HttpResponse:
        await asyncio.sleep(0)
        return func.HttpResponse(f"hello {req.route_params['name']}", charset="utf-8")

    @app.route(route="api/text", methods=["GET"])
    def plain_text(req: func.HttpRequest) -> str:
        return "just text"

    @app.route(route="api/files/{*path}", methods=["GET"])
    def get_file(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return func.HttpResponse(f"{context.function_name}:{req.route_params.get('path', '')}")

    @app.route(route="api/boom", methods=["GET"])
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("kaboom")

    @app.route(route="api/nothing", methods=["GET"])
    def returns_nothing(req: func.HttpRequest) -> None:
        return None

    return app


@pytest.fixture(scope="module")
def host() -> DevHost:
    return DevHost(
        build_app(), host_json={"extensions": {"http": {"routePrefix": ""}}}, cors_origins=[ALLOWED_ORIGIN + "/"]
    )


def call(host: DevHost, method: str, url: str, **kwargs) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=host.asgi, client=CLIENT)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:7071") as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(send())


def test_route_params_query_and_request_details(host: DevHost):
    response = call(host, "GET", "/api/items/42?tag=a&tag=b&empty=&q=x%20y", headers={"Cookie": "a=1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["route"] == {"itemId": "42"}
    assert body["query"] == {"tag": "a,b", "empty": "", "q": "x y"}
    assert body["url"] == "http://127.0.0.1:7071/api/items/42?tag=a&tag=b&empty=&q=x%20y"
    assert body["method"] == "GET"
    assert body["forwarded"] == CLIENT[0]
    assert body["cookie"] == "a=1"


def test_the_peer_is_appended_to_an_existing_forwarded_for_header(host: DevHost):
    response = call(host, "GET", "/api/items/1", headers={"X-Forwarded-For": "198.51.100.7"})
    first, _, peer = response.json()["forwarded"].partition(", ")
    assert first == "198.51.100.7" and peer and peer != first


def test_sync_functions_run_off_the_event_loop_thread(host: DevHost):
    seen_threads.clear()
    call(host, "GET", "/api/items/1")
    assert seen_threads and seen_threads[0] != threading.current_thread().name


def test_body_status_and_headers_are_returned_faithfully(host: DevHost):
    payload = bytes(range(256))
    response = call(host, "POST", "/api/echo", content=payload, headers={"Content-Type": "application/x-test"})
    assert response.status_code == 201
    assert response.content == payload
    assert response.headers["x-echo-type"] == "application/x-test"
    assert response.headers["etag"] == '"v1"'
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == "256"


def test_every_set_cookie_header_arrives(host: DevHost):
    response = call(host, "POST", "/api/cookies")
    assert response.headers.get_list("set-cookie") == [
        "session_access=abc; Path=/; HttpOnly; Secure; SameSite=None",
        "csrf_token=xyz; Path=/; Secure; SameSite=None",
    ]
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text == "ok"


def test_async_functions_are_awaited(host: DevHost):
    response = call(host, "GET", "/api/async/w%C3%B6rld")
    assert response.status_code == 200
    assert response.text == "hello wörld"


def test_a_string_return_is_a_plain_text_200(host: DevHost):
    response = call(host, "GET", "/api/text")
    assert (response.status_code, response.text) == (200, "just text")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_catch_all_and_context_argument(host: DevHost):
    assert call(host, "GET", "/api/files/a/b.txt").text == "get_file:a/b.txt"


def test_the_empty_route_answers_the_root(host: DevHost):
    assert call(host, "GET", "/").json() == {"root": True}


def test_unknown_path_is_a_json_404(host: DevHost):
    response = call(host, "GET", "/api/missing")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert set(response.json()) == {"error", "message"}
    assert call(host, "GET", "/api/items/not-an-int").status_code == 404


def test_wrong_method_is_a_json_405_with_allow(host: DevHost):
    response = call(host, "PUT", "/api/items/1")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["allow"] == "DELETE, GET"


def test_an_escaping_exception_is_a_500_without_details(host: DevHost, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.ERROR, logger="devhost.http"):
        response = call(host, "GET", "/api/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error"}
    assert "kaboom" not in response.text
    failure = next(record for record in caplog.records if record.name == "devhost.http")
    assert failure.exc_info and "kaboom" in str(failure.exc_info[1])


def test_returning_nothing_is_a_500(host: DevHost):
    assert call(host, "GET", "/api/nothing").status_code == 500


def test_cors_for_an_allowed_origin(host: DevHost):
    response = call(host, "POST", "/api/cookies", headers={"Origin": ALLOWED_ORIGIN})
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-expose-headers"] == "x-correlation-id, Retry-After, ETag"
    assert response.headers.get_list("vary") == ["Accept-Encoding, Origin"]
    assert len(response.headers.get_list("set-cookie")) == 2
    assert call(host, "GET", "/api/missing", headers={"Origin": ALLOWED_ORIGIN}).headers[
        "access-control-allow-origin"
    ] == (ALLOWED_ORIGIN)


def test_no_cors_headers_for_other_origins(host: DevHost):
    response = call(host, "GET", "/api/items/1", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert not [name for name in response.headers if name.startswith("access-control-")]


def test_preflight_from_an_allowed_origin(host: DevHost):
    response = call(
        host,
        "OPTIONS",
        "/api/echo",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-csrf-token",
        },
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-methods"] == "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "content-type, x-csrf-token"
    assert response.headers["access-control-max-age"] == "600"


def test_preflight_from_another_origin_gets_no_cors_headers(host: DevHost):
    response = call(
        host,
        "OPTIONS",
        "/api/echo",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert not [name for name in response.headers if name.startswith("access-control-")]


def test_options_without_preflight_headers_is_routed(host: DevHost):
    assert call(host, "OPTIONS", "/api/echo", headers={"Origin": ALLOWED_ORIGIN}).status_code == 405


def test_head_sends_headers_without_a_body():
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="doc", methods=["HEAD", "GET"])
    def get_doc(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("content")

    # The project's host.json (routePrefix "") is the default.
    response = call(DevHost(app, cors_origins=[]), "HEAD", "/doc")
    assert response.status_code == 200
    assert response.headers["content-length"] == "7"
    assert response.content == b""


def test_cors_origins_default_to_frontend_urls():
    assert cors_origins_from_env({"FRONTEND_URLS": "http://localhost:3000/, https://App.example.com ,"}) == (
        "http://localhost:3000",
        "https://app.example.com",
    )
    assert cors_origins_from_env({}) == ()
