"""Connection and action tests: real calls to loopback fakes, recorded as last test and in the activity log."""

from __future__ import annotations

import json

from pytest_httpserver import HTTPServer

from shared.integrations import demo_store
from shared.integrations.repository import PracticeConnectorRepository
from tests.support.identity import new_tenant_id
from tests.support.integrations import SIGNING_SECRET, WebhookReceiver, connect_webhook

ERP_KEY = "erp-api-key-31f0b8c2"


def activity(client, headers) -> list[dict]:
    response = client.get("/api/cp/integrations/activity-log", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["entries"])
    return body["entries"]


def test_testing_the_stored_connector_records_its_health(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("it")
    admin = tokens.headers(tenant, "admin")
    receiver = WebhookReceiver(httpserver)
    assert connect_webhook(client, admin, receiver.url).status_code == 200
    response = client.post("/api/cp/integrations/signed_webhook/test", json={}, headers=admin)
    assert response.status_code == 200
    assert response.json() == {"success": True, "providerId": "signed_webhook", "status": "connected"}
    (ping,) = receiver.events("connector.test")
    assert ping["signatureOk"] and ping["idempotencyKey"].startswith("connector-test:")
    view = client.get("/api/cp/integrations/practice-connectors", headers=admin).json()["settings"]["connectors"]
    assert view["webhook"]["healthStatus"] == "healthy"
    assert view["webhook"]["lastTest"]["ok"] is True
    (entry,) = activity(client, admin)
    assert (entry["providerId"], entry["action"], entry["success"]) == ("signed_webhook", "health_check", True)
    assert entry["latencyMs"] >= 0 and "errorMessage" not in entry


def test_a_failing_provider_is_a_200_failed_and_an_unavailable_connector(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("it")
    admin = tokens.headers(tenant, "admin")
    receiver = WebhookReceiver(httpserver)
    assert connect_webhook(client, admin, receiver.url).status_code == 200
    receiver.status = 503
    response = client.post("/api/cp/integrations/signed_webhook/test", json={}, headers=admin)
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    view = client.get("/api/cp/integrations/practice-connectors", headers=admin).json()["settings"]["connectors"]
    assert view["webhook"]["healthStatus"] == "unavailable"
    assert view["webhook"]["lastTest"]["ok"] is False
    assert "HTTP 503" in view["webhook"]["lastTest"]["errorMessage"]
    (entry,) = activity(client, admin)
    assert entry["success"] is False and "HTTP 503" in entry["errorMessage"]
    release = client.get("/api/cp/integrations", headers=admin).json()["releaseSafety"]
    assert "The webhook connector's last test failed" in release["blockers"]


def test_a_posted_config_is_tested_without_touching_the_stored_connector(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("it")
    admin = tokens.headers(tenant, "admin")
    receiver = WebhookReceiver(httpserver)
    other = WebhookReceiver(httpserver, secret="another-signing-secret-1234", path="/other")
    assert connect_webhook(client, admin, receiver.url).status_code == 200
    response = client.post(
        "/api/cp/integrations/signed_webhook/test",
        json={"config": {"url": other.url, "signingSecret": "another-signing-secret-1234"}},
        headers=admin,
    )
    assert response.json()["status"] == "connected"
    assert len(other.events("connector.test")) == 1 and receiver.received == []
    assert "lastTest" not in PracticeConnectorRepository().read("webhook", tenant)
    # The config itself (not wrapped) is accepted too; a new URL without its secret is refused.
    refused = client.post("/api/cp/integrations/signed_webhook/test", json={"url": other.url}, headers=admin)
    assert refused.status_code == 400
    assert refused.json()["details"] == ["signingSecret: enter it again, because url changed"]


def test_malformed_configs_and_unknown_providers(client, tokens, loopback):
    admin = tokens.headers(new_tenant_id("it"), "admin")
    bad = client.post("/api/cp/integrations/erp_rest/test", json={"baseUrl": "not a url", "apiKey": "k"}, headers=admin)
    assert bad.status_code == 400
    assert bad.json()["details"] == ["baseUrl: must be an absolute https URL"]
    missing = client.post("/api/cp/integrations/erp_rest/test", json={}, headers=admin)
    assert missing.status_code == 400
    assert sorted(missing.json()["details"]) == ["apiKey: is required", "baseUrl: is required"]
    unknown = client.post("/api/cp/integrations/epic_magic/test", json={}, headers=admin)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "provider_not_found")
    assert activity(client, admin) == []


def test_a_demo_provider_test_and_action_record_into_the_demo_store(client, tokens):
    tenant = new_tenant_id("it")
    admin = tokens.headers(tenant, "admin")
    check = client.post("/api/cp/integrations/salesforce_mock/test", json={}, headers=admin)
    assert check.json()["status"] == "connected"
    lead = {"lastName": "Rivera", "company": "Rivera Dental", "score": 82}
    first = client.post(
        "/api/cp/integrations/salesforce_mock/actions/create_lead/test",
        json={"config": {}, "params": lead},
        headers=admin,
    )
    assert first.status_code == 200
    result = first.json()["result"]
    assert (result["status"], result["providerId"], result["actionId"]) == (
        "succeeded",
        "salesforce_mock",
        "create_lead",
    )
    record = demo_store.records.read(result["externalId"], tenant)
    assert record["params"] == lead and record["actionId"] == "create_lead"
    second = client.post(
        "/api/cp/integrations/salesforce_mock/actions/create_lead/test",
        json={"config": {}, "params": lead},
        headers=admin,
    )
    assert second.json()["result"]["externalId"] != result["externalId"]  # a test is a fresh delivery
    entries = activity(client, admin)
    assert [e["action"] for e in entries] == ["create_lead", "create_lead", "health_check"]  # newest first


def test_action_params_and_actions_are_checked_before_any_call(client, tokens):
    admin = tokens.headers(new_tenant_id("it"), "admin")
    bad = client.post(
        "/api/cp/integrations/salesforce_mock/actions/create_lead/test",
        json={"config": {}, "params": {"company": "x", "score": 500}},
        headers=admin,
    )
    assert bad.status_code == 400
    assert bad.json()["details"] == ["params: missing lastName", "params.score: maximum is 100"]
    unknown = client.post(
        "/api/cp/integrations/salesforce_mock/actions/delete_everything/test",
        json={"config": {}, "params": {}},
        headers=admin,
    )
    assert (unknown.status_code, unknown.json()["error"]) == (404, "action_not_found")
    assert activity(client, admin) == []


def test_an_action_test_reaches_the_erp_exactly_as_documented(client, tokens, loopback, provider_server: HTTPServer):
    tenant = new_tenant_id("it")
    admin = tokens.headers(tenant, "admin")
    config = {"baseUrl": provider_server.url_for("/erp"), "apiKey": ERP_KEY}
    assert (
        client.put(
            "/api/cp/integrations/practice-connectors/erp",
            json={"providerId": "erp_rest", "config": config},
            headers=admin,
        ).status_code
        == 200
    )
    invoice = {
        "customerExternalId": "cust-7",
        "currency": "USD",
        "lines": [{"description": "Consultation", "quantity": 1, "unitAmountMinor": 12500}],
    }
    provider_server.expect_request(
        "/erp/v1/invoices",
        method="POST",
        headers={"Authorization": f"Bearer {ERP_KEY}", "Content-Type": "application/json"},
        json=invoice,
    ).respond_with_json({"id": "inv_1", "number": "2026-001", "status": "open"}, status=201)
    response = client.post(
        "/api/cp/integrations/erp_rest/actions/create_invoice/test",
        json={"config": {}, "params": invoice},
        headers=admin,
    )
    provider_server.check_assertions()
    assert response.status_code == 200
    result = response.json()["result"]
    assert (result["status"], result["responseCode"], result["externalId"]) == ("succeeded", 201, "inv_1")
    ((request, _),) = provider_server.log
    assert request.headers["Idempotency-Key"].startswith("action-test:")
    assert ERP_KEY not in response.text
    # A provider refusal is a 200 with the failure described, never the key.
    provider_server.clear()
    provider_server.expect_request("/erp/v1/invoices", method="POST").respond_with_json(
        {"error": "invalid_customer", "message": f"Unknown customer (key {ERP_KEY})"}, status=422
    )
    refused = client.post(
        "/api/cp/integrations/erp_rest/actions/create_invoice/test",
        json={"config": {}, "params": invoice},
        headers=admin,
    )
    failure = refused.json()["result"]
    assert (refused.status_code, failure["status"], failure["errorClass"]) == (200, "failed", "rejected")
    assert ERP_KEY not in refused.text
    entries = client.get("/api/cp/integrations/activity-log", headers=admin).text
    assert ERP_KEY not in entries and SIGNING_SECRET not in entries
    assert json.loads(entries)["entries"][0]["success"] is False


def test_the_overview_lists_the_catalog_and_the_tenants_release_safety(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("it")
    admin = tokens.headers(tenant, "admin")
    empty = client.get("/api/cp/integrations", headers=admin).json()
    assert [p["id"] for p in empty["providers"]][:3] == ["fhir_r4", "microsoft_graph_calendar", "signed_webhook"]
    assert empty["releaseSafety"]["appMode"] == "default"
    assert empty["releaseSafety"]["practiceConnectors"]["connectedCount"] == 0
    receiver = WebhookReceiver(httpserver)
    assert connect_webhook(client, admin, receiver.url).status_code == 200
    client.put(
        "/api/cp/integrations/practice-connectors/ehr", json={"providerId": "ehr_mock", "config": {}}, headers=admin
    )
    report = client.get("/api/cp/integrations", headers=admin).json()["releaseSafety"]
    assert report["appMode"] == "real"
    assert report["practiceConnectors"]["liveKinds"] == ["webhook"]
    assert report["practiceConnectors"]["demoKinds"] == ["ehr"]
    assert "The webhook connector has never been tested" in report["warnings"]
    assert client.get("/api/cp/integrations", headers=tokens.headers(tenant, "operator")).status_code == 403


def test_the_activity_log_belongs_to_its_tenant(client, tokens):
    tenant, other = new_tenant_id("it"), new_tenant_id("it")
    client.post("/api/cp/integrations/salesforce_mock/test", json={}, headers=tokens.headers(tenant, "admin"))
    assert len(activity(client, tokens.headers(tenant, "operator"))) == 1
    assert activity(client, tokens.headers(other, "operator")) == []
    assert client.get("/api/cp/integrations/activity-log", headers=tokens.headers(tenant, "viewer")).status_code == 403
