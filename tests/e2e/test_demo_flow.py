"""A whole demo over HTTP: create → state → finalize → results → read back with the key."""

from __future__ import annotations

from tests.support.sessions import finalize_payload, key_headers, start_session


def test_a_prospect_runs_a_demo_end_to_end(client):
    session = start_session(client, "insurance-fnol", requestedLocale="en-US")
    headers = key_headers(session)
    sid = session["sessionId"]

    state = client.get(f"/api/sessions/{sid}/state", headers=headers).json()
    assert state["currentPhase"] == "greeting" and state["pendingSteps"]
    moved = client.patch(
        f"/api/sessions/{sid}/state", json={"currentPhase": "qualification", "completedStep": "greet"}, headers=headers
    )
    assert moved.json()["completedSteps"] == ["greet"]

    finalized = client.post(
        "/api/sessions/finalize", json=finalize_payload(sessionId=sid, leadScore=100, leadTier="hot"), headers=headers
    )
    assert finalized.status_code == 200, finalized.text
    body = finalized.json()
    assert body["sessionId"] == sid and body["accessKey"] == session["accessKey"]
    assert 0 <= body["leadScore"] <= 100

    results = client.get(f"/api/sessions/{sid}/results", headers=headers).json()["results"]
    assert results["leadScore"]["score"] == body["leadScore"]
    assert results["isExpired"] is False

    stored = client.get(f"/api/sessions/{sid}", headers=headers).json()
    assert stored["toolsUsed"] == ["lookup_policy", "create_fnol_claim"]
    assert stored["leadScore"] == body["leadScore"]
    assert len(stored["transcript"]) == 4

    cost = client.get(f"/api/sessions/{sid}/cost", headers=headers).json()
    assert cost["tokenUsage"] == {"inputTokens": 12000, "outputTokens": 3000, "totalTokens": 15000}
    assert cost["estimatedCostUsd"] > 0

    pack = client.get(f"/api/sessions/{sid}/evidence-packs", headers=headers).json()
    assert pack["bundle"]["sessionId"] == sid and len(pack["bundle"]["transcript"]) == 4
    signature = {name: pack["signature"][name] for name in ("algorithm", "publicKeyPem", "signatureB64")}
    verdict = client.post(
        f"/api/sessions/{sid}/evidence-packs/verify", json={"json": pack["canonicalJson"], "signature": signature}
    )
    assert verdict.status_code == 401  # the key is needed here too
    verdict = client.post(
        f"/api/sessions/{sid}/evidence-packs/verify",
        json={"json": pack["canonicalJson"], "signature": signature},
        headers=headers,
    )
    assert verdict.json() == {"valid": True, "publicKeyId": pack["signature"]["publicKeyId"]}
    for path in ("pdf", "evidence-packs.pdf"):
        document = client.get(f"/api/sessions/{sid}/{path}", headers=headers)
        assert document.status_code == 200 and document.content.startswith(b"%PDF-"), path


def test_the_public_demo_never_fans_out_across_partitions(client, monkeypatch):
    from shared.platform.store.repository import CrossPartitionReader

    def refuse(*args, **kwargs):
        raise AssertionError("a public request ran a cross-partition query")

    monkeypatch.setattr(CrossPartitionReader, "query", refuse)
    session = start_session(client, "healthcare-intake")
    headers = key_headers(session)
    sid = session["sessionId"]
    for path in ("", "/state", "/results", "/cost", "/channel-events"):
        assert client.get(f"/api/sessions/{sid}{path}", headers=headers).status_code == 200, path
    for path in ("/evidence-packs", "/evidence-packs.pdf", "/pdf"):
        assert client.get(f"/api/sessions/{sid}{path}", headers=headers).status_code == 404, path  # not finalized
    client.patch(f"/api/sessions/{sid}/state", json={"currentPhase": "qualification"}, headers=headers)
    for path in ("/api/personas", "/api/voices", "/api/scenarios", "/api/scenarios/healthcare-intake"):
        assert client.get(path).status_code == 200
