"""Helpers for integration tests: a loopback webhook receiver that checks our signature, and connector setup."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SIGNING_SECRET = "whsec-loopback-signing-secret-5b1e7c"
HOOK_PATH = "/hooks/tellgence"


class WebhookReceiver:
    """A loopback receiver of our signed webhooks: verifies each signature, records each event, answers `status`."""

    def __init__(self, server: HTTPServer, secret: str = SIGNING_SECRET, path: str = HOOK_PATH) -> None:
        self.server = server
        self.secret = secret
        self.path = path
        self.status = 200
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server.expect_request(path, method="POST").respond_with_handler(self._handle)

    @property
    def url(self) -> str:
        """The receiver's URL (what a connector is configured with)."""
        return self.server.url_for(self.path)

    def _handle(self, request: Request) -> Response:
        body = request.get_data()
        timestamp = request.headers.get("X-Tellgence-Timestamp", "")
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        signature_ok = hmac.compare_digest(request.headers.get("X-Tellgence-Signature", ""), f"v1={expected}")
        with self._lock:
            self.received.append(
                {
                    "body": json.loads(body),
                    "raw": body,
                    "idempotencyKey": request.headers.get("Idempotency-Key"),
                    "signatureOk": signature_ok,
                    "answered": self.status if signature_ok else 401,
                }
            )
        if not signature_ok:
            return Response("bad signature", status=401)
        return Response(json.dumps({"received": True}), status=self.status, content_type="application/json")

    def events(self, name: str) -> list[dict[str, Any]]:
        """The received deliveries of one event name."""
        return [item for item in self.received if item["body"].get("event") == name]


def connect_webhook(client: Any, headers: dict[str, str], url: str, secret: str = SIGNING_SECRET) -> Any:
    """PUT the tenant's webhook connector (signed_webhook) and return the response."""
    return client.put(
        "/api/cp/integrations/practice-connectors/webhook",
        json={"providerId": "signed_webhook", "config": {"url": url, "signingSecret": secret}},
        headers=headers,
    )
