"""Healthcare intake finalize: required fields, consent retention, EHR/webhook automation."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from devhost.emulators import free_ports
from shared.integrations import demo_store
from shared.integrations.repository import PracticeConnectorRepository
from shared.sessions import aggregate
from tests.support.identity import new_tenant_id
from tests.support.integrations import SIGNING_SECRET, WebhookReceiver
from tests.support.sessions import HEALTHCARE_INTAKE, finalize_payload, key_headers, start_session


def intake_session(client, tokens, tenant: str) -> dict:
    return start_session(client, "healthcare-intake", headers=tokens.headers(tenant, "operator"))


def test_missing_intake_fields_are_named(client):
    session = start_session(client, "healthcare-intake")
    partial = {k: v for k, v in HEALTHCARE_INTAKE.items() if k not in ("memberId", "consentToTreat", "dateOfBirth")}
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
        "healthcare-intake",
        sessionId=session["sessionId"],
        extractedData={**HEALTHCARE_INTAKE, "consentToTreat": consent},
    )
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()
    assert stored["consentRetention"]["consentStatus"] == consent
    assert stored["consentRetention"]["transcriptRetention"] == retention
    assert bool(stored["transcript"]) is transcript_kept


def test_a_refused_recording_keeps_nothing_personal(client):
    session = start_session(client, "healthcare-intake")
    payload = finalize_payload(
        "healthcare-intake",
        sessionId=session["sessionId"],
        extractedData={**HEALTHCARE_INTAKE, "recordingConsent": "none"},
    )
    client.post("/api/sessions/finalize", json=payload, headers=key_headers(session))
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()
    assert stored["consentRetention"]["transcriptRetention"] == "none"
    assert stored["transcript"] == [] and stored["extractedData"] == {}


EHR_TOKEN = "fhir-bearer-token-4c1d9e"


def connect(client, tokens, tenant: str, kind: str, provider: str, config: dict) -> None:
    response = client.put(
        f"/api/cp/integrations/practice-connectors/{kind}",
        json={"providerId": provider, "config": config},
        headers=tokens.headers(tenant, "admin"),
    )
    assert response.status_code == 200, response.text


def test_the_fhir_ehr_receives_the_patient_once_as_a_conditional_create(client, tokens, httpserver, loopback):
    tenant = new_tenant_id("hc")
    connect(
        client,
        tokens,
        tenant,
        "ehr",
        "fhir_r4",
        {"baseUrl": httpserver.url_for("/fhir/r4"), "authMode": "bearer", "accessToken": EHR_TOKEN},
    )
    session = intake_session(client, tokens, tenant)
    key = f"intake:{session['sessionId']}:ehr"
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:tellgence:idempotency-key", "value": key}],
        "active": True,
        "name": [{"use": "official", "text": "Maria Lopez", "family": "Lopez", "given": ["Maria"]}],
        "birthDate": "1984-03-02",
        "telecom": [{"system": "phone", "value": "+1-555-0142"}],
    }
    httpserver.expect_request(
        "/fhir/r4/Patient",
        method="POST",
        headers={
            "Authorization": f"Bearer {EHR_TOKEN}",
            "Content-Type": "application/fhir+json",
            "If-None-Exist": "identifier=" + quote(f"urn:tellgence:idempotency-key|{key}", safe=""),
        },
        json=patient,
    ).respond_with_json({"resourceType": "Patient", "id": "pat-77", "meta": {"versionId": "1"}}, status=201)
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=HEALTHCARE_INTAKE)
    for _ in range(2):
        assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    stored = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()
    (outcome,) = stored["integrationOutcomes"]
    assert (outcome["status"], outcome["kind"], outcome["providerId"], outcome["externalId"]) == (
        "sent",
        "ehr",
        "fhir_r4",
        "Patient/pat-77",
    )
    assert outcome["idempotencyKey"] == key and outcome["action"] == "intake.completed"
    assert stored["bookingExceptions"] == []
    assert EHR_TOKEN not in json.dumps(stored)


def test_the_webhook_receives_a_signed_intake_event(client, tokens, httpserver, loopback):
    tenant = new_tenant_id("hc")
    receiver = WebhookReceiver(httpserver)
    connect(client, tokens, tenant, "webhook", "signed_webhook", {"url": receiver.url, "signingSecret": SIGNING_SECRET})
    session = intake_session(client, tokens, tenant)
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=HEALTHCARE_INTAKE)
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    (delivery,) = receiver.events("intake.completed")
    assert delivery["signatureOk"]
    assert delivery["idempotencyKey"] == f"intake:{session['sessionId']}:webhook"
    assert delivery["body"]["data"]["patient"]["memberId"] == "W123456789"
    assert delivery["body"]["data"]["sessionId"] == session["sessionId"]


def test_the_demo_ehr_records_the_patient_in_the_demo_store(client, tokens):
    tenant = new_tenant_id("hc")
    connect(client, tokens, tenant, "ehr", "ehr_mock", {})
    session = intake_session(client, tokens, tenant)
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=HEALTHCARE_INTAKE)
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    (outcome,) = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()[
        "integrationOutcomes"
    ]
    assert (outcome["status"], outcome["providerId"]) == ("sent", "ehr_mock")
    (record,) = demo_store.session_records(tenant, session["sessionId"])
    assert record["id"] == outcome["externalId"]
    assert record["params"] == {
        "fullName": "Maria Lopez",
        "birthDate": "1984-03-02",
        "phone": "+1-555-0142",
    }


def test_a_dead_connector_is_a_failed_outcome_and_an_open_exception(client, tokens, httpserver, loopback):
    tenant = new_tenant_id("hc")
    dead = free_ports(1)[0]
    connect(
        client,
        tokens,
        tenant,
        "webhook",
        "signed_webhook",
        {"url": f"http://127.0.0.1:{dead}/hook", "signingSecret": SIGNING_SECRET},
    )
    session = intake_session(client, tokens, tenant)
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=HEALTHCARE_INTAKE)
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
    assert exception["id"] == outcome["id"]


def test_an_unreadable_birth_date_is_a_failed_delivery_naming_the_field(client, tokens):
    tenant = new_tenant_id("hc")
    connect(client, tokens, tenant, "ehr", "ehr_mock", {})
    session = intake_session(client, tokens, tenant)
    extracted = {**HEALTHCARE_INTAKE, "dateOfBirth": "the second of March"}
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=extracted)
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    (outcome,) = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()[
        "integrationOutcomes"
    ]
    assert (outcome["status"], outcome["retryable"]) == ("failed", False)
    assert "params.birthDate" in outcome["errorMessage"]


def test_private_destinations_are_refused_outside_local_development(client, tokens):
    tenant = new_tenant_id("hc")
    # Stored before the guard existed (or by hand): the dispatch refuses it at call time too.
    PracticeConnectorRepository().create(
        {
            "id": "webhook",
            "tenantId": tenant,
            "providerId": "signed_webhook",
            "status": "connected",
            "config": {"url": "https://127.0.0.1:9/hook", "signingSecret": "plain-stored-secret-123"},
        }
    )
    session = intake_session(client, tokens, tenant)
    payload = finalize_payload("healthcare-intake", sessionId=session["sessionId"], extractedData=HEALTHCARE_INTAKE)
    assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    outcome = client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()[
        "integrationOutcomes"
    ][0]
    assert outcome["status"] == "failed"
    assert "private address" in outcome["errorMessage"]
