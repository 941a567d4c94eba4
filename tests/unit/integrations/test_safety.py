"""Connector health status and the releaseSafety report, computed from what is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shared.integrations.safety import health_status, persistence_status, release_safety
from shared.platform import clock
from shared.platform.settings import Settings
from tests.unit.integrations.conftest import TEST_KEYS
from tests.unit.integrations.test_catalog import contract_schema

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PRODUCTION = Settings(
    app_env="production",
    cosmos_endpoint="https://tellgence.documents.azure.com:443/",
    connector_encryption_keys=TEST_KEYS,
)


def connector(provider_id: str, *, status: str = "connected", ok: bool | None = True, age_days: float = 1) -> dict:
    doc: dict[str, Any] = {"providerId": provider_id, "status": status}
    if ok is not None:
        doc["lastTest"] = {"ok": ok, "checkedAt": clock.iso(NOW - timedelta(days=age_days)), "summary": "t"}
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (None, "configured_unverified"),
        (connector("fhir_r4", ok=None), "configured_unverified"),
        (connector("fhir_r4", status="disconnected"), "configured_unverified"),
        (connector("fhir_r4", status="pending_auth"), "configured_unverified"),
        (connector("fhir_r4", status="reconnect_required"), "reconnect_required"),
        (connector("fhir_r4", status="disabled"), "blocked_by_tenant_config"),
        (connector("fhir_r4", ok=False), "unavailable"),
        (connector("fhir_r4", ok=True, age_days=6.9), "healthy"),
        (connector("fhir_r4", ok=True, age_days=7.1), "degraded"),
        ({"providerId": "fhir_r4", "status": "connected", "lastTest": {"ok": True, "checkedAt": "soon"}}, "degraded"),
    ],
)
def test_health_status(doc: dict | None, expected: str):
    assert health_status(doc, now=NOW) == expected


def validate(report: dict) -> None:
    schema = contract_schema("/api/cp/integrations")["properties"]["releaseSafety"]
    assert [e.message for e in Draft202012Validator(schema).iter_errors(report)] == []


def test_nothing_connected_is_default_mode_and_not_ready():
    report = release_safety(settings=PRODUCTION, tenant_id="t1", connectors={}, now=NOW)
    validate(report)
    assert report["appMode"] == "default"
    assert report["readyForPilot"] is False
    assert report["blockers"] == ["No live practice connector is connected"]
    assert report["practiceConnectors"] == {
        "tenantId": "t1",
        "connectedCount": 0,
        "connectedKinds": [],
        "disconnectedKinds": ["ehr", "calendar", "webhook", "erp", "telephony"],
        "liveKinds": [],
        "demoKinds": [],
    }


def test_demo_connectors_only_is_demo_mode_with_warnings():
    report = release_safety(
        settings=PRODUCTION,
        tenant_id="t1",
        connectors={"ehr": connector("ehr_mock"), "calendar": connector("calendar_mock")},
        now=NOW,
    )
    validate(report)
    assert report["appMode"] == "demo"
    assert report["practiceConnectors"]["demoKinds"] == ["ehr", "calendar"]
    assert report["blockers"] == ["No live practice connector is connected"]
    assert report["warnings"] == [
        "The ehr connector uses the demo provider ehr_mock: nothing reaches a real system",
        "The calendar connector uses the demo provider calendar_mock: nothing reaches a real system",
    ]


def test_a_tested_live_connector_in_production_is_ready_for_a_pilot():
    connectors = {"ehr": connector("fhir_r4"), "webhook": connector("signed_webhook", status="disconnected")}
    report = release_safety(settings=PRODUCTION, tenant_id="t1", connectors=connectors, now=NOW)
    validate(report)
    assert report["appMode"] == "real"
    assert report["readyForPilot"] is True
    assert report["blockers"] == [] and report["warnings"] == []
    assert report["persistence"] == {"mode": "cosmos", "provider": "azure-cosmos", "productionSafe": True}
    assert report["practiceConnectors"]["liveKinds"] == ["ehr"]
    assert report["practiceConnectors"]["disconnectedKinds"] == ["calendar", "webhook", "erp", "telephony"]


def test_failures_staleness_and_reconnects_show_up():
    connectors = {
        "ehr": connector("fhir_r4", ok=False),
        "calendar": connector("microsoft_graph_calendar", age_days=30),
        "webhook": connector("signed_webhook", ok=None),
        "erp": connector("erp_rest", status="reconnect_required"),
        "telephony": connector("retired_provider"),
    }
    report = release_safety(settings=PRODUCTION, tenant_id="t1", connectors=connectors, now=NOW)
    validate(report)
    assert report["appMode"] == "real"
    assert report["readyForPilot"] is False
    assert report["blockers"] == [
        "The ehr connector's last test failed",
        "The erp connector must be reconnected",
        "The telephony connector uses a provider the catalog no longer has",
    ]
    assert report["warnings"] == [
        "The calendar connector's last successful test is older than 7 days",
        "The webhook connector has never been tested",
    ]


def test_platform_settings_block_a_pilot():
    unsafe = Settings(app_env="production", cosmos_endpoint="", outbound_allow_loopback=True)
    report = release_safety(settings=unsafe, tenant_id=None, connectors={"ehr": connector("fhir_r4")}, now=NOW)
    validate(report)
    assert report["blockers"] == [
        "Persistence is not production-safe (unconfigured)",
        "CONNECTOR_ENCRYPTION_KEYS is not configured: connector secrets cannot be stored",
        "OUTBOUND_ALLOW_LOOPBACK is on outside local mode: connectors could reach loopback services",
    ]
    assert report["practiceConnectors"]["tenantId"] is None


def test_local_mode_runs_on_the_emulator_and_says_so():
    local = Settings(app_env="local", cosmos_endpoint="https://127.0.0.1:8081", outbound_allow_loopback=True)
    report = release_safety(settings=local, tenant_id="t1", connectors={"ehr": connector("fhir_r4")}, now=NOW)
    validate(report)
    assert report["persistence"]["mode"] == "emulator"
    assert report["blockers"] == ["Persistence is not production-safe (emulator)"]
    assert report["warnings"] == ["Running in local mode"]


def test_persistence_modes():
    assert persistence_status(Settings(cosmos_endpoint="")).get("mode") == "unconfigured"
    assert persistence_status(Settings(cosmos_endpoint="https://localhost:8081"))["productionSafe"] is False
    assert persistence_status(Settings(cosmos_endpoint="https://x.documents.azure.com"))["productionSafe"] is True
