"""Fixtures for onboarding tests: loopback destinations allowed, a webhook receiver that checks our signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import reset_clients
from tests.support.onboarding import WEBHOOK_SECRET

SIGNATURE_HEADER = "X-Lakeside-Signature"


class SignedReceiver:
    """A loopback endpoint that verifies HMAC-SHA256 over "<timestamp>.<body>" in a configured header."""

    def __init__(self, server: HTTPServer, *, header: str = SIGNATURE_HEADER, secret: str = WEBHOOK_SECRET) -> None:
        self.server = server
        self.header = header
        self.secret = secret
        self.status = 200
        self.delay = 0.0
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server.expect_request("/hooks/lakeside", method="POST").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        """The receiver's URL."""
        return self.server.url_for("/hooks/lakeside")

    def webhook(self) -> dict[str, str]:
        """The profile's webhook answer for this receiver."""
        return {"baseUrl": self.url, "secret": self.secret, "headerName": self.header}

    def _handle(self, request: Request) -> Response:
        body = request.get_data()
        timestamp = request.headers.get("X-Tellgence-Timestamp", "")
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(request.headers.get(self.header, ""), f"v1={expected}")
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
        with self._lock:
            self.received.append(
                {
                    "body": json.loads(body),
                    "signatureOk": valid and fresh,
                    "idempotencyKey": request.headers.get("Idempotency-Key"),
                    "headers": dict(request.headers),
                }
            )
        if self.delay:
            time.sleep(self.delay)
        if not (valid and fresh):
            return Response("bad signature", status=401)
        return Response("{}", status=self.status, content_type="application/json")

    def events(self, name: str) -> list[dict[str, Any]]:
        """The deliveries of one event name."""
        return [item for item in self.received if item["body"].get("event") == name]


@pytest.fixture
def loopback(settings_env):
    """Destinations may be loopback fakes in this test (OUTBOUND_ALLOW_LOOPBACK)."""
    settings_env.setenv("OUTBOUND_ALLOW_LOOPBACK", "true")
    reset_clients()
    return settings_env


@pytest.fixture
def receiver(httpserver: HTTPServer, loopback) -> SignedReceiver:
    """A signature-checking webhook receiver on loopback."""
    return SignedReceiver(httpserver)
