"""Channels: browser realtime always, telephony once a telephony connector exists."""

from __future__ import annotations

from shared.integrations.repository import PracticeConnectorRepository
from shared.platform import clock
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id


def test_browser_realtime_reports_whether_azure_openai_is_configured(client, tokens, settings_env):
    tenant = new_tenant_id("ch")
    channels = client.get("/api/cp/channels", headers=tokens.headers(tenant, "viewer")).json()["channels"]
    assert channels == [
        {
            "channelConnectionId": "browser-realtime",
            "provider": "azure-openai-realtime",
            "displayName": "Browser voice (WebRTC realtime)",
            "status": "not_configured",
        }
    ]
    settings_env.setenv("AZURE_OPENAI_ENDPOINT", "https://example-resource.openai.azure.com")
    reset_clients()
    channels = client.get("/api/cp/channels", headers=tokens.headers(tenant, "viewer")).json()["channels"]
    assert channels[0]["status"] == "active"


def test_a_telephony_connector_adds_its_channel(client, tokens):
    tenant = new_tenant_id("ch")
    PracticeConnectorRepository().create(
        {
            "id": "telephony",
            "tenantId": tenant,
            "providerId": "acs_call_automation",
            "status": "connected",
            "config": {},
            "lastTest": {"ok": True, "checkedAt": clock.now_iso(), "summary": "ok"},
        }
    )
    channels = client.get("/api/cp/channels", headers=tokens.headers(tenant, "viewer")).json()["channels"]
    assert channels[1] == {
        "channelConnectionId": f"telephony-{tenant}",
        "provider": "acs_call_automation",
        "displayName": "Azure Communication Services Call Automation",
        "status": "healthy",
    }
    other = client.get("/api/cp/channels", headers=tokens.headers(new_tenant_id("ch"), "viewer")).json()["channels"]
    assert len(other) == 1


def test_a_disconnected_telephony_connector_leaves_the_list(client, tokens):
    tenant = new_tenant_id("ch")
    PracticeConnectorRepository().create(
        {"id": "telephony", "tenantId": tenant, "providerId": "twilio_voice", "status": "disconnected", "config": {}}
    )
    channels = client.get("/api/cp/channels", headers=tokens.headers(tenant, "viewer")).json()["channels"]
    assert [c["channelConnectionId"] for c in channels] == ["browser-realtime"]
