"""Practice connectors: validated configs, secrets sealed at rest and masked everywhere, health, disconnect."""

from __future__ import annotations

import json

from shared.audit.service import events as audit_events
from shared.integrations.repository import PracticeConnectorRepository
from shared.platform.secrets import MASK, is_envelope
from tests.support.identity import new_tenant_id
from tests.support.integrations import SIGNING_SECRET, WebhookReceiver, connect_webhook

KINDS = ["ehr", "calendar", "webhook", "erp", "telephony"]
ERP_KEY = "erp-api-key-9c2d7e41"


def stored(tenant: str, kind: str) -> dict | None:
    return PracticeConnectorRepository().read(kind, tenant)


def audit_of(tenant: str) -> list[dict]:
    return audit_events.newest_for_tenant(tenant, 50)


def test_a_new_tenant_has_every_kind_unconfigured(client, tokens):
    tenant = new_tenant_id("pc")
    response = client.get("/api/cp/integrations/practice-connectors", headers=tokens.headers(tenant, "admin"))
    assert response.status_code == 200
    body = response.json()
    assert body["tenantId"] == tenant and body["settings"]["tenantId"] == tenant
    connectors = body["settings"]["connectors"]
    assert sorted(connectors) == sorted(KINDS)
    for kind, view in connectors.items():
        assert view == {
            "kind": kind,
            "providerId": "",
            "status": "disconnected",
            "updatedAt": "",
            "configPreview": {},
            "healthStatus": "configured_unverified",
        }


def test_connecting_seals_the_secret_masks_it_and_audits_without_it(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("pc")
    admin = tokens.headers(tenant, "admin")
    receiver = WebhookReceiver(httpserver)
    response = connect_webhook(client, admin, receiver.url)
    assert response.status_code == 200, response.text
    assert SIGNING_SECRET not in response.text
    view = response.json()["settings"]["connectors"]["webhook"]
    assert view["providerId"] == "signed_webhook" and view["status"] == "connected"
    assert view["configPreview"] == {"url": receiver.url, "signingSecret": MASK}
    assert view["healthStatus"] == "configured_unverified"
    assert view["connectedAt"] == view["updatedAt"] and view["updatedBy"].startswith("user_")
    doc = stored(tenant, "webhook")
    assert is_envelope(doc["config"]["signingSecret"]) and SIGNING_SECRET not in json.dumps(doc)
    assert doc["config"]["url"] == receiver.url
    listed = client.get("/api/cp/integrations/practice-connectors", headers=admin)
    assert SIGNING_SECRET not in listed.text
    assert listed.json()["settings"]["connectors"]["webhook"]["configPreview"]["signingSecret"] == MASK
    (event,) = [e for e in audit_of(tenant) if e["action"] == "practice_connector.upsert"]
    assert event["changes"]["config.signingSecret"] == {"from": None, "to": "[redacted]"}
    assert event["changes"]["config.url"] == {"from": None, "to": receiver.url}
    assert SIGNING_SECRET not in json.dumps(event)
    # Another tenant sees nothing of it.
    other = client.get("/api/cp/integrations/practice-connectors", headers=tokens.headers(new_tenant_id("pc"), "admin"))
    assert other.json()["settings"]["connectors"]["webhook"]["status"] == "disconnected"


def test_every_config_problem_is_named_and_nothing_is_stored(client, tokens, loopback):
    tenant = new_tenant_id("pc")
    response = client.put(
        "/api/cp/integrations/practice-connectors/ehr",
        json={
            "providerId": "fhir_r4",
            "config": {"baseUrl": "ftp://ehr.example/fhir", "authMode": "bearer", "colour": "blue", "keyId": "k1"},
        },
        headers=tokens.headers(tenant, "admin"),
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_config"
    assert sorted(body["details"]) == sorted(
        [
            "colour: unknown field for provider fhir_r4",
            "baseUrl: must be an absolute https URL",
            "accessToken: is required when authMode is bearer",
            "keyId: is only used when authMode is smart_backend_services",
        ]
    )
    assert stored(tenant, "ehr") is None


def test_unknown_kinds_providers_and_mismatches_are_refused(client, tokens):
    admin = tokens.headers(new_tenant_id("pc"), "admin")
    unknown_kind = client.put(
        "/api/cp/integrations/practice-connectors/fax",
        json={"providerId": "signed_webhook", "config": {}},
        headers=admin,
    )
    assert (unknown_kind.status_code, unknown_kind.json()["error"]) == (400, "unknown_connector_kind")
    unknown_provider = client.put(
        "/api/cp/integrations/practice-connectors/ehr", json={"providerId": "epic_magic", "config": {}}, headers=admin
    )
    assert (unknown_provider.status_code, unknown_provider.json()["error"]) == (400, "unknown_provider")
    mismatch = client.put(
        "/api/cp/integrations/practice-connectors/ehr",
        json={"providerId": "signed_webhook", "config": {}},
        headers=admin,
    )
    assert (mismatch.status_code, mismatch.json()["error"]) == (400, "provider_kind_mismatch")
    assert "fhir_r4" in mismatch.json()["message"] and "ehr_mock" in mismatch.json()["message"]
    delete_unknown = client.delete("/api/cp/integrations/practice-connectors/fax", headers=admin)
    assert delete_unknown.status_code == 400


def test_private_and_plain_http_destinations_are_refused_outside_loopback_mode(client, tokens):
    admin = tokens.headers(new_tenant_id("pc"), "admin")
    for url, problem in (
        ("https://10.1.2.3/hook", "url: the destination resolves to a private address"),
        ("https://127.0.0.1:8443/hook", "url: the destination resolves to a private address"),
        ("http://localhost:8080/x", "url: the destination must be an https URL"),
    ):
        response = connect_webhook(client, admin, url)
        assert response.status_code == 400, url
        assert problem in response.json()["details"], response.json()["details"]


def test_a_masked_secret_is_kept_only_for_the_same_destination(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("pc")
    admin = tokens.headers(tenant, "admin")
    receiver = WebhookReceiver(httpserver)
    assert connect_webhook(client, admin, receiver.url).status_code == 200
    sealed = stored(tenant, "webhook")["config"]["signingSecret"]
    same = client.put(
        "/api/cp/integrations/practice-connectors/webhook",
        json={"providerId": "signed_webhook", "config": {"url": receiver.url, "signingSecret": MASK}},
        headers=admin,
    )
    assert same.status_code == 200
    # Nothing changed: nothing was written (the stored envelope is the same one) and nothing audited.
    assert stored(tenant, "webhook")["config"]["signingSecret"] == sealed
    assert len([e for e in audit_of(tenant) if e["action"] == "practice_connector.upsert"]) == 1
    moved = client.put(
        "/api/cp/integrations/practice-connectors/webhook",
        json={"providerId": "signed_webhook", "config": {"url": httpserver.url_for("/elsewhere")}},
        headers=admin,
    )
    assert moved.status_code == 400
    assert moved.json()["details"] == ["signingSecret: enter it again, because url changed"]
    rotated = connect_webhook(client, admin, httpserver.url_for("/elsewhere"), secret="a-brand-new-secret-123456")
    assert rotated.status_code == 200
    (event, _) = [e for e in audit_of(tenant) if e["action"] == "practice_connector.upsert"]  # newest first
    assert event["changes"]["config.signingSecret"] == {"from": "[redacted]", "to": "[redacted]"}


def test_switching_provider_needs_its_own_secrets(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("pc")
    admin = tokens.headers(tenant, "admin")
    demo = client.put(
        "/api/cp/integrations/practice-connectors/ehr", json={"providerId": "ehr_mock", "config": {}}, headers=admin
    )
    assert demo.status_code == 200
    assert demo.json()["settings"]["connectors"]["ehr"]["configPreview"] == {}
    real = client.put(
        "/api/cp/integrations/practice-connectors/ehr",
        json={
            "providerId": "fhir_r4",
            "config": {"baseUrl": httpserver.url_for("/fhir"), "authMode": "bearer", "accessToken": MASK},
        },
        headers=admin,
    )
    assert real.status_code == 400
    assert real.json()["details"] == ["accessToken: is required when authMode is bearer"]


def test_disconnect_erases_secrets_and_says_what_stops_working(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("pc")
    admin = tokens.headers(tenant, "admin")
    erp = {"baseUrl": httpserver.url_for("/erp"), "apiKey": ERP_KEY}
    assert (
        client.put(
            "/api/cp/integrations/practice-connectors/erp",
            json={"providerId": "erp_rest", "config": erp},
            headers=admin,
        ).status_code
        == 200
    )
    response = client.delete("/api/cp/integrations/practice-connectors/erp", headers=admin)
    assert response.status_code == 200
    settings = response.json()["settings"]
    view = settings["connectors"]["erp"]
    assert (view["status"], view["providerId"]) == ("disconnected", "erp_rest")
    assert view["configPreview"] == {"baseUrl": erp["baseUrl"]} and "disconnectedAt" in view
    assert settings["disconnected"]["kind"] == "erp"
    assert any("invoices" in line for line in settings["disconnected"]["stopsWorking"])
    doc = stored(tenant, "erp")
    assert "apiKey" not in doc["config"] and ERP_KEY not in json.dumps(doc)
    again = client.delete("/api/cp/integrations/practice-connectors/erp", headers=admin)
    assert again.status_code == 200 and again.json()["settings"]["connectors"]["erp"]["status"] == "disconnected"
    actions = [e["action"] for e in audit_of(tenant)]
    assert actions.count("practice_connector.disconnect") == 1
    (event,) = [e for e in audit_of(tenant) if e["action"] == "practice_connector.disconnect"]
    assert event["changes"]["config.apiKey"] == {"from": "[redacted]", "to": None}
    never = client.delete("/api/cp/integrations/practice-connectors/calendar", headers=admin)
    assert (never.status_code, never.json()["error"]) == (404, "connector_not_found")
    # Reconnecting needs the secret again: it was erased.
    reconnect = client.put(
        "/api/cp/integrations/practice-connectors/erp",
        json={"providerId": "erp_rest", "config": {"baseUrl": erp["baseUrl"]}},
        headers=admin,
    )
    assert reconnect.status_code == 400 and reconnect.json()["details"] == ["apiKey: is required"]


def test_operators_cannot_change_connectors(client, tokens, loopback, httpserver):
    tenant = new_tenant_id("pc")
    response = connect_webhook(client, tokens.headers(tenant, "operator"), httpserver.url_for("/h"))
    assert response.status_code == 403
    assert stored(tenant, "webhook") is None
