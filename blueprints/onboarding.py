"""Onboarding: a tenant's general settings (fast-start profiles join this tag later)."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import ADMIN
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request
from shared.tenants import tenant_settings

bp = func.Blueprint()


@operation(bp, "api/cp/onboarding/tenant-settings", auth=ADMIN)
def get_tenant_settings(request: Request) -> dict:
    """The caller's tenant's settings."""
    return tenant_settings.settings_view(request.principal.tenant_id)


@operation(bp, "api/cp/onboarding/tenant-settings", methods=["PATCH"], auth=ADMIN)
def update_tenant_settings(request: Request) -> dict:
    """Merge known and free-form keys into the tenant's settings; null removes a key; audited."""
    return tenant_settings.update_settings(
        request.principal, request.principal.tenant_id, request.body, ip=request.client_ip
    )
