"""Onboarding: a tenant's general settings and its fast-start profiles with their destination tests."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import ADMIN, OPERATOR
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request
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


@operation(bp, "api/cp/onboarding/fast-start", auth=OPERATOR)
def list_fast_start_profiles(request: Request) -> dict:
    """The caller's tenant's fast-start profiles, each with its computed checklist."""
    from shared.onboarding import service as onboarding

    return onboarding.list_profiles(request.principal)


@operation(
    bp,
    "api/cp/onboarding/fast-start",
    methods=["POST"],
    auth=ADMIN,
    body="shared.onboarding.models:CreateProfileBody",
    status=201,
)
def create_fast_start_profile(request: Request) -> Reply:
    """Create a profile in the caller's tenant from its validated answers (audited)."""
    from shared.onboarding import service as onboarding

    body, etag = onboarding.create_profile(request.principal, request.body, ip=request.client_ip)
    return Reply(body, status=201, headers={"ETag": etag})


@operation(bp, "api/cp/onboarding/fast-start/{profileId}", auth=OPERATOR)
def get_fast_start_profile(request: Request) -> Reply:
    """One profile of the caller's tenant; its ETag guards the next PATCH."""
    from shared.onboarding import service as onboarding

    body, etag = onboarding.get_profile(request.principal, request.route["profileId"])
    return Reply(body, headers={"ETag": etag})


@operation(
    bp,
    "api/cp/onboarding/fast-start/{profileId}",
    methods=["PATCH"],
    auth=ADMIN,
    body="shared.onboarding.models:PatchProfileBody",
    conflicts=True,
)
def update_fast_start_profile(request: Request) -> Reply:
    """Change the fields sent; a stale If-Match (or revision) is a 409; audited with the secret redacted."""
    from shared.onboarding import service as onboarding

    body, etag = onboarding.update_profile(
        request.principal,
        request.route["profileId"],
        request.body,
        if_match=request.header("if-match"),
        ip=request.client_ip,
    )
    return Reply(body, headers={"ETag": etag})


@operation(
    bp,
    "api/cp/onboarding/fast-start/{profileId}/test-destination",
    methods=["POST"],
    auth=ADMIN,
    body="shared.onboarding.models:TestDestinationBody",
)
def test_fast_start_destination(request: Request) -> dict:
    """Send a real test email or signed webhook; a failing destination is a 200 describing the failure."""
    from shared.onboarding import service as onboarding

    return onboarding.test_destination(request.principal, request.route["profileId"], request.body.kind)
