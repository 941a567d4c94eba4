"""Sessions: creation, access, finalize rules, snapshot secrets, list, channel events, retention."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.sessions import aggregate, retention
from tests.support.concurrency import run_in_threads
from tests.support.identity import new_tenant_id
from tests.support.sessions import finalize_payload, key_headers, start_session


def test_creation_sets_an_http_only_cookie_and_defaults_the_tenant(client):
    response = client.post("/api/sessions", json={"scenarioId": "insurance-fnol"})
    assert response.status_code == 201
    body = response.json()
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"session_access={body['accessKey']};")
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Max-Age=604800"):
        assert attribute in cookie
    doc = aggregate.sessions.read(body["sessionId"], "default-practice")
    assert doc is not None and doc["tenantId"] == "default-practice"


def test_an_unknown_scenario_is_400(client):
    assert client.post("/api/sessions", json={"scenarioId": "no-such"}).status_code == 400
    assert client.post("/api/sessions", json={}).status_code == 400


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        ({"requestedLocale": "es-mx", "navigatorLanguage": "fr-CA"}, "en-IN", "es-MX"),
        ({"navigatorLanguage": "fr-CA"}, "en-in", "en-IN"),
        ({"navigatorLanguage": "fr-CA,fr;q=0.9"}, None, "fr-CA"),
    ],
)
def test_locale_comes_from_the_request_then_the_header_then_the_browser(client, body, header, expected):
    headers = {"X-Tellgence-Locale-Hint": header} if header else {}
    session = start_session(client, "insurance-fnol", headers=headers, **body)
    assert session["requestedLocale"] == expected


def test_an_operator_token_decides_the_tenant_whatever_the_body_names(client, tokens):
    tenant = new_tenant_id("ses")
    admin = start_session(client, headers=tokens.headers(tenant, "operator"), tenantId="someone-else")
    assert aggregate.sessions.read(admin["sessionId"], tenant) is not None
    anonymous = start_session(client)
    assert aggregate.sessions.read(anonymous["sessionId"], "default-practice") is not None
    forged = client.post(
        "/api/sessions",
        json={"scenarioId": "insurance-fnol"},
        headers={"Authorization": "Bearer not.a.token"},
    )
    assert forged.status_code == 401


def enable_public_demo(client, tokens, tenant: str, origins: list[str]) -> None:
    response = client.patch(
        "/api/cp/onboarding/tenant-settings",
        json={"publicDemo": {"enabled": True, "allowedOrigins": origins}},
        headers=tokens.headers(tenant, "admin"),
    )
    assert response.status_code == 200, response.text


def test_an_anonymous_caller_names_a_tenant_only_where_it_takes_public_demos_from_that_origin(client, tokens):
    tenant = new_tenant_id("pub")
    closed = new_tenant_id("closed")
    client.get("/api/cp/auth/session", headers=tokens.headers(closed, "admin"))  # the tenant exists
    enable_public_demo(client, tokens, tenant, ["https://clinic.example"])
    body = {"scenarioId": "insurance-fnol", "tenantId": tenant}
    allowed = client.post("/api/sessions", json=body, headers={"Origin": "https://clinic.example"})
    assert allowed.status_code == 201
    assert aggregate.sessions.read(allowed.json()["sessionId"], tenant) is not None
    refusals = [
        client.post("/api/sessions", json=body, headers={"Origin": "https://evil.example"}),
        client.post("/api/sessions", json=body),
        client.post("/api/sessions", json={**body, "tenantId": closed}, headers={"Origin": "https://clinic.example"}),
        client.post("/api/sessions", json={**body, "tenantId": "ghost-tenant-xyz"}),
    ]
    # One answer whether or not the tenant exists: nothing to learn about the directory.
    assert {(r.status_code, r.json()["error"], r.json()["message"]) for r in refusals} == {
        (403, "public_demo_not_allowed", refusals[0].json()["message"])
    }
    finalized = client.post(
        "/api/sessions/finalize", json=finalize_payload(tenantId=closed), headers={"Origin": "https://clinic.example"}
    )
    assert finalized.status_code == 403


def test_access_needs_the_key_or_an_operator_of_the_tenant(client, tokens):
    tenant = new_tenant_id("ses")
    session = start_session(client, headers=tokens.headers(tenant, "operator"))
    sid = session["sessionId"]
    assert client.get(f"/api/sessions/{sid}", headers=key_headers(session)).status_code == 200
    assert client.get(f"/api/sessions/{sid}", headers={"x-session-access": "wrong" * 9}).status_code == 401
    assert client.get(f"/api/sessions/{sid}").status_code == 401
    assert client.get(f"/api/sessions/{sid}", headers=tokens.headers(tenant, "viewer")).status_code == 200
    viewer_write = client.patch(
        f"/api/sessions/{sid}/state", json={"completedStep": "x"}, headers=tokens.headers(tenant, "viewer")
    )
    assert viewer_write.status_code == 403
    operator_write = client.patch(
        f"/api/sessions/{sid}/state", json={"completedStep": "x"}, headers=tokens.headers(tenant, "operator")
    )
    assert operator_write.status_code == 200
    assert client.get(f"/api/sessions/{sid}", headers=tokens.headers(new_tenant_id(), "owner")).status_code == 404
    assert client.get(f"/api/sessions/{uuid.uuid4().hex}", headers=key_headers(session)).status_code == 404


def test_an_expired_session_is_404(client):
    from shared.platform import clock

    session = start_session(client)
    sid = session["sessionId"]
    aggregate.sessions.update_fields(sid, "default-practice", {"expiresAt": clock.now_iso()})
    aggregate.handles.update_fields(sid, sid, {"expiresAt": clock.now_iso()})
    for path in ("", "/state", "/results", "/cost"):
        assert client.get(f"/api/sessions/{sid}{path}", headers=key_headers(session)).status_code == 404, path


def test_finalize_without_a_session_creates_one_and_ignores_client_scores(client):
    response = client.post("/api/sessions/finalize", json=finalize_payload(leadScore=100, leadTier="hot"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accessKey"] and "set-cookie" in response.headers
    stored = client.get(f"/api/sessions/{body['sessionId']}", headers={"x-session-access": body["accessKey"]}).json()
    assert stored["leadScore"] == body["leadScore"]


def test_refinalizing_is_idempotent(client):
    session = start_session(client)
    payload = finalize_payload(sessionId=session["sessionId"])
    first = client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).json()
    second = client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).json()
    assert (first["leadScore"], first["leadTier"]) == (second["leadScore"], second["leadTier"])
    first["results"].pop("computedAt"), second["results"].pop("computedAt")
    assert first["results"] == second["results"]


def test_finalize_of_a_held_session_needs_its_key(client):
    session = start_session(client)
    payload = finalize_payload(sessionId=session["sessionId"])
    missing = client.post("/api/sessions/finalize", json=payload)
    assert (missing.status_code, missing.json()["error"]) == (400, "missing_session_access")
    wrong = client.post("/api/sessions/finalize", json=payload, headers={"x-session-access": "x" * 43})
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_session_access")
    assert wrong.json()["details"] and wrong.json()["domainModuleId"]


def test_finalize_rejects_malformed_transcripts_and_another_scenario(client):
    session = start_session(client)
    bad = finalize_payload(sessionId=session["sessionId"], transcript=[{"text": "no role"}])
    assert client.post("/api/sessions/finalize", json=bad, headers=key_headers(session)).status_code == 400
    other = finalize_payload(
        "healthcare-intake",
        sessionId=session["sessionId"],
        extractedData={
            "fullName": "A",
            "dateOfBirth": "1990-01-01",
            "phone": "1",
            "reasonForVisit": "x",
            "insuranceCarrier": "y",
            "memberId": "z",
            "preferredLanguage": "en",
            "consentToTreat": True,
        },
    )
    assert client.post("/api/sessions/finalize", json=other, headers=key_headers(session)).status_code == 400


def test_the_snapshot_refuses_secrets(client):
    session = start_session(client)
    url = f"/api/sessions/{session['sessionId']}/realtime-snapshot"
    headers = key_headers(session)
    ok = client.patch(
        url,
        json={"personaId": "insurance_claims_intake", "voice": "marin", "realtimeDeployment": "gpt-realtime"},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["snapshot"]["voice"] == "marin"
    for leak in (
        {"sessionHints": {"apiKey": "abc"}},
        {"sessionHints": {"note": "ek_68af2f0c9d0c8190a1b2c3d4e5f6"}},
        {"clientBuild": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"},
        {"sessionHints": {"authorization": "Bearer x"}},
    ):
        response = client.patch(url, json={"personaId": "insurance_claims_intake", **leak}, headers=headers)
        assert response.status_code == 400, leak
        assert response.json()["error"] == "secret_in_payload"
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=headers).json()["realtimeSnapshot"]
    assert "sessionHints" not in stored


def test_twenty_concurrent_completed_steps_are_all_kept(client):
    client.check_budget = False  # twenty writers race on one document: the losers re-read
    session = start_session(client)
    sid, headers = session["sessionId"], key_headers(session)
    client.get(f"/api/sessions/{sid}/state", headers=headers)
    statuses = []

    def complete(step: int) -> None:
        response = client.patch(f"/api/sessions/{sid}/state", json={"completedStep": f"step-{step}"}, headers=headers)
        statuses.append(response.status_code)

    run_in_threads(complete, [(step,) for step in range(20)])
    assert statuses == [200] * 20
    steps = client.get(f"/api/sessions/{sid}/state", headers=headers).json()["completedSteps"]
    assert sorted(steps) == sorted(f"step-{step}" for step in range(20))


def test_state_moves_forward_hands_off_and_escalates(client):
    session = start_session(client, "healthcare-intake")
    sid, headers = session["sessionId"], key_headers(session)
    initial = client.get(f"/api/sessions/{sid}/state", headers=headers).json()
    url = f"/api/sessions/{sid}/state"
    assert client.patch(url, json={"currentPhase": "data_capture"}, headers=headers).status_code == 200
    back = client.patch(url, json={"currentPhase": "greeting"}, headers=headers)
    assert back.status_code == 400 and back.json()["error"] == "invalid_phase_transition"
    assert client.patch(url, json={"currentPhase": "teleport"}, headers=headers).status_code == 400
    swapped = client.patch(url, json={"currentPersonaId": "healthcare_patient_intake_es"}, headers=headers).json()
    assert swapped["handoffContext"]["fromPersonaId"] == initial["currentPersonaId"]
    assert swapped["handoffContext"]["toPersonaId"] == "healthcare_patient_intake_es"
    assert client.patch(url, json={"currentPersonaId": "nobody"}, headers=headers).status_code == 400
    escalated = client.patch(url, json={"escalationReason": "caller reports chest pain"}, headers=headers).json()
    assert escalated["currentPhase"] == "handoff" and escalated["escalationTimestamp"]
    twice = client.patch(url, json={"completedStep": "capture_phone"}, headers=headers)
    again = client.patch(url, json={"completedStep": "capture_phone"}, headers=headers).json()
    assert twice.status_code == 200 and again["completedSteps"].count("capture_phone") == 1
    assert "capture_phone" not in again["pendingSteps"]


def test_channel_events_are_an_ordered_log(client):
    session = start_session(client)
    sid = session["sessionId"]
    for sequence, status in enumerate(["initiated", "ringing", "answered", "completed"]):
        aggregate.append_channel_event(
            sid,
            "default-practice",
            {
                "id": f"{sid}-{sequence}",
                "timestamp": f"2026-11-28T10:00:0{sequence}Z",
                "sequence": sequence,
                "type": "call_status",
                "status": status,
                "providerId": "acs",
                "label": status.title(),
            },
        )
    body = client.get(f"/api/sessions/{sid}/channel-events", headers=key_headers(session)).json()
    assert body["count"] == 4
    assert [event["status"] for event in body["events"]] == ["initiated", "ringing", "answered", "completed"]


def test_the_admin_list_is_tenant_scoped_filtered_sorted_and_paged(client, tokens):
    tenant = new_tenant_id("list")
    headers = tokens.headers(tenant, "viewer")
    operator = tokens.headers(tenant, "operator")
    for index in range(6):
        scenario = "insurance-fnol" if index % 2 else "dental-new-patient-emergency"
        session = start_session(client, scenario, headers=operator)
        payload = finalize_payload(scenario, sessionId=session["sessionId"], duration=100 + index)
        client.post("/api/sessions/finalize", json=payload, headers=key_headers(session))
    start_session(client, headers=tokens.headers(new_tenant_id("list"), "operator"))
    page = client.get(
        "/api/sessions", params={"pageSize": 5, "sortBy": "duration", "sortOrder": "asc"}, headers=headers
    )
    body = page.json()
    assert body["pagination"] == {"page": 1, "pageSize": 5, "total": 6, "totalPages": 2}
    durations = [item["duration"] for item in body["sessions"]]
    assert durations == sorted(durations) and len(durations) == 5
    second = client.get(
        "/api/sessions", params={"pageSize": 5, "page": 2, "sortBy": "duration", "sortOrder": "asc"}, headers=headers
    ).json()
    assert len(second["sessions"]) == 1 and second["sessions"][0]["duration"] == 105
    dental = client.get("/api/sessions", params={"domain": "dental"}, headers=headers).json()
    assert dental["pagination"]["total"] == 3 and dental["filters"] == {"domain": "dental"}
    assert client.get("/api/sessions", params={"pageSize": 500}, headers=headers).status_code == 400
    assert client.get("/api/sessions").status_code == 401


def test_the_retention_timer_redacts_expired_sessions(client, devhost):
    session = start_session(client)
    client.post(
        "/api/sessions/finalize", json=finalize_payload(sessionId=session["sessionId"]), headers=key_headers(session)
    )
    doc = aggregate.sessions.read(session["sessionId"], "default-practice")
    expired = {**doc["consentRetention"], "artifactExpiresAt": "2000-01-01T00:00:00.000Z"}
    aggregate.sessions.update(doc["id"], doc["tenantId"], lambda d: d.update(consentRetention=expired))
    devhost.fire_timer("purge_expired_sessions")
    after = aggregate.sessions.read(session["sessionId"], "default-practice")
    assert after["transcript"] == [] and after["extractedData"] == {}
    assert after["consentRetention"]["redacted"] is True and after["purgedAt"]
    assert "contact" not in after["interactionSummary"]
    retention.purge_expired()
    assert aggregate.sessions.read(session["sessionId"], "default-practice")["purgedAt"] == after["purgedAt"]


def test_session_creation_is_rate_limited_per_client(client, settings_env):
    from tests.conftest import reset_clients

    settings_env.setenv("RATE_LIMITS", "create_session=2/60")
    reset_clients()
    codes = [client.post("/api/sessions", json={"scenarioId": "insurance-fnol"}).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_concurrent_identical_finalizes_answer_byte_identical_results(client):
    client.check_budget = False  # the racing writers re-read after losing
    session = start_session(client)
    payload = finalize_payload(sessionId=session["sessionId"])
    bodies: list[bytes] = []

    def finalize() -> None:
        response = client.post("/api/sessions/finalize", json=payload, headers=key_headers(session))
        assert response.status_code == 200, response.text
        bodies.append(json.dumps(response.json()["results"], sort_keys=True).encode())

    run_in_threads(finalize, [()] * 8)
    assert len(bodies) == 8 and len(set(bodies)) == 1
    stored = client.get(f"/api/sessions/{session['sessionId']}/results", headers=key_headers(session)).json()
    assert json.dumps(stored["results"] | {"isExpired": False}, sort_keys=True).encode() == bodies[0]
