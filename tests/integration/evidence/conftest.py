"""Finished demo sessions for the evidence tests, and an independent ed25519 check of a pack."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.sessions import finalize_payload, key_headers, start_session


def finished_session(client, scenario: str = "insurance-fnol", headers: dict | None = None, **payload: Any) -> dict:
    """A demo session started and finalized through the API; its start body (with the access key)."""
    session = start_session(client, scenario, headers=headers, **payload.pop("start", {}))
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
