"""Voice channels: browser realtime always, telephony when a telephony connector is connected."""

from __future__ import annotations

from typing import Any

from shared.platform.settings import get_settings


def list_channels(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's channels and whether each can carry calls now (one point read of the telephony connector)."""
    from shared.integrations import catalog, connectors, safety
    from shared.platform import clock

    channels = [
        {
            "channelConnectionId": "browser-realtime",
            "provider": "azure-openai-realtime",
            "displayName": "Browser voice (WebRTC realtime)",
            "status": "active" if get_settings().azure_openai_configured else "not_configured",
        }
    ]
    telephony = connectors.live_connector(tenant_id, "telephony")
    if telephony is not None:
        provider = catalog.providers().get(str(telephony.get("providerId")))
        channels.append(
            {
                "channelConnectionId": f"telephony-{tenant_id}",
                "provider": str(telephony.get("providerId") or "telephony"),
                "displayName": provider.name if provider else "Telephony",
                "status": safety.health_status(telephony, now=clock.utc_now()),
            }
        )
    return channels
