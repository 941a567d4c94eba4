"""Attestations: the public link a pilot's primary contact uses to confirm a week's numbers, once."""

from __future__ import annotations

import azure.functions as func

from shared.platform.http.adapter import operation
from shared.platform.http.auth import PUBLIC
from shared.platform.http.request import Request

bp = func.Blueprint()

# The token is not an id: base64url payload "." base64url tag (shared.pilots.attestations). The route takes
# anything URL-safe of a bounded length, so every token that does not verify gets the same 400 from the service.
TOKEN_PATTERN = r"[A-Za-z0-9._~-]{1,512}"


@operation(
    bp, "api/attestations/{token}", methods=["POST"], auth=PUBLIC, body="shared.pilots.models:AttestationBody",
    status=201, route_patterns={"token": TOKEN_PATTERN},
)  # fmt: skip
def post_attestation_by_token(request: Request) -> dict:
    """Store the attestation of the week the token was sent for (a second one is a 409)."""
    from shared.pilots import attest

    return attest.submit(request.route["token"], request.body)
