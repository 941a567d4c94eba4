"""The bundle, manifest and pack of a stored session: the contract's shape, sections, digests, signature."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import pytest

from shared.evidence import bundle as evidence
from shared.evidence.canonical import canonical_bytes, canonical_sha256
from shared.evidence.keys import SigningKey, load_public_key
from shared.platform.errors import NotFound
from tests.unit.evidence.conftest import APPROVALS, TOOL_EXECUTIONS, stored_session
from tests.unit.evidence.schemas import assert_pack_valid

GENERATED_AT = "2026-03-02T11:00:00.000Z"


def full_pack(key: SigningKey, **overrides) -> dict:
    return evidence.build_pack(
        stored_session(**overrides),
        key,
        tool_executions=TOOL_EXECUTIONS,
        approvals=APPROVALS,
        generated_at=GENERATED_AT,
    )


def test_the_pack_satisfies_the_contract(key: SigningKey) -> None:
    pack = full_pack(key)
    assert_pack_valid(pack)
    # A pack with empty journals and no persona is valid too.
    minimal = evidence.build_pack(stored_session(personaId=None, results=None), key)
    assert_pack_valid(minimal)
    assert minimal["bundle"]["toolCalls"] == [] and minimal["bundle"]["approvals"] == []


def test_the_bundle_is_built_from_the_stored_session(key: SigningKey) -> None:
    doc = stored_session()
    bundle = full_pack(key)["bundle"]
    assert bundle["version"] == "1"
    assert bundle["sessionId"] == doc["id"]
    assert bundle["tenantId"] == "clinic-north"
    assert bundle["scenarioId"] == "healthcare-intake"
    assert bundle["scenarioTitle"] == "Patient intake"
    assert bundle["generatedAt"] == GENERATED_AT
    assert bundle["durationSeconds"] == 185.0
    assert bundle["persona"] == {"id": "healthcare_patient_intake", "displayName": "Nora", "voice": "marin"}
    assert bundle["transcript"] == doc["transcript"]
    assert bundle["results"] == doc["results"]


def test_reasoning_is_the_timeline_then_failed_integration_attempts(key: SigningKey) -> None:
    assert full_pack(key)["bundle"]["reasoning"] == [
        {"at": "2026-03-02T10:12:10.000Z", "label": "New patient intake — Caller wants a first visit"},
        {"at": "2026-03-02T10:13:40.000Z", "label": "Patient record created — Demographics saved"},
        {
            "at": "2026-03-02T10:15:00.300Z",
            "label": "Integration attempt failed (webhook): Intake could not be sent to webhook: HTTP 500",
        },
    ]


def test_system_updates_are_system_writes_and_delivered_integrations(key: SigningKey) -> None:
    assert full_pack(key)["bundle"]["systemUpdates"] == [
        {
            "id": "evt-2",
            "system": "ehr",
            "at": "2026-03-02T10:13:40.000Z",
            "description": "Patient record created — Demographics saved",
        },
        {
            "id": "out-ehr",
            "system": "athena",
            "at": "2026-03-02T10:15:00.220Z",
            "description": "Intake sent to ehr in 120 ms",
            "fieldsChanged": ["dateOfBirth", "fullName"],
        },
    ]


def test_tool_calls_and_approvals_come_from_the_journals_with_credentials_masked(key: SigningKey) -> None:
    bundle = full_pack(key)["bundle"]
    assert bundle["toolCalls"] == [
        {
            "id": "exec-1",
            "tool": "lookup_patient",
            "startedAt": "2026-03-02T10:12:30.000Z",
            "latencyMs": 84,
            "status": "success",
            "inputsPreview": {"lastName": "Pérez", "apiKey": "[redacted]"},
            "outputsPreview": {"found": False, "note": "[redacted]"},
        },
        {"id": "exec-2", "tool": "schedule_visit", "startedAt": "2026-03-02T10:14:00.000Z", "status": "pending"},
    ]
    assert "sk-should-never-appear" not in full_pack(key)["canonicalJson"]
    assert bundle["approvals"] == APPROVALS


@pytest.mark.parametrize(
    ("executions", "message"),
    [
        ([{"tool": "x", "startedAt": "t", "status": "success"}], r"toolCalls\[0\] needs a non-empty string id"),
        ([{"id": "1", "tool": "x", "startedAt": "t", "status": "done"}], r"toolCalls\[0\].status"),
        ([{"id": "1", "tool": "x", "startedAt": "t", "status": "failed", "latencyMs": "9"}], "latencyMs"),
        ([{"id": "1", "tool": "x", "startedAt": "t", "status": "failed", "inputsPreview": [1]}], "inputsPreview"),
    ],
)
def test_a_malformed_tool_execution_is_refused(executions: list, message: str) -> None:
    with pytest.raises(evidence.EvidenceInputError, match=message):
        evidence.build_bundle(stored_session(), tool_executions=executions)


def test_a_malformed_approval_is_refused() -> None:
    with pytest.raises(evidence.EvidenceInputError, match=r"approvals\[0\] needs a non-empty string requestedAt"):
        evidence.build_bundle(stored_session(), approvals=[{"id": "a"}])
    with pytest.raises(evidence.EvidenceInputError, match=r"approvals\[0\].decision"):
        evidence.build_bundle(stored_session(), approvals=[{"id": "a", "requestedAt": "t", "decision": "maybe"}])


def test_a_session_not_finalized_has_no_evidence() -> None:
    doc = stored_session(status="active")
    doc.pop("finalizedAt")
    with pytest.raises(NotFound, match="not finalized") as raised:
        evidence.build_bundle(doc)
    assert raised.value.code == "session_not_finalized"


def test_a_redacted_session_keeps_its_metadata_and_an_empty_transcript(key: SigningKey) -> None:
    pack = evidence.build_pack(stored_session(transcript=[], extractedData={}), key)
    assert pack["bundle"]["transcript"] == []
    assert pack["manifest"]["counts"]["transcriptItems"] == 0
    assert_pack_valid(pack)


def test_the_manifest_hashes_and_counts_the_canonical_bundle(key: SigningKey) -> None:
    pack = full_pack(key)
    canonical = canonical_bytes(pack["bundle"])
    manifest = pack["manifest"]
    assert pack["canonicalJson"].encode("utf-8") == canonical
    assert manifest["version"] == "1"
    assert manifest["sessionId"] == pack["sessionId"] == pack["bundle"]["sessionId"]
    assert manifest["generatedAt"] == GENERATED_AT
    assert manifest["bundleSha256"] == hashlib.sha256(canonical).hexdigest()
    assert manifest["bundleByteLength"] == len(canonical)
    assert manifest["packSha256"] == canonical_sha256({"bundle": pack["bundle"], "signature": pack["signature"]})
    assert manifest["counts"] == {
        "transcriptItems": 3,
        "reasoningEntries": 3,
        "toolCalls": 2,
        "systemUpdates": 2,
        "approvals": 1,
    }


def test_each_section_has_its_own_digest(key: SigningKey) -> None:
    bundle = full_pack(key)["bundle"]
    digests = evidence.section_sha256(bundle)
    assert list(digests) == ["transcript", "reasoning", "toolCalls", "systemUpdates", "approvals"]
    assert digests["transcript"] == hashlib.sha256(canonical_bytes(bundle["transcript"])).hexdigest()
    changed = copy.deepcopy(bundle)
    changed["approvals"][0]["note"] = "Insurance not verified"
    after = evidence.section_sha256(changed)
    assert [name for name in digests if digests[name] != after[name]] == ["approvals"]


def test_the_signature_is_ed25519_over_exactly_the_canonical_bytes(key: SigningKey) -> None:
    pack = full_pack(key)
    signature = pack["signature"]
    assert signature["algorithm"] == "ed25519"
    assert signature["publicKeyId"] == key.public_key_id
    assert signature["publicKeyPem"] == key.public_key_pem
    raw = base64.b64decode(signature["signatureB64"], validate=True)
    assert len(raw) == 64
    # Checked with cryptography directly, independently of shared.evidence.verify.
    load_public_key(signature["publicKeyPem"]).verify(raw, pack["canonicalJson"].encode("utf-8"))


def test_the_same_session_yields_the_same_pack_bytes(key: SigningKey) -> None:
    doc = stored_session()
    first, second = (
        evidence.build_pack(doc, key, tool_executions=TOOL_EXECUTIONS, approvals=APPROVALS, generated_at=GENERATED_AT)
        for _ in range(2)
    )
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_content_digest_ignores_generation_time_but_not_content(key: SigningKey) -> None:
    doc = stored_session()
    early = evidence.build_bundle(doc, generated_at="2026-01-01T00:00:00.000Z")
    late = evidence.build_bundle(doc, generated_at="2027-01-01T00:00:00.000Z")
    assert evidence.content_sha256(early) == evidence.content_sha256(late)
    changed = evidence.build_bundle(stored_session(duration=186.0), generated_at="2026-01-01T00:00:00.000Z")
    assert evidence.content_sha256(changed) != evidence.content_sha256(early)


def test_the_pack_survives_a_json_round_trip(key: SigningKey) -> None:
    """What a client downloads and sends back canonicalizes to the signed bytes (e.g. 185.0 → 185)."""
    pack = full_pack(key)
    reread = json.loads(json.dumps(pack))
    assert canonical_bytes(reread["bundle"]) == pack["canonicalJson"].encode("utf-8")
