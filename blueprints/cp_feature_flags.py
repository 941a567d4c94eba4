"""Control-plane Feature Flags: the registry's switches and their tenant overrides, for super-admins."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import SUPER_ADMIN
from shared.platform.envelope import success
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()


@operation(bp, "api/cp/feature-flags", auth=SUPER_ADMIN)
def cp_list_feature_flags(request: Request) -> dict:
    """Every registered flag with its state."""
    from shared.flags import service as flags

    return success(flags=flags.list_flags())


@operation(bp, "api/cp/feature-flags/{name}", methods=["PATCH"], auth=SUPER_ADMIN, body="shared.flags.models:FlagPatch")
def cp_update_feature_flag(request: Request) -> dict:
    """Turn a flag on or off or change its rollout; audited."""
    from shared.flags import service as flags

    flag = flags.update_flag(request.principal, request.route["name"], request.body, ip=request.client_ip)
    return success(flag=flag)


@operation(bp, "api/cp/feature-flags/{name}/overrides", auth=SUPER_ADMIN)
def cp_list_flag_overrides(request: Request) -> dict:
    """A flag's tenant overrides."""
    from shared.flags import service as flags

    return success(overrides=flags.list_overrides(request.route["name"]))


@operation(
    bp,
    "api/cp/feature-flags/{name}/overrides/{tenantId}",
    methods=["PATCH"],
    auth=SUPER_ADMIN,
    body="shared.flags.models:FlagOverridePatch",
)
def cp_set_flag_tenant_override(request: Request) -> dict:
    """Force a flag on or off for one tenant, or drop the override; audited."""
    from shared.flags import service as flags

    override = flags.set_override(
        request.principal, request.route["name"], request.route["tenantId"], request.body, ip=request.client_ip
    )
    return success(override=override)
