"""Finished demo sessions for the evidence tests, and an independent ed25519 check of a pack."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.sessions import finalize_payload, key_headers, start_session

# The tools the demo call runs (the journal is what evidence packs show).
DEMO_TOOLS = (
    ("lookup_policy", {"policyNumber": "HM-AU-4417209", "lastName": "Smith"}),
    (
        "create_fnol_claim",
        {
            "policyNumber": "HM-AU-4417209",
            "lossDate": "2026-11-27",
            "lossType": "auto_collision",
            "lossLocation": "Main St and 3rd Ave, Springfield, IL",
            "description": "Rear-ended at a light",
            "injuriesReported": False,
        },
    ),
)


def finished_session(client, scenario: str = "insurance-fnol", headers: dict | None = None, **payload: Any) -> dict:
    """A demo session started and finalized through the API; its start body (with the access key)."""
    session = start_session(client, scenario, headers=headers, **payload.pop("start", {}))
    for tool, parameters in payload.pop("tools", DEMO_TOOLS):
        ran = client.post(
            "/api/tools/execute",
            json={"toolName": tool, "parameters": parameters, "sessionId": session["sessionId"]},
            headers=key_headers(session),
        )
        assert ran.status_code == 200 and ran.json()["success"], ran.text
    response = client.post(
        "/api/sessions/finalize",
        json=finalize_payload(scenario, sessionId=session["sessionId"], **payload),
        headers={**(headers or {}), **key_headers(session)},
    )
    assert response.status_code == 200, response.text
    return session


def independent_verify(canonical: bytes, signature_b64: str, private_pem: str) -> bool:
    """ed25519 check with `cryptography` alone, against the public half of the key the run signs with."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public_key = private_key.public_key()
    try:
        public_key.verify(base64.b64decode(signature_b64), canonical)
    except InvalidSignature:
        return False
    return True
