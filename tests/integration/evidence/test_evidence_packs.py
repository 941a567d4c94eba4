"""Signed evidence packs over HTTP: verification (ours and independent), immutability, rotation, access, input."""

from __future__ import annotations

import hashlib
import json

import pytest

from shared.evidence.storage import pack_blob_name
from shared.platform.store import blobs
from shared.platform.store.registry import EVIDENCE_PACKS_CONTAINER
from shared.sessions import aggregate
from tests.conftest import evidence_signing_key_pem
from tests.integration.evidence.conftest import finished_session, independent_verify
from tests.support.concurrency import run_in_threads
from tests.support.identity import new_tenant_id
from tests.support.sessions import key_headers, start_session


def get_pack(client, session: dict, path: str = "evidence-packs", headers: dict | None = None):
    response = client.get(f"/api/sessions/{session['sessionId']}/{path}", headers=headers or key_headers(session))
    assert response.status_code == 200, response.text
    return response


def verify(client, session: dict, body: dict, path: str = "evidence-packs/verify"):
    response = client.post(f"/api/sessions/{session['sessionId']}/{path}", json=body, headers=key_headers(session))
    assert response.status_code == 200, response.text
    return response.json()


def signature_of(pack: dict) -> dict:
    signature = pack["signature"]
    return {name: signature[name] for name in ("algorithm", "publicKeyPem", "signatureB64")}


def flip_one_byte(text: str) -> str:
    """The canonical text with one byte of the first transcript turn's text changed."""
    at = text.index('"text":"') + len('"text":"')
    return text[:at] + ("X" if text[at] != "X" else "Y") + text[at + 1 :]


def pack_blobs(tenant_id: str, session_id: str) -> list[str]:
    container = blobs.get_container(EVIDENCE_PACKS_CONTAINER)
    return sorted(blob.name for blob in container.list_blobs(name_starts_with=f"{tenant_id}/{session_id}/"))


def test_a_finished_demos_pack_verifies_with_the_endpoint_and_an_independent_ed25519_check(client):
    import rfc8785

    session = finished_session(client)
    pack = get_pack(client, session).json()
    bundle = pack["bundle"]
    assert bundle["sessionId"] == session["sessionId"] and bundle["tenantId"] == "default-practice"
    assert bundle["transcript"][0]["text"] == "Thanks for calling, how can I help?"
    assert [call["tool"] for call in bundle["toolCalls"]] == ["lookup_policy", "create_fnol_claim"]
    assert [update["description"] for update in bundle["systemUpdates"]] == [
        "FNOL claim created",
        "Adjuster visit booked",
    ]
    # What was signed is the RFC 8785 form of the bundle (computed here by the library, not by our module).
    canonical = rfc8785.dumps(bundle)
    assert pack["canonicalJson"].encode("utf-8") == canonical
    assert pack["manifest"]["bundleSha256"] == hashlib.sha256(canonical).hexdigest()
    assert pack["manifest"]["bundleByteLength"] == len(canonical)
    assert pack["manifest"]["counts"] == {
        "transcriptItems": 4,
        "reasoningEntries": 2,
        "toolCalls": 2,
        "systemUpdates": 2,
        "approvals": 0,
    }

    assert independent_verify(canonical, pack["signature"]["signatureB64"], evidence_signing_key_pem())
    as_string = verify(client, session, {"json": pack["canonicalJson"], "signature": signature_of(pack)})
    assert as_string == {"valid": True, "publicKeyId": pack["signature"]["publicKeyId"]}
    as_object = verify(client, session, {"json": bundle, "signature": pack["signature"]})
    assert as_object["valid"] is True

    flipped = flip_one_byte(pack["canonicalJson"])
    assert len(flipped.encode()) == len(canonical) and flipped != pack["canonicalJson"]
    assert not independent_verify(
        flipped.encode("utf-8"), pack["signature"]["signatureB64"], evidence_signing_key_pem()
    )
    refused = verify(client, session, {"json": flipped, "signature": signature_of(pack)})
    assert refused["valid"] is False and "does not match" in refused["reason"]

    # Any changed field, or the order of any array, invalidates the object form too.
    reordered = {**bundle, "transcript": list(reversed(bundle["transcript"]))}
    assert verify(client, session, {"json": reordered, "signature": signature_of(pack)})["valid"] is False
    changed = {**bundle, "durationSeconds": bundle["durationSeconds"] + 1}
    assert verify(client, session, {"json": changed, "signature": signature_of(pack)})["valid"] is False


def test_the_aliases_answer_the_same_pack_and_verdicts_as_the_plural_paths(client):
    session = finished_session(client)
    plural = get_pack(client, session).content
    singular = get_pack(client, session, "evidence-pack").content
    assert singular == plural
    pack = json.loads(plural)
    body = {"json": pack["canonicalJson"], "signature": signature_of(pack)}
    assert verify(client, session, body, "evidence-pack/verify") == verify(client, session, body)


BOOKED = {
    "channel": "voice",
    "disposition": "booked",
    "intent": "file claim",
    "booking": {"requested": True, "status": "pending", "scheduledFor": "2026-12-01T15:00:00Z"},
}


def test_a_second_get_returns_the_same_bytes_until_the_session_changes_and_earlier_packs_stay(client):
    session = finished_session(client, interactionSummary=BOOKED)
    sid = session["sessionId"]
    first = get_pack(client, session)
    again = get_pack(client, session)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    unchanged = client.get(
        f"/api/sessions/{sid}/evidence-packs", headers={**key_headers(session), "If-None-Match": first.headers["etag"]}
    )
    assert unchanged.status_code == 304 and unchanged.content == b""
    [stored] = pack_blobs("default-practice", sid)
    assert blobs.get_container(EVIDENCE_PACKS_CONTAINER).download_blob(stored).readall() == first.content

    # The booking is confirmed: the session changed, so the next pack is new; the first one stays as it was.
    confirm = client.patch(
        f"/api/sessions/{sid}/booking-lifecycle",
        json={"action": "confirm", "scheduledFor": "2026-12-01T15:00:00Z"},
        headers=key_headers(session),
    )
    assert confirm.status_code == 200, confirm.text
    aggregate.update(
        "default-practice",
        sid,
        lambda doc: doc["timelineEvents"].append(
            {
                "id": "evt-9",
                "type": "record_updated",
                "title": "Claim updated",
                "description": "Adjuster confirmed",
                "system": "claims",
                "timestamp": "2026-11-28T10:05:00Z",
            }
        ),
    )
    second = get_pack(client, session)
    assert second.content != first.content
    assert (
        json.loads(second.content)["bundle"]["systemUpdates"][-1]["description"] == "Claim updated — Adjuster confirmed"
    )
    names = pack_blobs("default-practice", sid)
    assert len(names) == 2 and stored in names
    assert blobs.get_container(EVIDENCE_PACKS_CONTAINER).download_blob(stored).readall() == first.content
    for response in (first, second):
        pack = json.loads(response.content)
        assert verify(client, session, {"json": pack["canonicalJson"], "signature": signature_of(pack)})["valid"]


def test_a_pack_signed_before_a_key_rotation_still_verifies_after_it(client, settings_env):
    from shared.evidence import keys
    from tests.conftest import reset_clients

    session = finished_session(client)
    old = get_pack(client, session).json()
    old_public = old["signature"]["publicKeyPem"]
    new_private = keys.generate_private_key_pem()
    settings_env.setenv("EVIDENCE_SIGNING_KEY", new_private)
    settings_env.setenv("EVIDENCE_RETIRED_PUBLIC_KEYS", old_public)
    reset_clients()

    after = verify(client, session, {"json": old["canonicalJson"], "signature": signature_of(old)})
    assert after == {"valid": True, "publicKeyId": old["signature"]["publicKeyId"]}
    current = get_pack(client, session).json()
    assert current["signature"]["publicKeyId"] == keys.signing_key_from_pem(new_private).public_key_id
    assert current["signature"]["publicKeyId"] != old["signature"]["publicKeyId"]
    assert independent_verify(
        current["canonicalJson"].encode(), current["signature"]["signatureB64"], new_private
    ) and not independent_verify(current["canonicalJson"].encode(), old["signature"]["signatureB64"], new_private)
    assert verify(client, session, {"json": current["canonicalJson"], "signature": signature_of(current)})["valid"]
    assert len(pack_blobs("default-practice", session["sessionId"])) == 2

    # A key that is no longer trusted (not retired, not current) verifies nothing.
    settings_env.setenv("EVIDENCE_RETIRED_PUBLIC_KEYS", "")
    reset_clients()
    distrusted = verify(client, session, {"json": old["canonicalJson"], "signature": signature_of(old)})
    assert distrusted["valid"] is False and "not a Tellgence evidence signing key" in distrusted["reason"]


def test_a_signature_by_another_key_a_malformed_pem_and_bad_signatures_are_answered_invalid(client):
    from shared.evidence import keys
    from shared.evidence.keys import signing_key_from_pem

    session = finished_session(client)
    pack = get_pack(client, session).json()
    forger = signing_key_from_pem(keys.generate_private_key_pem())
    forged = {
        "algorithm": "ed25519",
        "publicKeyPem": forger.public_key_pem,
        "signatureB64": forger.sign_b64(pack["canonicalJson"].encode()),
    }
    answer = verify(client, session, {"json": pack["canonicalJson"], "signature": forged})
    assert answer["valid"] is False and answer["publicKeyId"] == forger.public_key_id
    assert "not a Tellgence evidence signing key" in answer["reason"]
    for pem in ("walk-target", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", ""):
        answer = verify(
            client, session, {"json": pack["canonicalJson"], "signature": {**signature_of(pack), "publicKeyPem": pem}}
        )
        assert answer["valid"] is False and answer["reason"], pem
    for signature_b64 in ("not base64!", "AAAA", ""):
        body = {"json": pack["canonicalJson"], "signature": {**signature_of(pack), "signatureB64": signature_b64}}
        answer = verify(client, session, body)
        assert answer["valid"] is False and answer["reason"], signature_b64
    wrong_id = {**pack["signature"], "publicKeyId": "0000000000000000"}
    answer = verify(client, session, {"json": pack["canonicalJson"], "signature": wrong_id})
    assert answer["valid"] is False and "names key" in answer["reason"]


def test_malformed_verify_bodies_are_400_and_one_over_a_mebibyte_is_413(client):
    session = finished_session(client)
    url = f"/api/sessions/{session['sessionId']}/evidence-packs/verify"
    headers = key_headers(session)
    pack = get_pack(client, session).json()
    good = {"json": pack["canonicalJson"], "signature": signature_of(pack)}
    for body in (
        {"signature": good["signature"]},
        {"json": good["json"]},
        {**good, "json": 12},
        {**good, "json": ["a"]},
        {**good, "signature": {**good["signature"], "algorithm": "rsa"}},
        {**good, "signature": {**good["signature"], "publicKeyPem": "x" * 9_000}},
        {**good, "signature": {**good["signature"], "signatureB64": "A" * 2_000}},
        {**good, "unexpected": True},
    ):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 400, (list(body), response.text)
    oversize = {**good, "json": "a" * (1024 * 1024)}
    response = client.post(url, json=oversize, headers=headers)
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"


def test_packs_are_for_the_keys_holder_or_an_operator_of_the_tenant_only(client, tokens):
    tenant = new_tenant_id("evd")
    operator = tokens.headers(tenant, "operator")
    session = finished_session(client, headers=operator)
    sid = session["sessionId"]
    assert get_pack(client, session, headers=operator).json()["bundle"]["tenantId"] == tenant
    for path in ("evidence-packs", "evidence-packs.pdf", "pdf"):
        viewer = client.get(f"/api/sessions/{sid}/{path}", headers=tokens.headers(tenant, "viewer"))
        assert viewer.status_code == 403, path
        stranger = client.get(f"/api/sessions/{sid}/{path}", headers=tokens.headers(new_tenant_id("other"), "owner"))
        assert stranger.status_code == 404, path
        other_key = client.get(f"/api/sessions/{sid}/{path}", headers=key_headers(start_session(client)))
        assert other_key.status_code == 404, path
        assert client.get(f"/api/sessions/{sid}/{path}").status_code == 401, path
        unknown = client.get(f"/api/sessions/{'f' * 32}/{path}", headers=operator)
        assert unknown.status_code == 404, path
    body = {"json": "{}", "signature": {"algorithm": "ed25519", "publicKeyPem": "x", "signatureB64": "x"}}
    assert client.post(f"/api/sessions/{sid}/evidence-packs/verify", json=body).status_code == 401
    stranger = tokens.headers(new_tenant_id("other"), "owner")
    assert client.post(f"/api/sessions/{sid}/evidence-packs/verify", json=body, headers=stranger).status_code == 404


@pytest.mark.parametrize("path", ["evidence-packs", "evidence-pack", "evidence-packs.pdf", "evidence-pack.pdf", "pdf"])
def test_a_session_that_is_not_finalized_has_no_pack_or_pdf(client, path):
    session = start_session(client)
    response = client.get(f"/api/sessions/{session['sessionId']}/{path}", headers=key_headers(session))
    assert response.status_code == 404
    assert response.json()["error"] == "session_not_finalized"
    assert "not finalized" in response.json()["message"]
    assert pack_blobs("default-practice", session["sessionId"]) == []


def test_without_a_signing_key_outside_local_mode_packs_are_503_saying_so(client, settings_env):
    from tests.conftest import reset_clients

    session = finished_session(client)
    settings_env.setenv("APP_ENV", "production")
    settings_env.setenv("EVIDENCE_SIGNING_KEY", "")
    reset_clients()
    for path in ("evidence-packs", "evidence-packs.pdf"):
        response = client.get(f"/api/sessions/{session['sessionId']}/{path}", headers=key_headers(session))
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "evidence_signing_not_configured"
        assert "EVIDENCE_SIGNING_KEY" in response.json()["message"]
    # The session PDF needs no signature.
    assert client.get(f"/api/sessions/{session['sessionId']}/pdf", headers=key_headers(session)).status_code == 200
    # Operators see why in the health report (a missing key does not make the app unready).
    signing = client.get("/api/health").json()["services"]["evidenceSigning"]
    assert signing == {
        "configured": False,
        "status": "not_configured",
        "mode": "none",
        "error": "EVIDENCE_SIGNING_KEY is not configured",
    }


def test_blob_storage_down_is_503_and_writes_nothing(client, settings_env):
    from shared.platform.store import clients
    from tests.conftest import reset_clients

    session = finished_session(client)
    # Storage's own retries back off for ~40 s before giving up; the answer is the same without them.
    settings_env.setitem(clients.STORAGE_CLIENT_OPTIONS, "retry_total", 0)
    settings_env.setenv(
        "AzureWebJobsStorage",
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        "BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;",
    )
    reset_clients()
    for path in ("evidence-packs", "pdf"):
        response = client.get(f"/api/sessions/{session['sessionId']}/{path}", headers=key_headers(session))
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "storage_unavailable"
    settings_env.undo()
    reset_clients()
    assert pack_blobs("default-practice", session["sessionId"]) == []


def test_concurrent_first_gets_store_one_pack_and_answer_its_bytes(client):
    session = finished_session(client)
    client.check_budget = False  # racing writers
    bodies: list[bytes] = []

    def fetch() -> None:
        bodies.append(get_pack(client, session).content)

    run_in_threads(fetch, [()] * 6)
    assert len(bodies) == 6 and len(set(bodies)) == 1
    assert len(pack_blobs("default-practice", session["sessionId"])) == 1


def test_the_pack_blob_is_named_by_tenant_session_content_hash_and_key(client):
    from shared.evidence.bundle import content_sha256

    session = finished_session(client)
    pack = get_pack(client, session).json()
    name = pack_blob_name(
        "default-practice", session["sessionId"], content_sha256(pack["bundle"]), pack["signature"]["publicKeyId"]
    )
    assert pack_blobs("default-practice", session["sessionId"]) == [name]
    properties = blobs.get_container(EVIDENCE_PACKS_CONTAINER).get_blob_client(name).get_blob_properties()
    assert properties.metadata["packsha256"] == pack["manifest"]["packSha256"]
    assert properties.content_settings.content_type.startswith("application/json")
