"""Connect, test, fail, see the exception, retry, see it resolve; a dead provider ends in the poison queue."""

from __future__ import annotations

import json
import logging
import time

from shared.exceptions import service as exceptions
from shared.platform.store import queues
from shared.platform.store.registry import INTEGRATION_RETRIES_QUEUE
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id
from tests.support.integrations import SIGNING_SECRET, WebhookReceiver, connect_webhook
from tests.support.sessions import HEALTHCARE_INTAKE, finalize_payload, key_headers, start_session

POISON_QUEUE = f"{INTEGRATION_RETRIES_QUEUE}-poison"


class Recorder:
    """Every response of a test, so the test can prove no secret ever came back."""

    def __init__(self, client) -> None:
        self.client = client
        self.texts: list[str] = []

    def __call__(self, method: str, url: str, **kwargs):
        response = self.client.request(method, url, **kwargs)
        self.texts.append(response.text)
        return response


def failed_intake(call, tokens, tenant: str) -> dict:
    session = start_session(call.client, "healthcare-intake", headers=tokens.headers(tenant, "operator"))
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=HEALTHCARE_INTAKE)
    assert call("POST", "/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    return session


def session_doc(call, session: dict) -> dict:
    response = call("GET", f"/api/sessions/{session['sessionId']}", headers=key_headers(session))
    assert response.status_code == 200
    return response.json()


def poisoned(exception_id: str) -> list[dict]:
    """The poison-queue messages of one exception (taken off the queue)."""
    queue = queues.get_queue(POISON_QUEUE)
    found = []
    for message in queue.receive_messages(max_messages=32, visibility_timeout=5):
        body = json.loads(message.content)
        if body.get("exceptionId") == exception_id:
            found.append(body)
            queue.delete_message(message)
    return found


def test_connect_test_fail_retry_and_resolve(client, tokens, devhost, loopback, provider_server, caplog):
    caplog.set_level(logging.DEBUG)
    call = Recorder(client)
    tenant = new_tenant_id("desk")
    admin, operator = tokens.headers(tenant, "admin"), tokens.headers(tenant, "operator")
    receiver = WebhookReceiver(provider_server)
    connected = connect_webhook(client, admin, receiver.url)
    call.texts.append(connected.text)
    assert connected.status_code == 200
    assert call("POST", "/api/cp/integrations/signed_webhook/test", json={}, headers=admin).json()["status"] == (
        "connected"
    )

    receiver.status = 503
    session = failed_intake(call, tokens, tenant)
    stored = session_doc(call, session)
    (outcome,) = stored["integrationOutcomes"]
    assert (outcome["status"], outcome["kind"], outcome["retryable"], outcome["retryCount"]) == (
        "failed",
        "webhook",
        True,
        0,
    )
    assert outcome["idempotencyKey"] == f"intake:{session['sessionId']}:webhook"
    (copy,) = stored["bookingExceptions"]
    assert (copy["id"], copy["reasonCode"], copy["status"], copy["connectorKind"]) == (
        outcome["id"],
        "connector_unavailable",
        "open",
        "webhook",
    )
    assert "retry" in copy["suggestedActions"]

    desk = call("GET", "/api/cp/sessions/exceptions", headers=operator).json()["exceptions"]
    assert [(e["id"], e["sessionId"], e["errorType"], e["status"]) for e in desk] == [
        (outcome["id"], session["sessionId"], "connector_unavailable", "open")
    ]
    detail = call("GET", f"/api/cp/sessions/exceptions/{outcome['id']}", headers=operator).json()["exception"]
    assert "HTTP 503" in detail["errorMessage"] and detail["timestamp"] == desk[0]["timestamp"]

    receiver.status = 200
    retried = call(
        "POST",
        f"/api/cp/sessions/{session['sessionId']}/retry-integration",
        json={"integrationId": outcome["id"], "action": "intake.completed"},
        headers=operator,
    )
    assert retried.status_code == 200
    assert retried.json()["result"] == {
        "deliveryId": outcome["id"],
        "sessionId": session["sessionId"],
        "providerId": "signed_webhook",
        "action": "intake.completed",
        "idempotencyKey": outcome["idempotencyKey"],
        "status": "queued",
    }
    devhost.drain_queues(timeout=30)

    first, second = receiver.events("intake.completed")
    assert first["answered"] == 503 and second["answered"] == 200
    # The retry is the same delivery: same key, same event id and body (occurredAt is the first attempt).
    assert first["idempotencyKey"] == second["idempotencyKey"] == outcome["idempotencyKey"]
    assert first["raw"] == second["raw"]
    assert second["body"]["data"]["patient"]["memberId"] == "W123456789"

    resolved = call("GET", f"/api/cp/sessions/exceptions/{outcome['id']}", headers=operator).json()["exception"]
    assert resolved["status"] == "resolved" and "Delivered on retry" in resolved["resolutionNotes"]
    after = session_doc(call, session)
    (sent,) = after["integrationOutcomes"]
    assert (sent["status"], sent["retryCount"], sent["retryable"]) == ("sent", 1, False)
    assert "errorMessage" not in sent
    (copy,) = after["bookingExceptions"]
    assert (copy["status"], copy["lastAction"]) == ("resolved", "retry")
    log = call("GET", "/api/cp/integrations/activity-log", headers=operator).json()["entries"]
    assert [(e["action"], e["success"]) for e in log] == [
        ("send_event", True),
        ("send_event", False),
        ("health_check", True),
    ]
    again = call(
        "POST",
        f"/api/cp/sessions/{session['sessionId']}/retry-integration",
        json={"integrationId": outcome["id"], "action": "intake.completed"},
        headers=operator,
    )
    assert (again.status_code, again.json()["error"]) == (400, "not_failed")

    assert all(SIGNING_SECRET not in text for text in call.texts)
    assert SIGNING_SECRET not in caplog.text
    stored_exception = exceptions.exceptions.read(outcome["id"], tenant)
    assert "params" not in stored_exception["delivery"]  # delivered: the payload is not kept
    assert SIGNING_SECRET not in json.dumps(stored_exception)


def test_a_stopped_provider_ends_in_the_poison_queue_with_the_exception_open(
    client, tokens, devhost, loopback, provider_server, caplog
):
    caplog.set_level(logging.DEBUG)
    call = Recorder(client)
    tenant = new_tenant_id("desk")
    admin, operator = tokens.headers(tenant, "admin"), tokens.headers(tenant, "operator")
    receiver = WebhookReceiver(provider_server)
    assert connect_webhook(client, admin, receiver.url).status_code == 200
    receiver.status = 502
    session = failed_intake(call, tokens, tenant)
    (outcome,) = session_doc(call, session)["integrationOutcomes"]
    provider_server.stop()
    assert (
        call(
            "POST",
            f"/api/cp/sessions/{session['sessionId']}/retry-integration",
            json={"integrationId": outcome["id"], "action": "intake.completed"},
            headers=operator,
        ).status_code
        == 200
    )
    devhost.drain_queues(timeout=60)

    exception = call("GET", f"/api/cp/sessions/exceptions/{outcome['id']}", headers=operator).json()["exception"]
    assert exception["status"] == "open"
    assert "Retry 3 failed" in exception["errorMessage"] and "integration-retries-poison" in exception["errorMessage"]
    (message,) = poisoned(outcome["id"])
    assert (message["tenantId"], message["attempt"]) == (tenant, 3)
    after = session_doc(call, session)
    (failed,) = after["integrationOutcomes"]
    assert (failed["status"], failed["retryCount"]) == ("failed", 3)
    assert after["bookingExceptions"][0]["status"] == "open"
    log = call("GET", "/api/cp/integrations/activity-log", headers=operator).json()["entries"]
    assert [e["success"] for e in log] == [False, False, False, False]  # the intake, then three retries
    stored = exceptions.exceptions.read(outcome["id"], tenant)
    assert stored["delivery"]["attempts"] == 4 and stored["delivery"]["errorClass"] == "network"
    assert stored["delivery"]["params"]["event"] == "intake.completed"  # kept for an operator's later retry
    assert all(SIGNING_SECRET not in text for text in call.texts)
    assert SIGNING_SECRET not in caplog.text


def test_retries_back_off_between_attempts(client, tokens, devhost, loopback, provider_server, settings_env):
    settings_env.setenv("INTEGRATION_RETRY_BASE_DELAY_SECONDS", "2")
    settings_env.setenv("INTEGRATION_RETRY_MAX_ATTEMPTS", "2")
    reset_clients()
    call = Recorder(client)
    tenant = new_tenant_id("desk")
    receiver = WebhookReceiver(provider_server)
    assert connect_webhook(client, tokens.headers(tenant, "admin"), receiver.url).status_code == 200
    receiver.status = 503
    session = failed_intake(call, tokens, tenant)
    (outcome,) = session_doc(call, session)["integrationOutcomes"]
    call(
        "POST",
        f"/api/cp/sessions/{session['sessionId']}/retry-integration",
        json={"integrationId": outcome["id"], "action": "intake.completed"},
        headers=tokens.headers(tenant, "operator"),
    )
    started = time.monotonic()
    devhost.drain_queues(timeout=30)
    elapsed = time.monotonic() - started
    deliveries = receiver.events("intake.completed")
    assert len(deliveries) == 3  # finalize, retry 1, retry 2 (after the back-off)
    assert elapsed >= 2.0
    assert len(poisoned(outcome["id"])) == 1


def test_retry_refusals(client, tokens, loopback, provider_server):
    call = Recorder(client)
    tenant = new_tenant_id("desk")
    operator = tokens.headers(tenant, "operator")
    receiver = WebhookReceiver(provider_server)
    assert connect_webhook(client, tokens.headers(tenant, "admin"), receiver.url).status_code == 200
    sent_session = failed_intake(call, tokens, tenant)  # the receiver answers 200: this delivery succeeded
    (sent,) = session_doc(call, sent_session)["integrationOutcomes"]
    assert sent["status"] == "sent"
    url = f"/api/cp/sessions/{sent_session['sessionId']}/retry-integration"
    not_failed = call("POST", url, json={"integrationId": sent["id"], "action": "intake.completed"}, headers=operator)
    assert (not_failed.status_code, not_failed.json()["error"]) == (400, "not_failed")
    unknown = call("POST", url, json={"integrationId": "f" * 32, "action": "intake.completed"}, headers=operator)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "integration_not_found")
    receiver.status = 500
    failed_session = failed_intake(call, tokens, tenant)
    (failed,) = session_doc(call, failed_session)["integrationOutcomes"]
    url = f"/api/cp/sessions/{failed_session['sessionId']}/retry-integration"
    mismatch = call("POST", url, json={"integrationId": failed["id"], "action": "tool.run"}, headers=operator)
    assert (mismatch.status_code, mismatch.json()["error"]) == (400, "action_mismatch")
    stranger = tokens.headers(new_tenant_id("desk"), "operator")
    other = call("POST", url, json={"integrationId": failed["id"], "action": "intake.completed"}, headers=stranger)
    assert other.status_code == 404
    viewer = call(
        "POST",
        url,
        json={"integrationId": failed["id"], "action": "intake.completed"},
        headers=tokens.headers(tenant, "viewer"),
    )
    assert viewer.status_code == 403
    ignored = call(
        "POST", f"/api/cp/sessions/exceptions/{failed['id']}/action", json={"action": "ignore"}, headers=operator
    )
    assert ignored.json()["exception"]["status"] == "ignored"
    closed = call("POST", url, json={"integrationId": failed["id"], "action": "intake.completed"}, headers=operator)
    assert (closed.status_code, closed.json()["error"]) == (400, "not_retryable")


def test_retry_all_queues_every_open_repeatable_failure(client, tokens, devhost, loopback, provider_server):
    call = Recorder(client)
    tenant = new_tenant_id("desk")
    operator = tokens.headers(tenant, "operator")
    receiver = WebhookReceiver(provider_server)
    assert connect_webhook(client, tokens.headers(tenant, "admin"), receiver.url).status_code == 200
    receiver.status = 503
    sessions = [failed_intake(call, tokens, tenant) for _ in range(2)]
    # A call the provider may have placed without an idempotency key is left to an operator.
    unknown = exceptions.build(
        tenant,
        sessions[0]["sessionId"],
        category="telephony",
        error_type="telephony_call_failed",
        title="Call outcome unknown",
        message="Twilio did not answer in time",
        delivery={"id": "x", "status": "failed", "errorClass": "outcome_unknown", "kind": "telephony"},
    )
    exceptions.store(unknown)
    receiver.status = 200
    response = call("POST", "/api/cp/sessions/retry-all-integrations", headers=operator)
    assert response.json() == {"success": True, "queuedCount": 2}
    devhost.drain_queues(timeout=30)
    for session in sessions:
        (outcome,) = session_doc(call, session)["integrationOutcomes"]
        assert outcome["status"] == "sent"
    desk = {
        e["id"]: e["status"] for e in call("GET", "/api/cp/sessions/exceptions", headers=operator).json()["exceptions"]
    }
    assert sorted(desk.values()) == ["open", "resolved", "resolved"] and desk[unknown["id"]] == "open"
    assert call("POST", "/api/cp/sessions/retry-all-integrations", json={}, headers=operator).json()["queuedCount"] == 0
    refused = call("POST", "/api/cp/sessions/retry-all-integrations", json={"all": True}, headers=operator)
    assert refused.status_code == 400


def test_retry_all_stays_in_the_callers_tenant(client, tokens, loopback, provider_server):
    call = Recorder(client)
    tenant = new_tenant_id("desk")
    receiver = WebhookReceiver(provider_server)
    assert connect_webhook(client, tokens.headers(tenant, "admin"), receiver.url).status_code == 200
    receiver.status = 503
    failed_intake(call, tokens, tenant)
    stranger = tokens.headers(new_tenant_id("desk"), "operator")
    assert call("POST", "/api/cp/sessions/retry-all-integrations", headers=stranger).json()["queuedCount"] == 0
