"""Control-plane Evidence: the tenant's evidence index, one row per session."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import ADMIN, VIEWER
from shared.platform.http.adapter import operation
from shared.platform.http.request import Request

bp = func.Blueprint()


@operation(bp, "api/cp/evidence-packs", auth=VIEWER)
def cp_list_evidence_packs(request: Request) -> dict:
    """The caller's tenant's evidence index rows, the most recently changed first."""
    from shared.evidence import service as evidence

    return evidence.list_rows(request.principal)


@operation(bp, "api/cp/evidence-packs/{id}", auth=VIEWER)
def cp_get_evidence_pack(request: Request) -> dict:
    """One session's evidence index row."""
    from shared.evidence import service as evidence

    return evidence.get_row(request.principal, request.route["id"])


@operation(bp, "api/cp/evidence-packs/{id}/reindex", methods=["POST"], auth=ADMIN)
def cp_post_evidence_pack_reindex(request: Request) -> dict:
    """Recompute a session's row and its ingestion and citation summary from its stored sources."""
    from shared.evidence import service as evidence

    return evidence.reindex(request.principal, request.route["id"], ip=request.client_ip)
