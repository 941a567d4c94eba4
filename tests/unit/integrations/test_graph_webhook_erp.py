"""Microsoft Graph calendar, our signed webhook and the ERP REST shape against loopback fakes."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shared.integrations.clients.base import key_uuid
from shared.integrations.dispatch import execute, health_check

KEY = "booking:sess-9:calendar"


def graph(server: HTTPServer) -> dict:
    return {
        "tenantId": "contoso.onmicrosoft.com",
        "clientId": "11111111-2222-3333-4444-555555555555",
        "clientSecret": "graph-secret-value",
        "userId": "frontdesk@contoso.example",
        "authorityUrl": server.url_for("/login"),
        "graphBaseUrl": server.url_for("/v1.0"),
    }


def expect_graph_token(server: HTTPServer) -> None:
    origin = server.url_for("/").rstrip("/")

    def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        assert form == {
            "grant_type": "client_credentials",
            "client_id": "11111111-2222-3333-4444-555555555555",
            "client_secret": "graph-secret-value",
            "scope": f"{origin}/.default",
        }
        body = {"token_type": "Bearer", "expires_in": 3599, "access_token": "graph-access-token"}
        return Response(json.dumps(body), content_type="application/json")

    server.expect_ordered_request(
        "/login/contoso.onmicrosoft.com/oauth2/v2.0/token", method="POST"
    ).respond_with_handler(token)


def test_graph_create_event_posts_the_event_with_a_transaction_id(httpserver: HTTPServer):
    expect_graph_token(httpserver)
    event = {
        "subject": "New patient visit",
        "start": {"dateTime": "2026-12-03T15:00:00.000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-03T15:30:00.000", "timeZone": "UTC"},
        "transactionId": key_uuid(KEY),
        "body": {"contentType": "text", "content": "Booked by the Tellgence agent"},
        "location": {"displayName": "Room 2"},
        "attendees": [{"emailAddress": {"address": "jane@example.com", "name": "Jane"}, "type": "required"}],
    }
    httpserver.expect_ordered_request(
        "/v1.0/users/frontdesk@contoso.example/events",
        method="POST",
        headers={"Authorization": "Bearer graph-access-token", "Content-Type": "application/json"},
        json=event,
    ).respond_with_json({"id": "AAMkAD=", "webLink": "https://outlook.example/e/1", "iCalUId": "0400"}, status=201)
    params = {
        "subject": "New patient visit",
        "start": "2026-12-03T10:00:00-05:00",
        "end": "2026-12-03T10:30:00-05:00",
        "body": "Booked by the Tellgence agent",
        "location": "Room 2",
        "attendees": [{"email": "jane@example.com", "name": "Jane"}],
    }
    result = execute("microsoft_graph_calendar", "create_event", graph(httpserver), params, idempotency_key=KEY)
    httpserver.check_assertions()
    assert result.ok and result.response_code == 201
    assert result.external_id == "AAMkAD="
    assert result.data == {"id": "AAMkAD=", "webLink": "https://outlook.example/e/1", "iCalUId": "0400"}
    dumped = json.dumps(result.to_dict())
    assert "graph-access-token" not in dumped and "graph-secret-value" not in dumped


def test_the_transaction_id_is_stable_per_key_and_uuid_shaped():
    assert key_uuid(KEY) == key_uuid(KEY)
    assert key_uuid(KEY) != key_uuid(KEY + "x")
    assert key_uuid(KEY)[14] == "4"


def test_graph_health_reads_the_owners_calendar(httpserver: HTTPServer):
    expect_graph_token(httpserver)
    httpserver.expect_ordered_request(
        "/v1.0/users/frontdesk@contoso.example/calendar",
        method="GET",
        query_string={"$select": "id,name"},
        headers={"Authorization": "Bearer graph-access-token"},
    ).respond_with_json({"id": "cal-1", "name": "Calendar"})
    result = health_check("microsoft_graph_calendar", graph(httpserver))
    httpserver.check_assertions()
    assert result.ok and result.message == "Calendar Calendar is reachable"


def test_graph_throttling_and_token_errors_are_classified(httpserver: HTTPServer):
    expect_graph_token(httpserver)
    httpserver.expect_ordered_request("/v1.0/users/frontdesk@contoso.example/events", method="POST").respond_with_json(
        {"error": {"code": "ApplicationThrottled", "message": "Too many requests"}},
        status=429,
        headers={"Retry-After": "3"},
    )
    params = {"subject": "x", "start": "2026-12-03T10:00:00Z", "end": "2026-12-03T11:00:00Z"}
    result = execute("microsoft_graph_calendar", "create_event", graph(httpserver), params, idempotency_key=KEY)
    assert result.error_class == "rate_limited" and result.retryable
    assert result.retry_after_seconds == 3.0
    assert result.summary == "Microsoft 365 Calendar answered HTTP 429: Too many requests"


def test_graph_bad_client_secret_is_an_auth_failure(httpserver: HTTPServer):
    httpserver.expect_request("/login/contoso.onmicrosoft.com/oauth2/v2.0/token", method="POST").respond_with_json(
        {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}, status=401
    )
    result = health_check("microsoft_graph_calendar", graph(httpserver))
    assert result.status == "failed" and result.error_class == "auth_failed"
    assert "AADSTS7000215" in result.message
    assert "graph-secret-value" not in result.message


def webhook(server: HTTPServer) -> dict:
    return {"url": server.url_for("/hooks/tellgence"), "signingSecret": "whsec-0123456789abcdef"}


def test_webhook_event_is_signed_and_carries_the_idempotency_key(httpserver: HTTPServer):
    captured: list[Request] = []

    def receiver(request: Request) -> Response:
        captured.append(request)
        return Response("", status=204)

    httpserver.expect_request("/hooks/tellgence", method="POST").respond_with_handler(receiver)
    first_sent = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    params = {"event": "intake.completed", "data": {"sessionId": "sess-1", "fields": ["fullName"]}}
    result = execute(
        "signed_webhook", "send_event", webhook(httpserver), params, idempotency_key=KEY, first_sent_at=first_sent
    )
    assert result.ok and result.response_code == 204
    request = captured[0]
    body = request.get_data()
    assert json.loads(body) == {
        "id": key_uuid(KEY),
        "event": "intake.completed",
        "occurredAt": "2026-12-02T10:00:00.000Z",
        "data": {"sessionId": "sess-1", "fields": ["fullName"]},
    }
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == KEY
    timestamp = request.headers["X-Tellgence-Timestamp"]
    expected = hmac.new(b"whsec-0123456789abcdef", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert request.headers["X-Tellgence-Signature"] == f"v1={expected}"
    assert result.external_id == key_uuid(KEY)


def test_a_retried_webhook_sends_the_same_event_id_and_body(httpserver: HTTPServer):
    bodies: list[bytes] = []
    httpserver.expect_request("/hooks/tellgence", method="POST").respond_with_handler(
        lambda request: bodies.append(request.get_data()) or Response("", status=500)
    )
    first_sent = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    params = {"event": "intake.completed", "data": {"n": 1}}
    for _ in range(2):
        result = execute(
            "signed_webhook", "send_event", webhook(httpserver), params, idempotency_key=KEY, first_sent_at=first_sent
        )
        assert result.error_class == "provider_error" and result.retryable
    assert bodies[0] == bodies[1]


def test_webhook_health_is_a_signed_ping(httpserver: HTTPServer):
    captured: list[Request] = []
    httpserver.expect_request("/hooks/tellgence", method="POST").respond_with_handler(
        lambda request: captured.append(request) or Response("ok")
    )
    result = health_check("signed_webhook", webhook(httpserver))
    assert result.ok
    assert json.loads(captured[0].get_data())["event"] == "connector.test"
    assert captured[0].headers["Idempotency-Key"].startswith("connector-test:")
    assert captured[0].headers["X-Tellgence-Signature"].startswith("v1=")


def test_a_webhook_that_refuses_is_a_permanent_failure(httpserver: HTTPServer):
    httpserver.expect_request("/hooks/tellgence").respond_with_json({"message": "bad signature"}, status=401)
    result = health_check("signed_webhook", webhook(httpserver))
    assert result.error_class == "auth_failed"
    assert result.message == "Signed webhook answered HTTP 401: bad signature"


def erp(server: HTTPServer) -> dict:
    return {"baseUrl": server.url_for("/erp"), "apiKey": "erp-key-abc123"}


def test_erp_upsert_customer(httpserver: HTTPServer):
    params = {"externalId": "tenant-a:patient-1", "name": "Jane Public", "email": "jane@example.com"}
    httpserver.expect_request(
        "/erp/v1/customers/tenant-a:patient-1",
        method="PUT",
        headers={"Authorization": "Bearer erp-key-abc123", "Idempotency-Key": KEY, "Content-Type": "application/json"},
        json=params,
    ).respond_with_json({"id": "cus_1", "externalId": "tenant-a:patient-1"}, status=201)
    result = execute("erp_rest", "upsert_customer", erp(httpserver), params, idempotency_key=KEY)
    httpserver.check_assertions()
    assert httpserver.log[0][0].environ["REQUEST_URI"] == "/erp/v1/customers/tenant-a%3Apatient-1"
    assert result.ok and result.external_id == "cus_1"
    assert result.data == {"id": "cus_1", "replayed": False}


def test_erp_invoice_replay_is_recognised(httpserver: HTTPServer):
    params = {
        "customerExternalId": "tenant-a:patient-1",
        "currency": "USD",
        "lines": [{"description": "Consultation", "quantity": 1, "unitAmountMinor": 15000}],
        "reference": "sess-9",
    }
    httpserver.expect_request(
        "/erp/v1/invoices", method="POST", headers={"Idempotency-Key": KEY}, json=params
    ).respond_with_json(
        {"id": "inv_7", "number": "2026-0007", "status": "open"}, status=200, headers={"Idempotent-Replayed": "true"}
    )
    result = execute("erp_rest", "create_invoice", erp(httpserver), params, idempotency_key=KEY)
    assert result.ok
    assert result.data == {"id": "inv_7", "replayed": True, "number": "2026-0007", "status": "open"}
    assert result.summary == "Invoice inv_7 already recorded"


def test_erp_key_reuse_with_another_body_is_permanent(httpserver: HTTPServer):
    httpserver.expect_request("/erp/v1/invoices", method="POST").respond_with_json(
        {"error": "idempotency_key_reused", "message": "The key was used with a different request"}, status=422
    )
    params = {
        "customerExternalId": "c",
        "currency": "USD",
        "lines": [{"description": "x", "quantity": 1, "unitAmountMinor": 1}],
    }
    result = execute("erp_rest", "create_invoice", erp(httpserver), params, idempotency_key=KEY)
    assert result.error_class == "rejected" and not result.retryable
    assert result.summary == "ERP (REST v1) answered HTTP 422: The key was used with a different request"


def test_erp_health(httpserver: HTTPServer):
    httpserver.expect_request(
        "/erp/v1/health", method="GET", headers={"Authorization": "Bearer erp-key-abc123"}
    ).respond_with_json({"status": "ok"})
    assert health_check("erp_rest", erp(httpserver)).ok
    httpserver.clear()
    httpserver.expect_request("/erp/v1/health").respond_with_data("<html>maintenance</html>", content_type="text/html")
    result = health_check("erp_rest", erp(httpserver))
    assert result.error_class == "invalid_response"


def test_a_token_the_api_refuses_is_not_reused(httpserver: HTTPServer):
    issued: list[str] = []

    def token(request: Request) -> Response:
        issued.append(f"graph-token-{len(issued) + 1}")
        return Response(json.dumps({"token_type": "Bearer", "expires_in": 3599, "access_token": issued[-1]}))

    httpserver.expect_request("/login/contoso.onmicrosoft.com/oauth2/v2.0/token").respond_with_handler(token)
    httpserver.expect_request(
        "/v1.0/users/frontdesk@contoso.example/calendar", headers={"Authorization": "Bearer graph-token-1"}
    ).respond_with_json({"error": {"code": "InvalidAuthenticationToken", "message": "revoked"}}, status=401)
    httpserver.expect_request(
        "/v1.0/users/frontdesk@contoso.example/calendar", headers={"Authorization": "Bearer graph-token-2"}
    ).respond_with_json({"id": "cal-1", "name": "Calendar"})
    first = health_check("microsoft_graph_calendar", graph(httpserver))
    second = health_check("microsoft_graph_calendar", graph(httpserver))
    assert first.error_class == "auth_failed" and "graph-token-1" not in first.message
    assert second.ok
    assert issued == ["graph-token-1", "graph-token-2"]
