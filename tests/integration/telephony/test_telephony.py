"""The telephony webhook (signed Twilio and ACS events) and outbound calls through loopback providers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlencode

from pytest_httpserver import HTTPServer

from tests.conftest import TEST_ENVIRONMENT
from tests.support.identity import new_tenant_id

SECRET = TEST_ENVIRONMENT["TELEPHONY_WEBHOOK_SECRET"]
SID = "AC" + "a1" * 16
TOKEN = "twilio-auth-token-0001"
HOOK = "/api/webhooks/telephony-events"


def signed(body: bytes) -> dict[str, str]:
    return {"X-Telephony-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


def post_form(client, fields: dict, query: str = "", signature: dict | None = None):
    body = urlencode(fields).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **(signature if signature is not None else signed(body)),
    }
    return client.post(HOOK + query, content=body, headers=headers)


def post_json(client, value, signature: dict | None = None):
    body = json.dumps(value).encode()
    headers = {"Content-Type": "application/json", **(signature if signature is not None else signed(body))}
    return client.post(HOOK, content=body, headers=headers)


def connect_twilio(client, admin, server: HTTPServer):
    response = client.put(
        "/api/cp/integrations/practice-connectors/telephony",
        json={
            "providerId": "twilio_voice",
            "config": {
                "accountSid": SID,
                "authToken": TOKEN,
                "fromNumber": "+15005550006",
                "voiceUrl": server.url_for("/twiml/agent"),
                "statusCallbackUrl": server.url_for(HOOK),
                "apiBaseUrl": server.url_for("/"),
            },
        },
        headers=admin,
    )
    assert response.status_code == 200, response.text


def test_outbound_calls_reach_twilio_as_documented_and_status_callbacks_build_the_log(
    client, tokens, loopback, provider_server
):
    tenant = new_tenant_id("tel")
    connect_twilio(client, tokens.headers(tenant, "admin"), provider_server)
    operator = tokens.headers(tenant, "operator")
    call_sid = "CA" + "f" * 32
    provider_server.expect_request(
        f"/2010-04-01/Accounts/{SID}/Calls.json",
        method="POST",
        headers={"Authorization": "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()},
    ).respond_with_json({"sid": call_sid, "status": "queued"}, status=201)
    started = client.post(
        "/api/cp/sessions/outbound",
        json={"phoneNumber": "+14155551212", "scenarioId": "insurance-fnol"},
        headers=operator,
    )
    assert started.status_code == 200, started.text
    session_id = started.json()["sessionId"]
    provider_server.check_assertions()
    ((request, _),) = provider_server.log
    form = parse_qs(request.get_data(as_text=True))
    assert form["To"] == ["+14155551212"] and form["From"] == ["+15005550006"]
    assert form["Url"] == [provider_server.url_for("/twiml/agent")]
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert f"sessionId={session_id}" in form["StatusCallback"][0]

    base = {"CallSid": call_sid, "AccountSid": SID, "Direction": "outbound-api", "To": "+14155551212"}
    ringing = {**base, "CallStatus": "ringing", "Timestamp": "Tue, 01 Dec 2026 10:00:01 +0000", "SequenceNumber": "1"}
    answered = {
        **base,
        "CallStatus": "in-progress",
        "Timestamp": "Tue, 01 Dec 2026 10:00:05 +0000",
        "SequenceNumber": "2",
    }
    completed = {
        **base,
        "CallStatus": "completed",
        "Timestamp": "Tue, 01 Dec 2026 10:03:00 +0000",
        "SequenceNumber": "3",
        "CallDuration": "175",
    }
    for fields in (completed, ringing, answered):  # out of order on purpose
        assert post_form(client, fields).status_code == 200
    replay = post_form(client, ringing)
    assert replay.status_code == 200 and replay.json() == {"success": True, "applied": 0, "duplicates": 1}
    log = client.get(f"/api/sessions/{session_id}/channel-events", headers=operator).json()
    provider_events = [(e["type"], e["status"]) for e in log["events"] if e["type"] != "outbound_initiated"]
    assert provider_events == [
        ("call_status", "ringing"),
        ("call_status", "in-progress"),
        ("call_completed", "completed"),
    ]
    kinds = [e["type"] for e in log["events"]]
    assert (
        kinds.count("call_status") == 2
        and kinds.count("call_completed") == 1
        and kinds.count("outbound_initiated") == 1
    )
    stamps = [e["timestamp"] for e in log["events"] if e["type"] != "outbound_initiated"]
    assert stamps == sorted(stamps)


def test_unsigned_tampered_and_unknown_events_are_refused(client):
    fields = {"CallSid": "CA" + "0" * 32, "CallStatus": "ringing", "Direction": "outbound-api"}
    assert post_form(client, fields, signature={}).status_code == 401
    body = urlencode(fields).encode()
    tampered = client.post(
        HOOK,
        content=body.replace(b"ringing", b"completed"),
        headers={"Content-Type": "application/x-www-form-urlencoded", **signed(body)},
    )
    assert tampered.status_code == 401
    unknown = post_form(client, fields)
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_call"
    assert post_json(client, {"hello": "world"}).status_code == 400


def test_an_inbound_acs_call_creates_a_session_for_the_numbers_tenant(client, tokens):
    connection = "c2-" + "1" * 20
    incoming = {
        "id": "evt-incoming-1",
        "source": "calling/callConnections",
        "type": "Microsoft.Communication.IncomingCall",
        "time": "2026-12-01T09:00:00Z",
        "specversion": "1.0",
        "data": {
            "to": {"kind": "phoneNumber", "phoneNumber": {"value": "+15550009999"}},
            "from": {"kind": "phoneNumber", "phoneNumber": {"value": "+14155550000"}},
            "serverCallId": connection,
        },
    }
    assert post_json(client, [incoming]).status_code == 200
    later = [
        {
            "id": "evt-2",
            "type": "Microsoft.Communication.CallConnected",
            "time": "2026-12-01T09:00:03Z",
            "data": {"serverCallId": connection},
        },
        {
            "id": "evt-3",
            "type": "Microsoft.Communication.CallDisconnected",
            "time": "2026-12-01T09:05:00Z",
            "data": {"serverCallId": connection},
        },
    ]
    assert post_json(client, later).json() == {"success": True, "applied": 2, "duplicates": 0}
    assert post_json(client, later).json() == {"success": True, "applied": 0, "duplicates": 2}
    operator = tokens.headers("tel-inbound", "operator")
    sessions = client.get("/api/cp/sessions", headers=operator).json()["sessions"]
    session = next(s for s in sessions if (s.get("interactionSummary") or {}).get("direction") == "inbound")
    assert session["interactionSummary"]["contact"] == {"phoneNumber": "+14155550000"}
    log = client.get(f"/api/sessions/{session['id']}/channel-events", headers=operator).json()["events"]
    assert [(e["type"], e["status"]) for e in log] == [
        ("inbound_received", "ringing"),
        ("call_status", "connected"),
        ("call_completed", "completed"),
    ]


def test_outbound_without_a_connector_or_with_a_failing_provider_is_never_a_success(
    client, tokens, loopback, provider_server
):
    tenant = new_tenant_id("tel")
    operator = tokens.headers(tenant, "operator")
    body = {"phoneNumber": "+14155551212", "scenarioId": "insurance-fnol"}
    refused = client.post("/api/cp/sessions/outbound", json=body, headers=operator)
    assert refused.status_code == 400 and refused.json()["error"] == "telephony_not_configured"
    assert client.get("/api/cp/sessions", headers=operator).json()["count"] == 0
    bad_number = client.post("/api/cp/sessions/outbound", json={**body, "phoneNumber": "555-1212"}, headers=operator)
    assert bad_number.status_code == 400
    connect_twilio(client, tokens.headers(tenant, "admin"), provider_server)
    provider_server.expect_request(f"/2010-04-01/Accounts/{SID}/Calls.json", method="POST").respond_with_json(
        {"code": 21211, "message": "Invalid 'To' Phone Number"}, status=400
    )
    failed = client.post("/api/cp/sessions/outbound", json=body, headers=operator)
    assert failed.status_code == 400 and failed.json()["error"] == "telephony_provider_error", failed.text
    session_id = failed.json()["sessionId"]
    log = client.get(f"/api/sessions/{session_id}/channel-events", headers=operator).json()["events"]
    assert [e["type"] for e in log] == ["provider_error"]
    desk = client.get("/api/cp/sessions/exceptions", headers=operator).json()["exceptions"]
    assert [(e["sessionId"], e["errorType"], e["status"]) for e in desk] == [
        (session_id, "outbound_call_failed", "open")
    ]
