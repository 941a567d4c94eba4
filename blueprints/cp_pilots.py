"""Control-plane Pilots: a tenant's pilots, their terms and their weekly snapshots (operators; terms by admins)."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import ADMIN, OPERATOR
from shared.platform.http.adapter import operation
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

PILOT_ROUTE = "api/cp/pilots/{pilotId}"


@operation(bp, "api/cp/pilots", auth=OPERATOR, query="shared.pilots.models:PilotListQuery")
def cp_list_pilots(request: Request) -> dict:
    """The tenant's pilots, newest first, filtered by status and vertical pack."""
    from shared.pilots import service

    return service.list_pilots(request.principal, request.query)


@operation(
    bp, "api/cp/pilots", methods=["POST"], auth=OPERATOR, body="shared.pilots.models:PilotCreateBody", status=201
)
def cp_create_pilot(request: Request) -> dict:
    """Create a pilot in the caller's tenant (a source lead follows it), audited."""
    from shared.pilots import service

    return service.create_pilot(request.principal, request.body, ip=request.client_ip)


@operation(bp, PILOT_ROUTE, auth=OPERATOR)
def cp_get_pilot(request: Request) -> dict:
    """A pilot with its notes, contract, ROI assumptions and snapshots."""
    from shared.pilots import service

    return service.get_pilot(request.principal, request.route["pilotId"])


@operation(bp, PILOT_ROUTE, methods=["PATCH"], auth=OPERATOR, body="shared.pilots.models:PilotPatchBody")
def cp_patch_pilot(request: Request) -> dict:
    """Change a pilot's fields or move its status along the lifecycle, audited."""
    from shared.pilots import service

    return service.patch_pilot(request.principal, request.route["pilotId"], request.body, ip=request.client_ip)


@operation(
    bp, PILOT_ROUTE + "/notes", methods=["POST"], auth=OPERATOR, body="shared.pilots.models:PilotNoteBody",
    status=201,
)  # fmt: skip
def cp_append_pilot_note(request: Request) -> dict:
    """Append an internal note (author from the token); the pilot with its notes."""
    from shared.pilots import service

    return service.append_note(request.principal, request.route["pilotId"], request.body.body, ip=request.client_ip)


@operation(bp, PILOT_ROUTE + "/contract", methods=["PUT"], auth=ADMIN, body="shared.pilots.models:PilotContractBody")
def cp_put_pilot_contract(request: Request) -> dict:
    """Store the pilot's commercial terms as a new version, audited."""
    from shared.pilots import service

    return service.put_contract(request.principal, request.route["pilotId"], request.body, ip=request.client_ip)


@operation(bp, PILOT_ROUTE + "/roi", methods=["PUT"], auth=ADMIN, body="shared.pilots.models:PilotRoiBody")
def cp_put_pilot_roi(request: Request) -> dict:
    """Store the pilot's ROI assumptions as a new version, audited."""
    from shared.pilots import service

    return service.put_roi(request.principal, request.route["pilotId"], request.body, ip=request.client_ip)


@operation(bp, PILOT_ROUTE + "/snapshots", auth=OPERATOR)
def cp_list_pilot_snapshots(request: Request) -> dict:
    """The pilot's weekly snapshots, oldest week first."""
    from shared.pilots import service

    return service.list_snapshots(request.principal, request.route["pilotId"])


@operation(
    bp, PILOT_ROUTE + "/snapshot/recompute", methods=["POST"], auth=OPERATOR,
    query="shared.pilots.models:SnapshotRecomputeQuery",
)  # fmt: skip
def cp_post_pilot_snapshot_recompute(request: Request) -> Reply:
    """Recompute one week's snapshot from stored data; X-Snapshot-Changes names the metrics that changed."""
    from shared.pilots import weekly

    body, headers = weekly.recompute(
        request.principal, request.route["pilotId"], request.query.weekId, ip=request.client_ip
    )
    return Reply(body, headers=headers)
