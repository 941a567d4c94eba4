"""POST /api/attestations/{token}: the customer confirms a week's numbers, once.

The token (`shared.pilots.attestations`) is verified before any store call: a malformed, tampered, foreign or
expired token is the same 400 (`invalid_token`), and so is a valid token whose week has no snapshot (nothing to
attest; the caller learns no more than from a bad token). The body must name the token's pilot and week (and
its tenant, when it names one), else 400 `attestation_mismatch`. The attestation is the item
`<pilotId>:<weekId>:attestation`, created once: a second attestation of the week is a 409 `already_attested`.

What is kept: who attested (email, name, as they typed them), the note, the accepted metrics — only metrics the
snapshot has, with finite values (`attestations.accepted_metrics`) —, a copy of the snapshot's numbers at that
moment (a later recompute does not change what was attested) and the SHA-256 of the token, never the token.
Cost: the snapshot's point read and the create.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from shared.pilots import attestations, snapshots
from shared.pilots import repository as repo
from shared.pilots.ids import ALPHABET
from shared.pilots.models import AttestationBody
from shared.pilots.service import pilots
from shared.pilots.weeks import parse_week_id
from shared.platform import clock
from shared.platform.envelope import success
from shared.platform.errors import Conflict

ATTESTATION_FIELDS = (
    "attestationId",
    "tenantId",
    "pilotId",
    "weekId",
    "attestedByEmail",
    "attestedByName",
    "acceptedMetrics",
    "freeFormNote",
    "attestedAt",
)


class AlreadyAttested(Conflict):
    """The week was attested already (an attestation link works once)."""

    code = "already_attested"


def new_attestation_id() -> str:
    """A fresh attestation id: `ATT-` and ten characters of the pilot ids' alphabet."""
    return "ATT-" + "".join(secrets.choice(ALPHABET) for _ in range(10))


def view(doc: dict[str, Any], token: str) -> dict[str, Any]:
    """The contract's attestation object (the token is the one the caller presented)."""
    return {"token": token, **{name: doc[name] for name in ATTESTATION_FIELDS if doc.get(name) is not None}}


def submit(token: str, body: AttestationBody) -> dict[str, Any]:
    """Store the attestation of the token's week (see the module docstring); the 201 body."""
    claims = attestations.read_token(token)
    if body.tenantId is not None and body.tenantId != claims.tenant_id:
        raise attestations.AttestationMismatch("The tenant must be the one this attestation link was sent for")
    attestations.check_body_matches(claims, pilot_id=body.pilotId, week_id=body.weekId)
    week = parse_week_id(claims.week_id)
    snapshot = pilots.read(snapshots.snapshot_id(claims.pilot_id, week), claims.tenant_id)
    if snapshot is None or snapshot.get("type") != repo.SNAPSHOT:
        raise attestations.InvalidAttestationToken()
    now = clock.now_iso()
    doc: dict[str, Any] = {
        "id": repo.attestation_id(claims.pilot_id, week.week_id),
        "type": repo.ATTESTATION,
        "attestationId": new_attestation_id(),
        "tenantId": claims.tenant_id,
        "pilotId": claims.pilot_id,
        "weekId": week.week_id,
        "attestedByEmail": body.attestedByEmail,
        "acceptedMetrics": attestations.accepted_metrics(body.acceptedMetrics, snapshot),
        "attestedAt": now,
        "snapshotMetrics": {name: snapshot.get(name) for name in snapshots.METRIC_FIELDS},
        "snapshotCreatedAt": snapshot.get("createdAt"),
        "tokenSha256": hashlib.sha256(token.encode("utf-8")).hexdigest(),
        "createdAt": now,
    }
    if body.attestedByName:
        doc["attestedByName"] = body.attestedByName
    if body.freeFormNote:
        doc["freeFormNote"] = body.freeFormNote.replace("\r\n", "\n").replace("\r", "\n")
    try:
        stored = pilots.create(doc)
    except Conflict:
        raise AlreadyAttested("This week was attested already") from None
    return success(attestation=view(stored, token))
