"""Pure rules over what is configured: a connector's health status and the catalog's releaseSafety report.

health_status (the contract's connector `healthStatus`):
  status reconnect_required → reconnect_required; status disabled → blocked_by_tenant_config;
  not connected, or never tested → configured_unverified; last test failed → unavailable;
  last test passed within 7 days → healthy; passed longer ago → degraded.

release_safety (GET /api/cp/integrations `releaseSafety`):
  appMode: real when a connected connector uses a real (or dual-mode) provider, demo when every
  connected connector is demo-tier, default when nothing is connected.
  blockers (any one means not ready for a pilot): persistence that is not production-safe; no
  connector encryption key outside local mode; loopback outbound calls allowed outside local mode;
  no live connector; a connected connector whose provider is unknown, whose last test failed or
  that must be reconnected.
  warnings: demo-tier connectors in use, live connectors never tested or tested more than 7 days
  ago, local mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from shared.integrations import catalog
from shared.platform import clock
from shared.platform.net import is_loopback_url
from shared.platform.settings import Settings

FRESH_TEST_WINDOW = timedelta(days=7)


def _last_test(connector: Mapping[str, Any]) -> tuple[bool | None, datetime | None]:
    test = connector.get("lastTest")
    if not isinstance(test, Mapping) or not isinstance(test.get("ok"), bool):
        return None, None
    try:
        checked = clock.parse_iso(test["checkedAt"]) if isinstance(test.get("checkedAt"), str) else None
    except ValueError:
        checked = None
    return test["ok"], checked


def health_status(connector: Mapping[str, Any] | None, *, now: datetime) -> str:
    """The connector's derived health from its status and its last test's result and age."""
    if not connector:
        return "configured_unverified"
    status = connector.get("status")
    if status == "reconnect_required":
        return "reconnect_required"
    if status == "disabled":
        return "blocked_by_tenant_config"
    if status != "connected":
        return "configured_unverified"
    ok, checked = _last_test(connector)
    if ok is None:
        return "configured_unverified"
    if not ok:
        return "unavailable"
    if checked is None or now - checked > FRESH_TEST_WINDOW:
        return "degraded"
    return "healthy"


def persistence_status(settings: Settings) -> dict[str, Any]:
    """Where data lives and whether that is safe for production (the emulator and no store are not)."""
    if not settings.cosmos_endpoint:
        return {
            "mode": "unconfigured",
            "provider": "azure-cosmos",
            "productionSafe": False,
            "warning": "COSMOS_ENDPOINT is not set: nothing can be stored",
        }
    if is_loopback_url(settings.cosmos_endpoint):
        return {
            "mode": "emulator",
            "provider": "azure-cosmos",
            "productionSafe": False,
            "warning": "Data lives in the local Cosmos emulator, in memory",
        }
    return {"mode": "cosmos", "provider": "azure-cosmos", "productionSafe": True}


def release_safety(
    *,
    settings: Settings,
    tenant_id: str | None,
    connectors: Mapping[str, Mapping[str, Any]] | None,
    now: datetime,
) -> dict[str, Any]:
    """The contract's releaseSafety object computed from settings, the catalog and the tenant's connectors."""
    connectors = connectors or {}
    blockers: list[str] = []
    warnings: list[str] = []

    persistence = persistence_status(settings)
    if not persistence["productionSafe"]:
        blockers.append(f"Persistence is not production-safe ({persistence['mode']})")
    if not settings.connector_encryption_keys and not settings.is_local:
        blockers.append("CONNECTOR_ENCRYPTION_KEYS is not configured: connector secrets cannot be stored")
    if settings.outbound_allow_loopback and not settings.is_local:
        blockers.append("OUTBOUND_ALLOW_LOOPBACK is on outside local mode: connectors could reach loopback services")
    if settings.is_local:
        warnings.append(f"Running in {settings.app_env} mode")

    connected: list[str] = []
    live: list[str] = []
    demo: list[str] = []
    for kind in catalog.CONNECTOR_KINDS:
        connector = connectors.get(kind)
        if not connector or connector.get("status") != "connected":
            if connector and connector.get("status") == "reconnect_required":
                blockers.append(f"The {kind} connector must be reconnected")
            continue
        connected.append(kind)
        provider = catalog.providers().get(str(connector.get("providerId")))
        if provider is None:
            blockers.append(f"The {kind} connector uses a provider the catalog no longer has")
            continue
        if provider.is_demo:
            demo.append(kind)
            warnings.append(f"The {kind} connector uses the demo provider {provider.id}: nothing reaches a real system")
            continue
        live.append(kind)
        health = health_status(connector, now=now)
        if health == "unavailable":
            blockers.append(f"The {kind} connector's last test failed")
        elif health == "configured_unverified":
            warnings.append(f"The {kind} connector has never been tested")
        elif health == "degraded":
            warnings.append(f"The {kind} connector's last successful test is older than 7 days")
    if not live:
        blockers.append("No live practice connector is connected")

    app_mode = "real" if live else "demo" if demo else "default"
    return {
        "appMode": app_mode,
        "readyForPilot": not blockers,
        "blockers": blockers,
        "warnings": warnings,
        "persistence": persistence,
        "registry": catalog.registry_counts(),
        "practiceConnectors": {
            "tenantId": tenant_id,
            "connectedCount": len(connected),
            "connectedKinds": connected,
            "disconnectedKinds": [k for k in catalog.CONNECTOR_KINDS if k not in connected],
            "liveKinds": live,
            "demoKinds": demo,
        },
    }
