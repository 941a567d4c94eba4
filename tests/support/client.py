"""An httpx client that drives the dev host's ASGI app in process and checks the contract."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

import httpx

from tests.support import budgets
from tests.support.contract import validate_response


class InProcessASGITransport(httpx.BaseTransport):
    """Runs each request through an ASGI app on one private event loop thread."""

    def __init__(self, app: Callable, *, client_address: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self._app = app
        self._client_address = client_address
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="asgi-test-loop", daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        future = asyncio.run_coroutine_threadsafe(self._call(request, body), self._loop)
        status, headers, content = future.result(timeout=120)
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _call(self, request: httpx.Request, body: bytes) -> tuple[int, list, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "root_path": "",
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "client": self._client_address,
            "server": (request.url.host, request.url.port or 80),
        }
        sent = False
        status = 500
        headers: list = []
        chunks: list[bytes] = []

        async def receive() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))

        await self._app(scope, receive, send)
        return status, headers, b"".join(chunks)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


class ContractClient(httpx.Client):
    """Every response is validated against the contract, and its store calls against the budget table.

    Each client has its own loopback address, so per-client rate limits start fresh in every test.
    A test that races writers on purpose sets `check_budget = False` (lost races re-read and retry).
    """

    check_budget = True

    def __init__(self, asgi_app: Callable, **kwargs: Any) -> None:
        address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        super().__init__(
            transport=InProcessASGITransport(asgi_app, client_address=(address, 50000)),
            base_url="http://127.0.0.1:7071",
            **kwargs,
        )

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = super().send(request, **kwargs)
        response.read()
        validate_response(
            request.method,
            request.url.path,
            response.status_code,
            response.headers.get("content-type"),
            response.content,
            conditional="if-none-match" in request.headers,
        )
        if self.check_budget:
            budgets.check(response.headers.get("x-correlation-id"))
        return response
