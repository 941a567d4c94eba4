"""Twilio Calls API and ACS Call Automation createCall against loopback fakes asserting the exact requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shared.integrations.clients.base import key_uuid
from shared.integrations.dispatch import execute, health_check

SID = "AC" + "a1" * 16
TOKEN = "twilio-auth-token-0001"
KEY = "outbound:sess-3:telephony"


def twilio(server: HTTPServer, **extra: str) -> dict:
    return {
        "accountSid": SID,
        "authToken": TOKEN,
        "fromNumber": "+15005550006",
        "voiceUrl": server.url_for("/twiml/agent"),
        "statusCallbackUrl": server.url_for("/api/webhooks/telephony-events"),
        "apiBaseUrl": server.url_for("/"),
        **extra,
    }


BASIC = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()


def test_twilio_place_call_is_a_form_post_with_basic_auth(httpserver: HTTPServer):
    callback = (
        httpserver.url_for("/api/webhooks/telephony-events")
        + "?"
        + urlencode({"idempotencyKey": KEY, "sessionId": "sess-3"})
    )
    form = [
        ("To", "+14155551212"),
        ("From", "+15005550006"),
        ("Url", httpserver.url_for("/twiml/agent")),
        ("StatusCallback", callback),
        ("StatusCallbackMethod", "POST"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
    ]
    httpserver.expect_request(
        f"/2010-04-01/Accounts/{SID}/Calls.json",
        method="POST",
        headers={"Authorization": BASIC, "Content-Type": "application/x-www-form-urlencoded"},
        data=urlencode(form),
    ).respond_with_json({"sid": "CA" + "f" * 32, "status": "queued"}, status=201)
    result = execute(
        "twilio_voice",
        "place_call",
        twilio(httpserver),
        {"to": "+14155551212", "sessionId": "sess-3"},
        idempotency_key=KEY,
    )
    httpserver.check_assertions()
    assert result.ok and result.response_code == 201
    assert result.external_id == "CA" + "f" * 32
    assert result.data == {"callSid": "CA" + "f" * 32, "status": "queued"}
    assert TOKEN not in json.dumps(result.to_dict())


def test_twilio_with_a_twiml_app_sends_its_sid(httpserver: HTTPServer):
    captured: list[Request] = []
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Calls.json").respond_with_handler(
        lambda request: captured.append(request) or Response(json.dumps({"sid": "CA1"}), status=201)
    )
    config = twilio(httpserver, applicationSid="AP" + "b2" * 16)
    del config["voiceUrl"], config["statusCallbackUrl"]
    assert execute("twilio_voice", "place_call", config, {"to": "+14155551212"}, idempotency_key=KEY).ok
    assert parse_qsl(captured[0].get_data(as_text=True)) == [
        ("To", "+14155551212"),
        ("From", "+15005550006"),
        ("ApplicationSid", "AP" + "b2" * 16),
    ]


def test_a_twilio_5xx_is_an_unknown_outcome_not_retried_automatically(httpserver: HTTPServer):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Calls.json").respond_with_json(
        {"code": 20500, "message": "Internal Server Error", "status": 500}, status=500
    )
    result = execute("twilio_voice", "place_call", twilio(httpserver), {"to": "+14155551212"}, idempotency_key=KEY)
    assert result.error_class == "outcome_unknown"
    assert result.retryable is False


def test_a_twilio_429_was_not_acted_on_and_is_retryable(httpserver: HTTPServer):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Calls.json").respond_with_json(
        {"code": 20429, "message": "Too Many Requests"}, status=429
    )
    result = execute("twilio_voice", "place_call", twilio(httpserver), {"to": "+14155551212"}, idempotency_key=KEY)
    assert result.error_class == "rate_limited" and result.retryable


def test_a_twilio_auth_error_is_permanent_and_names_twilios_reason(httpserver: HTTPServer):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}/Calls.json").respond_with_json(
        {"code": 20003, "message": "Authenticate", "status": 401}, status=401
    )
    result = execute("twilio_voice", "place_call", twilio(httpserver), {"to": "+14155551212"}, idempotency_key=KEY)
    assert result.error_class == "auth_failed" and not result.retryable
    assert result.summary == "Twilio Programmable Voice answered HTTP 401: Authenticate"


def test_twilio_health_checks_the_account_and_the_caller_number(httpserver: HTTPServer):
    httpserver.expect_ordered_request(
        f"/2010-04-01/Accounts/{SID}.json", method="GET", headers={"Authorization": BASIC}
    ).respond_with_json({"sid": SID, "status": "active"})
    httpserver.expect_ordered_request(
        f"/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers.json", query_string={"PhoneNumber": "+15005550006"}
    ).respond_with_json({"incoming_phone_numbers": []})
    httpserver.expect_ordered_request(
        f"/2010-04-01/Accounts/{SID}/OutgoingCallerIds.json", query_string={"PhoneNumber": "+15005550006"}
    ).respond_with_json({"outgoing_caller_ids": [{"phone_number": "+15005550006"}]})
    result = health_check("twilio_voice", twilio(httpserver))
    httpserver.check_assertions()
    assert result.ok and result.message == "Twilio account active; caller number verified"


def test_twilio_health_fails_for_a_suspended_account(httpserver: HTTPServer):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}.json").respond_with_json({"status": "suspended"})
    result = health_check("twilio_voice", twilio(httpserver))
    assert result.status == "failed" and result.message == "Twilio account is suspended, not active"


ACS_KEY = base64.b64encode(b"acs-access-key-bytes-for-testing").decode()
FIRST_SENT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def acs(server: HTTPServer) -> dict:
    return {
        "endpoint": server.url_for("/").rstrip("/"),
        "accessKey": ACS_KEY,
        "sourceCallerIdNumber": "+18005550100",
        "callbackUrl": server.url_for("/api/webhooks/telephony-events"),
    }


def verify_acs_signature(request: Request) -> None:
    """Recompute the documented HMAC-SHA256 scheme from what arrived."""
    body = request.get_data()
    content_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert request.headers["x-ms-content-sha256"] == content_hash
    date = request.headers["x-ms-date"]
    assert abs((parsedate_to_datetime(date) - datetime.now(UTC)).total_seconds()) < 60
    string_to_sign = (
        f"{request.method}\n{request.environ['REQUEST_URI']}\n{date};{request.headers['Host']};{content_hash}"
    )
    signature = base64.b64encode(
        hmac.new(base64.b64decode(ACS_KEY), string_to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    assert request.headers["Authorization"] == (
        f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
    )


def test_acs_create_call_is_signed_and_repeatable(httpserver: HTTPServer):
    captured: list[Request] = []

    def create_call(request: Request) -> Response:
        verify_acs_signature(request)
        captured.append(request)
        answer = {"callConnectionId": "cc-1", "serverCallId": "srv-1", "callConnectionState": "connecting"}
        return Response(json.dumps(answer), status=201, content_type="application/json")

    httpserver.expect_request(
        "/calling/callConnections",
        method="POST",
        query_string={"api-version": "2024-09-15"},
        headers={
            "Content-Type": "application/json",
            "Repeatability-Request-ID": key_uuid(KEY),
            "Repeatability-First-Sent": format_datetime(FIRST_SENT, usegmt=True),
        },
    ).respond_with_handler(create_call)
    result = execute(
        "acs_call_automation",
        "place_call",
        acs(httpserver),
        {"to": "+14155551212", "sessionId": "sess-3"},
        idempotency_key=KEY,
        first_sent_at=FIRST_SENT,
    )
    httpserver.check_assertions()
    assert result.ok, result.summary
    assert result.external_id == "cc-1"
    assert result.data == {"callConnectionId": "cc-1", "serverCallId": "srv-1", "state": "connecting"}
    callback = (
        httpserver.url_for("/api/webhooks/telephony-events")
        + "?"
        + urlencode({"idempotencyKey": KEY, "sessionId": "sess-3"})
    )
    assert json.loads(captured[0].get_data()) == {
        "targets": [{"kind": "phoneNumber", "phoneNumber": {"value": "+14155551212"}}],
        "sourceCallerIdNumber": {"value": "+18005550100"},
        "callbackUri": callback,
        "operationContext": "sess-3",
    }
    assert ACS_KEY not in json.dumps(result.to_dict())


def test_acs_errors_carry_the_service_message(httpserver: HTTPServer):
    httpserver.expect_request("/calling/callConnections", method="POST").respond_with_json(
        {"error": {"code": "8523", "message": "Invalid request: target is not a valid phone number"}}, status=400
    )
    result = execute("acs_call_automation", "place_call", acs(httpserver), {"to": "+14155551212"}, idempotency_key=KEY)
    assert result.error_class == "rejected"
    assert "target is not a valid phone number" in result.summary


def test_acs_5xx_is_retryable_because_the_request_is_repeatable(httpserver: HTTPServer):
    httpserver.expect_request("/calling/callConnections", method="POST").respond_with_data("", status=503)
    result = execute("acs_call_automation", "place_call", acs(httpserver), {"to": "+14155551212"}, idempotency_key=KEY)
    assert result.error_class == "provider_error" and result.retryable


def test_acs_health_checks_the_caller_number_can_call_out(httpserver: HTTPServer):
    captured: list[Request] = []

    def number(request: Request) -> Response:
        verify_acs_signature(request)
        captured.append(request)
        body = {"id": "18005550100", "phoneNumber": "+18005550100", "capabilities": {"calling": "inbound+outbound"}}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/phoneNumbers/+18005550100", method="GET").respond_with_handler(number)
    result = health_check("acs_call_automation", acs(httpserver))
    assert result.ok, result.message
    assert captured[0].environ["REQUEST_URI"] == "/phoneNumbers/%2B18005550100?api-version=2022-12-01"
    httpserver.clear()
    httpserver.expect_request("/phoneNumbers/+18005550100").respond_with_json({"capabilities": {"calling": "inbound"}})
    result = health_check("acs_call_automation", acs(httpserver))
    assert result.status == "failed"
    assert result.message == "The ACS caller number has no outbound calling capability"
