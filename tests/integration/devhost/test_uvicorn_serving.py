"""The bridge behind a real uvicorn server on loopback, as `python -m devhost serve` runs it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import azure.functions as func
import httpx
import pytest
import uvicorn

from devhost.emulators import free_ports
from devhost.host import DevHost


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

    @app.route(route="api/csrf", methods=["GET"])
    def get_csrf(req: func.HttpRequest) -> func.HttpResponse:
        response = func.HttpResponse(
            f'{{"forwarded": "{req.headers.get("x-forwarded-for")}"}}', mimetype="application/json"
        )
        response.headers.add("Set-Cookie", "csrf_token=abc; Path=/; SameSite=Lax")
        response.headers.add("Set-Cookie", "session_access=def; Path=/; HttpOnly")
        return response

    host = DevHost(app, cors_origins=["http://localhost:3000"])
    (port,) = free_ports(1)
    server = uvicorn.Server(uvicorn.Config(host.asgi, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def test_cookies_and_peer_address_over_a_real_socket(base_url: str):
    response = httpx.get(f"{base_url}/api/csrf", headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 200
    assert response.headers.get_list("set-cookie") == [
        "csrf_token=abc; Path=/; SameSite=Lax",
        "session_access=def; Path=/; HttpOnly",
    ]
    assert response.json() == {"forwarded": "127.0.0.1"}
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_preflight_over_a_real_socket(base_url: str):
    response = httpx.options(
        f"{base_url}/api/csrf",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-max-age"] == "600"
