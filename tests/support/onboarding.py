"""Helpers for onboarding and workflow tests: profile answers, a valid workflow graph, stored documents."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

WEBHOOK_SECRET = "whsec-onboarding-test-secret-7c41d9"
PERSONA = "dental_front_desk"


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


def answers(**overrides: Any) -> dict[str, Any]:
    """A complete createFastStartProfile body for a dental practice."""
    body: dict[str, Any] = {
        "companyName": "Lakeside Family Dental",
        "businessDescription": "A two-chair family dental practice in Madison.",
        "primaryUseCase": "healthcare",
        "personaId": PERSONA,
        "greeting": "Thanks for calling Lakeside Family Dental!",
        "intakeFields": ["name", "dateOfBirth", "insurance"],
        "summaryRecipients": ["frontdesk@lakeside-dental.test"],
        "escalationContact": "office.manager@lakeside-dental.test",
        "faqs": [{"question": "Do you take Delta Dental?", "answer": "Yes, we are in network."}],
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def create_profile(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """POST a profile and return its item (asserting the 201)."""
    response = client.post("/api/cp/onboarding/fast-start", json=answers(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["item"]


def workflow_graph() -> dict[str, Any]:
    """A valid graph: intake → condition → demo CRM lead (retrying) or a hand-off → end."""
    nodes = [
        {"id": "ask", "type": "intake", "position": {"x": 0, "y": 0}, "data": {"label": "Ask", "fields": ["name"]}},
        {
            "id": "insured",
            "type": "condition",
            "position": {"x": 0, "y": 100},
            "data": {"field": "insurance", "operator": "exists"},
        },
        {
            "id": "crm",
            "type": "tool_call",
            "position": {"x": -100, "y": 200},
            "data": {
                "label": "Log the lead",
                "provider": "salesforce_mock",
                "action": "create_lead",
                "params": {"lastName": "{{name}}", "company": "Lakeside Family Dental"},
                "maxRetries": 1,
            },
        },
        {"id": "human", "type": "handoff", "position": {"x": 100, "y": 200}, "data": {"reason": "No insurance"}},
        {"id": "done", "type": "end", "position": {"x": 0, "y": 300}, "data": {"outcome": "qualified"}},
    ]
    edges = [
        {"id": "e1", "source": "ask", "target": "insured"},
        {"id": "e2", "source": "insured", "target": "crm", "sourceHandle": "true"},
        {"id": "e3", "source": "insured", "target": "human", "sourceHandle": "false"},
        {"id": "e4", "source": "crm", "target": "done"},
        {"id": "e5", "source": "human", "target": "done"},
        {"id": "r1", "source": "crm", "target": "crm", "sourceHandle": "retry"},
    ]
    return {"nodes": nodes, "edges": edges}


def stored_profile(tenant_id: str, profile_id: str) -> dict[str, Any]:
    """The stored profile document."""
    from shared.onboarding.repository import OnboardingProfileRepository

    doc = OnboardingProfileRepository().read(profile_id, tenant_id)
    assert doc is not None
    return doc


def audit_events(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's audit events, newest first."""
    from shared.audit.repository import AuditRepository

    return AuditRepository().newest_for_tenant(tenant_id, 100)
