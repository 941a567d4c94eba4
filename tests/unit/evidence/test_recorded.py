"""Tool executions and approvals read from the stored session, and the verify body model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.evidence import bundle, recorded
from shared.evidence.models import MAX_PEM_CHARS, VerifyBody
from tests.unit.evidence.conftest import FINALIZED_AT, stored_session
from tests.unit.evidence.schemas import assert_pack_valid

APPROVAL_EVENTS = [
    {
        "id": "evt-a1",
        "type": "approval_requested",
        "title": "Refill needs a clinician",
        "description": "",
        "system": "",
        "timestamp": "2026-03-02T10:13:00.000Z",
    },
    {
        "id": "evt-a2",
        "type": "Approval Granted",
        "title": "Refill approved",
        "description": "Dr. Lee",
        "system": "ehr",
        "timestamp": "2026-03-02T10:14:00.000Z",
    },
    {"id": "evt-a3", "type": "approval-denied", "title": "Transfer denied", "timestamp": "2026-03-02T10:14:30.000Z"},
]


def test_tools_used_are_successful_executions_recorded_at_finalize():
    session = stored_session(toolsUsed=["lookup_patient", "create_patient_intake"])
    assert recorded.tool_executions(session) == [
        {"id": f"{session['id']}:tool:1", "tool": "lookup_patient", "startedAt": FINALIZED_AT, "status": "success"},
        {
            "id": f"{session['id']}:tool:2",
            "tool": "create_patient_intake",
            "startedAt": FINALIZED_AT,
            "status": "success",
        },
    ]
    assert recorded.tool_executions(stored_session(toolsUsed=[])) == []


def test_approval_events_of_the_timeline_become_approvals_with_their_decision():
    session = stored_session(timelineEvents=APPROVAL_EVENTS)
    assert recorded.approvals(session) == [
        {
            "id": "evt-a1",
            "requestedAt": "2026-03-02T10:13:00.000Z",
            "decision": "pending",
            "note": "Refill needs a clinician",
        },
        {
            "id": "evt-a2",
            "requestedAt": "2026-03-02T10:14:00.000Z",
            "decision": "approved",
            "decidedAt": "2026-03-02T10:14:00.000Z",
            "reviewer": "ehr",
            "note": "Refill approved — Dr. Lee",
        },
        {
            "id": "evt-a3",
            "requestedAt": "2026-03-02T10:14:30.000Z",
            "decision": "rejected",
            "decidedAt": "2026-03-02T10:14:30.000Z",
            "note": "Transfer denied",
        },
    ]


def test_a_pack_built_from_what_the_session_records_fits_the_contract(key):
    session = stored_session(timelineEvents=APPROVAL_EVENTS, toolsUsed=["lookup_patient"])
    pack = bundle.build_pack(
        session, key, tool_executions=recorded.tool_executions(session), approvals=recorded.approvals(session)
    )
    assert_pack_valid(pack)
    assert pack["manifest"]["counts"]["toolCalls"] == 1 and pack["manifest"]["counts"]["approvals"] == 3


def test_the_verify_body_takes_a_string_or_an_object_and_refuses_what_cannot_be_a_signature():
    signature = {"algorithm": "ed25519", "publicKeyPem": "pem", "signatureB64": "sig", "publicKeyId": "abc"}
    assert VerifyBody.model_validate({"json": "{}", "signature": signature}).bundle == "{}"
    assert VerifyBody.model_validate({"json": {"a": [1]}, "signature": signature}).bundle == {"a": [1]}
    for bad in (
        {"json": 1, "signature": signature},
        {"json": ["x"], "signature": signature},
        {"json": "{}", "signature": {**signature, "algorithm": "ES256"}},
        {"json": "{}", "signature": {**signature, "publicKeyPem": "p" * (MAX_PEM_CHARS + 1)}},
        {"json": "{}", "signature": {**signature, "signatureB64": 5}},
        {"json": "{}", "signature": signature, "extra": "field"},
        {"signature": signature},
    ):
        with pytest.raises(ValidationError):
            VerifyBody.model_validate(bad)
