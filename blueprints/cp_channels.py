"""Control-plane Channels: the tenant's voice channels."""

from __future__ import annotations

import azure.functions as func

from shared.channels import service as channels
from shared.identity.auth import VIEWER
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()


@operation(bp, "api/cp/channels", auth=VIEWER)
def cp_list_channels(request: Request) -> dict:
    """Browser realtime always; telephony when configured."""
    return success(channels=channels.list_channels(request.principal.tenant_id))
