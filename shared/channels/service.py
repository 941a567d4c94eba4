"""Voice channels: browser realtime always, telephony when a telephony connector is configured."""

from __future__ import annotations

from typing import Any

from shared.integrations.repository import PracticeConnectorRepository
from shared.platform.settings import get_settings

connectors = PracticeConnectorRepository()


def list_channels(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's channels and whether each can carry calls now."""
    channels = [
        {
            "channelConnectionId": "browser-realtime",
            "provider": "azure-openai-realtime",
            "displayName": "Browser voice (WebRTC realtime)",
            "status": "active" if get_settings().azure_openai_configured else "not_configured",
        }
    ]
    telephony = connectors.connector(tenant_id, "telephony")
    if telephony and telephony.get("status") != "disconnected":
        channels.append(
            {
                "channelConnectionId": f"telephony-{tenant_id}",
                "provider": telephony.get("provider", "telephony"),
                "displayName": telephony.get("displayName") or "Telephony",
                "status": telephony.get("healthStatus") or telephony.get("status") or "configured",
            }
        )
    return channels
