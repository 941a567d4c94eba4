"""Destination tests: a real email through the emails queue, a real signed webhook; failures are 200s that say so."""

from __future__ import annotations

import logging

from tests.support.identity import new_tenant_id
from tests.support.leads import outbox_messages
from tests.support.onboarding import WEBHOOK_SECRET, create_profile, stored_profile

BASE = "/api/cp/onboarding/fast-start"


def run_test(client, headers, profile_id: str, kind: str):
    response = client.post(f"{BASE}/{profile_id}/test-destination", json={"kind": kind}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def activity(client, headers) -> list[dict]:
    return client.get("/api/cp/integrations/activity-log", headers=headers).json()["entries"]


def test_the_email_test_reaches_the_recipients_through_the_queue(client, tokens, devhost):
    tenant = new_tenant_id("dst")
    admin = tokens.headers(tenant, "admin")
    recipients = ["frontdesk@lakeside-dental.test", "owner@lakeside-dental.test"]
    item = create_profile(client, admin, summaryRecipients=recipients)
    result = run_test(client, admin, item["id"], "email")
    assert result["ok"] is True and result["kind"] == "email" and result["profileId"] == item["id"]
    assert "queued for delivery to 2 recipient(s) via outbox" in result["message"]
    devhost.drain_queues()
    (mail,) = outbox_messages(item["id"])
    assert sorted(address.strip() for address in mail["To"].split(",")) == sorted(recipients)
    assert "Lakeside Family Dental" in mail["Subject"]
    view = client.get(f"{BASE}/{item['id']}", headers=admin).json()["item"]
    assert view["destinationStatus"] == {"email": {k: result[k] for k in ("kind", "ok", "checkedAt", "message")}}
    assert view["checklist"]["destinationsTested"] is True  # no webhook configured: email is the destination
    (entry,) = activity(client, tokens.headers(tenant, "operator"))
    assert (entry["providerId"], entry["action"], entry["success"]) == ("email", "test_destination", True)
    # New recipients make the earlier test say nothing about them.
    changed = client.patch(
        f"{BASE}/{item['id']}", json={"summaryRecipients": ["new@lakeside-dental.test"]}, headers=admin
    )
    assert changed.json()["item"]["destinationStatus"] == {}
    assert changed.json()["item"]["checklist"]["destinationsTested"] is False


def test_the_webhook_test_is_signed_with_the_configured_header(client, tokens, receiver):
    tenant = new_tenant_id("dst")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin, webhook=receiver.webhook())
    result = run_test(client, admin, item["id"], "webhook")
    assert result["ok"] is True and "HTTP 200" in result["message"]
    (ping,) = receiver.events("onboarding.destination_test")
    assert ping["signatureOk"] is True
    assert ping["body"]["data"] == {"profileId": item["id"], "companyName": "Lakeside Family Dental", "test": True}
    assert ping["idempotencyKey"].startswith(f"onboarding-test:{item['id']}:")
    assert "X-Tellgence-Signature" not in ping["headers"]
    assert WEBHOOK_SECRET not in str(ping["headers"]) and WEBHOOK_SECRET not in str(ping["body"])
    status = stored_profile(tenant, item["id"])["destinationStatus"]["webhook"]
    assert status["ok"] is True and status["checkedAt"] == result["checkedAt"]
    (entry,) = activity(client, admin)
    assert (entry["providerId"], entry["action"], entry["success"]) == ("signed_webhook", "test_destination", True)


def test_a_failing_webhook_is_a_200_that_describes_the_failure(client, tokens, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    tenant = new_tenant_id("dst")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin, webhook=receiver.webhook())
    receiver.status = 503
    result = run_test(client, admin, item["id"], "webhook")
    assert result["ok"] is False and "HTTP 503" in result["message"]
    view = client.get(f"{BASE}/{item['id']}", headers=admin).json()["item"]
    assert view["destinationStatus"]["webhook"]["ok"] is False
    assert view["checklist"]["destinationsTested"] is False
    (entry,) = activity(client, admin)
    assert entry["success"] is False and "HTTP 503" in entry["errorMessage"]
    # A later success replaces the failure.
    receiver.status = 204
    assert run_test(client, admin, item["id"], "webhook")["ok"] is True
    assert WEBHOOK_SECRET not in caplog.text


def test_a_wrong_secret_at_the_receiver_is_a_failed_test(client, tokens, receiver):
    tenant = new_tenant_id("dst")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin, webhook={**receiver.webhook(), "secret": "a-different-secret-000000"})
    result = run_test(client, admin, item["id"], "webhook")
    assert result["ok"] is False and "HTTP 401" in result["message"]
    assert receiver.received[0]["signatureOk"] is False


def test_an_unreachable_or_slow_webhook_fails_within_the_timeout(client, tokens, receiver, httpserver):
    import time

    tenant = new_tenant_id("dst")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin, webhook=receiver.webhook())
    receiver.delay = 3.0  # CONNECTOR_TIMEOUT_SECONDS is 2 in tests
    started = time.monotonic()
    slow = run_test(client, admin, item["id"], "webhook")
    assert time.monotonic() - started < 3.0
    assert slow["ok"] is False and "did not answer in time" in slow["message"]
    receiver.delay = 0
    httpserver.stop()
    try:
        down = run_test(client, admin, item["id"], "webhook")
    finally:
        httpserver.start()
    assert down["ok"] is False and "could not be reached" in down["message"]


def test_a_destination_that_is_not_configured_is_a_400(client, tokens):
    tenant = new_tenant_id("dst")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin, summaryRecipients=[])
    for kind in ("email", "webhook"):
        response = client.post(f"{BASE}/{item['id']}/test-destination", json={"kind": kind}, headers=admin)
        assert response.status_code == 400 and response.json()["error"] == "destination_not_configured"
    bad = client.post(f"{BASE}/{item['id']}/test-destination", json={"kind": "sms"}, headers=admin)
    assert bad.status_code == 400
    operator = client.post(
        f"{BASE}/{item['id']}/test-destination", json={"kind": "email"}, headers=tokens.headers(tenant, "operator")
    )
    assert operator.status_code == 403
    assert stored_profile(tenant, item["id"])["destinationStatus"] == {}


def test_email_not_configured_is_a_failed_test(client, tokens, settings_env):
    from tests.conftest import reset_clients

    settings_env.setenv("EMAIL_PROVIDER", "")
    reset_clients()
    tenant = new_tenant_id("dst")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin)
    result = run_test(client, admin, item["id"], "email")
    assert result["ok"] is False and "EMAIL_PROVIDER" in result["message"]
