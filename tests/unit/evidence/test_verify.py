"""Verification: round trips, tampering of any byte, field or array order, rotation, malformed input."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from shared.evidence import bundle as evidence
from shared.evidence import keys
from shared.evidence.verify import verify, verify_pack, verify_trusted
from shared.platform.settings import Settings
from tests.unit.evidence.conftest import APPROVALS, TOOL_EXECUTIONS, stored_session
from tests.unit.evidence.schemas import assert_verify_response_valid, verify_request_schema

SPANISH_AND_URDU = [
    {"role": "assistant", "text": "¿Cuál es su fecha de nacimiento, señora Núñez?", "timestamp": 1},
    {"role": "user", "text": "میرا نام علی ہے اور مجھے ملاقات چاہیے۔", "timestamp": 2.25},
]


@pytest.fixture(scope="module")
def pack(key: keys.SigningKey) -> dict[str, Any]:
    doc = stored_session(transcript=SPANISH_AND_URDU)
    return evidence.build_pack(doc, key, tool_executions=TOOL_EXECUTIONS, approvals=APPROVALS)


def checked(result: dict[str, Any]) -> dict[str, Any]:
    assert_verify_response_valid(result)
    return result


def test_a_pack_verifies_as_its_canonical_string_and_as_its_bundle_object(pack: dict[str, Any]) -> None:
    for bundle in (pack["canonicalJson"], pack["bundle"], json.loads(pack["canonicalJson"])):
        result = checked(verify(bundle, pack["signature"]))
        assert result == {"valid": True, "publicKeyId": pack["signature"]["publicKeyId"]}


def test_the_verify_request_body_of_the_contract_accepts_what_the_pack_carries(pack: dict[str, Any]) -> None:
    from tests.support.contract import validate_schema

    body = {"json": pack["canonicalJson"], "signature": pack["signature"]}
    validate_schema(verify_request_schema(), body, "verify request")
    assert verify(body["json"], body["signature"])["valid"] is True


def test_flipping_any_byte_of_the_canonical_bundle_invalidates_it(pack: dict[str, Any]) -> None:
    signed = pack["canonicalJson"].encode("utf-8")
    for position in range(len(signed)):
        tampered = bytearray(signed)
        tampered[position] ^= 0x01
        result = verify(bytes(tampered), pack["signature"])
        assert result["valid"] is False, f"byte {position} could be changed unnoticed"
    assert verify(signed + b" ", pack["signature"])["valid"] is False
    assert verify(signed[:-1], pack["signature"])["valid"] is False


def mutations() -> dict[str, Any]:
    def set_in(path: list[Any], value: Any):
        def apply(bundle: dict[str, Any]) -> None:
            target = bundle
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = value

        return apply

    def swap(section: str):
        def apply(bundle: dict[str, Any]) -> None:
            bundle[section][0], bundle[section][1] = bundle[section][1], bundle[section][0]

        return apply

    return {
        "transcript text": set_in(["transcript", 1, "text"], "میرا نام علی ہے"),
        "transcript timestamp": set_in(["transcript", 0, "timestamp"], 1.5),
        "duration": set_in(["durationSeconds"], 1),
        "number as string": set_in(["durationSeconds"], "185"),
        "tool status": set_in(["toolCalls", 1, "status"], "success"),
        "approval decision": set_in(["approvals", 0, "decision"], "rejected"),
        "system update": set_in(["systemUpdates", 0, "system"], "crm"),
        "result score": set_in(["results", "leadScore", "score"], 99),
        "added field": set_in(["persona", "note"], "x"),
        "removed field": lambda bundle: bundle.pop("scenarioTitle"),
        "removed transcript turn": lambda bundle: bundle["transcript"].pop(),
        "transcript order": swap("transcript"),
        "reasoning order": swap("reasoning"),
        "tool call order": swap("toolCalls"),
        "system update order": swap("systemUpdates"),
    }


@pytest.mark.parametrize("name", sorted(mutations()))
def test_changing_any_field_or_the_order_of_array_items_invalidates(pack: dict[str, Any], name: str) -> None:
    bundle = copy.deepcopy(pack["bundle"])
    mutations()[name](bundle)
    assert bundle != pack["bundle"]
    result = checked(verify(bundle, pack["signature"]))
    assert result["valid"] is False
    assert "does not match" in result["reason"]


def test_object_key_order_is_not_significant(pack: dict[str, Any]) -> None:
    reordered = dict(reversed(list(pack["bundle"].items())))
    assert verify(reordered, pack["signature"])["valid"] is True


def test_a_pack_signed_before_a_rotation_verifies_after_it(key: keys.SigningKey) -> None:
    old_pem = keys.generate_private_key_pem()
    old = keys.signing_key_from_pem(old_pem)
    before = evidence.build_pack(stored_session(), old)
    rotated = Settings.from_env(
        {
            "APP_ENV": "production",
            "EVIDENCE_SIGNING_KEY": keys.generate_private_key_pem(),
            "EVIDENCE_RETIRED_PUBLIC_KEYS": json.dumps([old.public_key_pem]),
        }
    )
    result = checked(verify_trusted(before["canonicalJson"], before["signature"], rotated))
    assert result == {"valid": True, "publicKeyId": old.public_key_id}
    after = evidence.build_pack(stored_session(), keys.signing_key(rotated))
    assert after["signature"]["publicKeyId"] != old.public_key_id
    assert verify_trusted(after["bundle"], after["signature"], rotated)["valid"] is True
    # Once the old key is no longer listed, its packs stop verifying as ours.
    forgotten = Settings.from_env({"APP_ENV": "production", "EVIDENCE_SIGNING_KEY": rotated.evidence_signing_key})
    result = checked(verify_trusted(before["bundle"], before["signature"], forgotten))
    assert result["valid"] is False and "not a Tellgence evidence signing key" in result["reason"]


def test_a_pack_re_signed_with_a_strangers_key_is_not_ours(pack: dict[str, Any], other_key: keys.SigningKey) -> None:
    forged_bundle = copy.deepcopy(pack["bundle"])
    forged_bundle["results"]["leadScore"]["score"] = 100
    forged = evidence.sign_bundle(forged_bundle, other_key)
    # Self-consistent: it verifies against the key it carries ...
    assert verify(forged["bundle"], forged["signature"])["valid"] is True
    # ... but not against the keys we trust.
    ours = {pack["signature"]["publicKeyId"]: pack["signature"]["publicKeyPem"]}
    result = checked(verify(forged["bundle"], forged["signature"], trusted_keys=ours))
    assert result == {
        "valid": False,
        "reason": f"public key {other_key.public_key_id} is not a Tellgence evidence signing key",
        "publicKeyId": other_key.public_key_id,
    }


def with_signature(pack: dict[str, Any], **changes: Any) -> dict[str, Any]:
    signature = dict(pack["signature"])
    signature.update(changes)
    return {key: value for key, value in signature.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"publicKeyPem": "not a pem"}, "the public key is not a well-formed PEM public key"),
        ({"publicKeyPem": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}, "not a well-formed"),
        ({"publicKeyPem": ""}, "publicKeyPem is missing"),
        ({"publicKeyPem": 42}, "publicKeyPem is missing"),
        ({"algorithm": "RS256"}, "unsupported signature algorithm 'RS256'"),
        ({"algorithm": "Ed25519"}, "unsupported signature algorithm"),
        ({"algorithm": None}, "algorithm is missing"),
        ({"signatureB64": "***not base64***"}, "signatureB64 is not valid base64"),
        ({"signatureB64": base64.b64encode(b"short").decode()}, "has 64 bytes, this one has 5"),
        ({"signatureB64": None}, "signatureB64 is missing"),
        ({"signatureB64": base64.b64encode(bytes(64)).decode()}, "does not match"),
        ({"publicKeyId": "0000000000000000"}, "the signature names key '0000000000000000'"),
    ],
)
def test_malformed_keys_and_signatures_answer_invalid_with_a_reason(
    pack: dict[str, Any], changes: dict[str, Any], reason: str
) -> None:
    result = checked(verify(pack["canonicalJson"], with_signature(pack, **changes)))
    assert result["valid"] is False
    assert reason in result["reason"]


def test_an_rsa_public_key_is_not_well_formed_for_us(pack: dict[str, Any]) -> None:
    from tests.unit.evidence.test_keys import rsa_public_pem

    result = checked(verify(pack["canonicalJson"], with_signature(pack, publicKeyPem=rsa_public_pem())))
    assert result["valid"] is False and "not an ed25519 public key" in result["reason"]


@pytest.mark.parametrize(
    ("bundle", "signature", "reason"),
    [
        ("{}", "not an object", "signature must be an object"),
        ("{}", None, "signature must be an object"),
        (["a", "list"], "pack-signature", "must be a JSON string or an object"),
        (17, "pack-signature", "must be a JSON string or an object"),
        ({"nan": float("nan")}, "pack-signature", "cannot be canonicalized"),
        ({"big": 2**60}, "pack-signature", "cannot be canonicalized"),
        ("\ud800", "pack-signature", "not valid Unicode"),
    ],
)
def test_malformed_bundles_answer_invalid_never_raise(pack: dict[str, Any], bundle: Any, signature: Any, reason: str):
    signature = pack["signature"] if signature == "pack-signature" else signature
    result = checked(verify(bundle, signature))
    assert result["valid"] is False and reason in result["reason"]


def test_a_pretty_printed_bundle_string_is_not_the_signed_bytes_and_says_so(pack: dict[str, Any]) -> None:
    pretty = json.dumps(pack["bundle"], indent=2, ensure_ascii=False)
    result = checked(verify(pretty, pack["signature"]))
    assert result["valid"] is False
    assert "not in RFC 8785 canonical form" in result["reason"]


def test_verify_pack_checks_signature_canonical_json_and_manifest(pack: dict[str, Any]) -> None:
    assert verify_pack(pack) == {"valid": True, "publicKeyId": pack["signature"]["publicKeyId"], "keyFromPack": True}
    given = verify_pack(pack, [pack["signature"]["publicKeyPem"]])
    assert given["valid"] is True and given["keyFromPack"] is False

    def broken(change) -> dict[str, Any]:
        copy_ = copy.deepcopy(pack)
        change(copy_)
        return verify_pack(copy_)

    cases = {
        "canonicalJson is not the canonical form": lambda p: p.update(canonicalJson=p["canonicalJson"] + " "),
        "manifest.bundleSha256": lambda p: p["manifest"].update(bundleSha256="0" * 64),
        "manifest.bundleByteLength": lambda p: p["manifest"].update(bundleByteLength=1),
        "manifest.counts": lambda p: p["manifest"]["counts"].update(approvals=0),
        "manifest.packSha256": lambda p: p["manifest"].update(packSha256="0" * 64),
        "the pack names another session": lambda p: p.update(sessionId="other"),
        "the manifest names another session": lambda p: p["manifest"].update(sessionId="other"),
        "the pack has no manifest": lambda p: p.pop("manifest"),
        "does not match the bundle": lambda p: p["bundle"]["transcript"].reverse(),
    }
    for reason, change in cases.items():
        result = broken(change)
        assert result["valid"] is False and reason in result["reason"], (reason, result)


def test_verify_pack_with_given_keys_requires_the_signing_key_among_them(
    pack: dict[str, Any], other_key: keys.SigningKey
) -> None:
    result = verify_pack(pack, [other_key.public_key_pem])
    assert result["valid"] is False
    assert f"signed by key '{pack['signature']['publicKeyId']}', not by a given key" in result["reason"]
    assert verify_pack(pack, [other_key.public_key_pem, pack["signature"]["publicKeyPem"]])["valid"] is True
    assert "a given public key is" in verify_pack(pack, ["garbage"])["reason"]


@pytest.mark.parametrize("value", [None, [], "pack", {"bundle": [], "signature": {}}, {"bundle": {}}])
def test_verify_pack_of_something_that_is_not_a_pack(value: Any) -> None:
    assert verify_pack(value)["valid"] is False
