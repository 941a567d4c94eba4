"""Healthcare intake finalize: required fields, consent retention, EHR/webhook automation."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from devhost.emulators import free_ports
from shared.integrations.repository import PracticeConnectorRepository
from shared.sessions import aggregate
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id
from tests.support.sessions import finalize_payload, key_headers, start_session

INTAKE = {
    "fullName": "Maria Lopez",
    "dateOfBirth": "1984-03-02",
    "phone": "+1-555-0142",
    "reasonForVisit": "persistent cough",
    "insuranceCarrier": "Aetna",
    "memberId": "W123456789",
    "preferredLanguage": "es-MX",
    "consentToTreat": "granted",
}


@pytest.fixture
def loopback_connectors(settings_env):
    settings_env.setenv("OUTBOUND_ALLOW_LOOPBACK", "true")
    reset_clients()


def intake_session(client, tokens, tenant: str) -> dict:
    return start_session(client, "healthcare-intake", headers=tokens.headers(tenant, "operator"))


def test_missing_intake_fields_are_named(client):
    session = start_session(client, "healthcare-intake")
    partial = {k: v for k, v in INTAKE.items() if k not in ("memberId", "consentToTreat", "dateOfBirth")}
    response = client.post(
        "/api/sessions/finalize",
        json=finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=partial),
        headers=key_headers(session),
    )
    assert response.status_code == 400
    message = response.json()["message"]
    for field in ("memberId", "consentToTreat", "dateOfBirth"):
        assert field in message
    assert aggregate.sessions.read(session["sessionId"], "default-practice")["status"] == "active"


@pytest.mark.parametrize(
    ("consent", "retention", "transcript_kept"),
    [("granted", "full", True), ("denied", "metadata_only", False)],
)
def test_consent_decides_retention(client, consent, retention, transcript_kept):
    session = start_session(client, "healthcare-intake")
    payload = finalize_payload(
        "healthcare-intake", sessionId=session["sessionId"], extractedData={**INTAKE, "consentToTreat": consent}
    )
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()
    assert stored["consentRetention"]["consentStatus"] == consent
    assert stored["consentRetention"]["transcriptRetention"] == retention
    assert bool(stored["transcript"]) is transcript_kept


def test_a_refused_recording_keeps_nothing_personal(client):
    session = start_session(client, "healthcare-intake")
    payload = finalize_payload(
        "healthcare-intake", sessionId=session["sessionId"], extractedData={**INTAKE, "recordingConsent": "none"}
    )
    client.post("/api/sessions/finalize", json=payload, headers=key_headers(session))
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()
    assert stored["consentRetention"]["transcriptRetention"] == "none"
    assert stored["transcript"] == [] and stored["extractedData"] == {}


def test_the_ehr_connector_receives_a_signed_intake_once(client, tokens, httpserver, loopback_connectors):
    tenant = new_tenant_id("hc")
    httpserver.expect_request("/ehr/intake", method="POST").respond_with_json({"id": "ehr-77"})
    PracticeConnectorRepository().create(
        {
            "id": "ehr",
            "tenantId": tenant,
            "provider": "athena_demo",
            "baseUrl": httpserver.url_for("/ehr/intake"),
            "secret": "connector-secret",
            "status": "connected",
        }
    )
    session = intake_session(client, tokens, tenant)
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=INTAKE)
    for _ in range(2):
        assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    assert len(httpserver.log) == 1
    request, _ = httpserver.log[0]
    body = request.get_data()
    timestamp = request.headers["X-Tellgence-Timestamp"]
    expected = hmac.new(b"connector-secret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert request.headers["X-Tellgence-Signature"] == f"v1={expected}"
    assert request.headers["Idempotency-Key"] == f"intake:{session['sessionId']}:ehr"
    assert json.loads(body)["patient"]["memberId"] == "W123456789"
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()
    assert [o["status"] for o in stored["integrationOutcomes"]] == ["sent"]
    assert stored["bookingExceptions"] == []


def test_a_dead_connector_is_a_failed_outcome_and_an_open_exception(client, tokens, loopback_connectors):
    tenant = new_tenant_id("hc")
    dead = free_ports(1)[0]
    PracticeConnectorRepository().create(
        {
            "id": "webhook",
            "tenantId": tenant,
            "provider": "webhook",
            "baseUrl": f"http://127.0.0.1:{dead}/hook",
            "status": "connected",
        }
    )
    session = intake_session(client, tokens, tenant)
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=INTAKE)
    response = client.post("/api/sessions/finalize", json=payload, headers=key_headers(session))
    assert response.status_code == 200
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()
    outcome = stored["integrationOutcomes"][0]
    assert (outcome["status"], outcome["kind"], outcome["retryable"]) == ("failed", "webhook", True)
    exception = stored["bookingExceptions"][0]
    assert (exception["reasonCode"], exception["status"], exception["connectorKind"]) == (
        "connector_unavailable",
        "open",
        "webhook",
    )


def test_private_destinations_are_refused_outside_local_development(client, tokens):
    tenant = new_tenant_id("hc")
    PracticeConnectorRepository().create(
        {"id": "webhook", "tenantId": tenant, "baseUrl": "http://127.0.0.1:9/hook", "status": "connected"}
    )
    session = intake_session(client, tokens, tenant)
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=INTAKE)
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    outcome = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()[
        "integrationOutcomes"
    ][0]
    assert outcome["status"] == "failed"
    assert "https" in outcome["errorMessage"] or "private" in outcome["errorMessage"]
