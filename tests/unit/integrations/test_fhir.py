"""FHIR R4 client against a loopback FHIR server: exact requests, SMART tokens, idempotency, error classes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs

import jwt
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shared.integrations.dispatch import execute, health_check
from tests.unit.integrations.conftest import reload
from tests.unit.integrations.keys import RSA_PEM, RSA_PUBLIC_PEM

KEY = "intake:sess-1:ehr"
FHIR_JSON = "application/fhir+json"
IF_NONE_EXIST = "identifier=urn%3Atellgence%3Aidempotency-key%7Cintake%3Asess-1%3Aehr"
PATIENT = {"fullName": "Jane Q Public", "birthDate": "1980-04-03", "gender": "female", "phone": "+15551234567"}


def bearer(server: HTTPServer) -> dict:
    return {"baseUrl": server.url_for("/fhir"), "authMode": "bearer", "accessToken": "tok-static-123"}


def smart(server: HTTPServer) -> dict:
    return {
        "baseUrl": server.url_for("/fhir"),
        "authMode": "smart_backend_services",
        "tokenUrl": server.url_for("/auth/token"),
        "clientId": "tellgence-client",
        "privateKey": RSA_PEM,
        "keyId": "kid-2026",
        "scope": "system/Patient.cu system/Appointment.cu",
    }


def fhir_response(body: dict, status: int = 201, **headers: str) -> Response:
    return Response(json.dumps(body), status=status, content_type=FHIR_JSON, headers=headers)


def expected_patient() -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:tellgence:idempotency-key", "value": KEY}],
        "active": True,
        "name": [{"use": "official", "text": "Jane Q Public", "family": "Public", "given": ["Jane", "Q"]}],
        "birthDate": "1980-04-03",
        "gender": "female",
        "telecom": [{"system": "phone", "value": "+15551234567"}],
    }


def test_create_patient_with_a_bearer_token_sends_a_conditional_create(httpserver: HTTPServer):
    httpserver.expect_ordered_request(
        "/fhir/Patient",
        method="POST",
        headers={
            "Authorization": "Bearer tok-static-123",
            "Content-Type": FHIR_JSON,
            "Accept": FHIR_JSON,
            "If-None-Exist": IF_NONE_EXIST,
            "Prefer": "return=representation",
        },
        json=expected_patient(),
    ).respond_with_response(fhir_response({**expected_patient(), "id": "p-77", "meta": {"versionId": "1"}}))
    result = execute("fhir_r4", "create_patient", bearer(httpserver), PATIENT, idempotency_key=KEY)
    httpserver.check_assertions()
    assert result.ok and result.status == "succeeded"
    assert result.response_code == 201
    assert result.external_id == "Patient/p-77"
    assert result.data == {"resourceType": "Patient", "id": "p-77", "versionId": "1", "created": True}
    assert "tok-static-123" not in json.dumps(result.to_dict())


def test_a_retried_create_that_matches_the_first_is_reported_as_existing(httpserver: HTTPServer):
    httpserver.expect_request(
        "/fhir/Patient", method="POST", headers={"If-None-Exist": IF_NONE_EXIST}
    ).respond_with_response(fhir_response({"resourceType": "Patient", "id": "p-77"}, status=200))
    result = execute("fhir_r4", "create_patient", bearer(httpserver), PATIENT, idempotency_key=KEY)
    assert result.ok
    assert result.data["created"] is False
    assert "already existed" in result.summary


def test_a_minimal_answer_is_read_from_the_location_header(httpserver: HTTPServer):
    location = httpserver.url_for("/fhir/Patient/p-9/_history/4")
    httpserver.expect_request("/fhir/Patient", method="POST").respond_with_response(
        Response(b"", status=201, headers={"Location": location})
    )
    result = execute("fhir_r4", "create_patient", bearer(httpserver), PATIENT, idempotency_key=KEY)
    assert result.external_id == "Patient/p-9"
    assert result.data["versionId"] == "4"


def test_smart_backend_services_token_then_cached_for_the_next_call(httpserver: HTTPServer):
    seen: list[dict] = []

    def token_endpoint(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        seen.append(form)
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert set(form) == {"grant_type", "scope", "client_assertion_type", "client_assertion"}
        assert form["grant_type"] == "client_credentials"
        assert form["scope"] == "system/Patient.cu system/Appointment.cu"
        assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        header = jwt.get_unverified_header(form["client_assertion"])
        assert header == {"alg": "RS384", "kid": "kid-2026", "typ": "JWT"}
        claims = jwt.decode(
            form["client_assertion"], RSA_PUBLIC_PEM, algorithms=["RS384"], audience=httpserver.url_for("/auth/token")
        )
        assert claims["iss"] == claims["sub"] == "tellgence-client"
        assert 0 < claims["exp"] - time.time() <= 300
        assert len(claims["jti"]) >= 16
        body = {"access_token": "smart-token-xyz", "token_type": "bearer", "expires_in": 300, "scope": form["scope"]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/auth/token", method="POST").respond_with_handler(token_endpoint)
    httpserver.expect_request(
        "/fhir/Patient", method="POST", headers={"Authorization": "Bearer smart-token-xyz"}
    ).respond_with_response(fhir_response({"resourceType": "Patient", "id": "p-1"}))
    first = execute("fhir_r4", "create_patient", smart(httpserver), PATIENT, idempotency_key=KEY)
    second = execute("fhir_r4", "create_patient", smart(httpserver), PATIENT, idempotency_key="intake:sess-2:ehr")
    assert first.ok and second.ok
    assert len(seen) == 1  # the token is reused until shortly before it expires
    assert "smart-token-xyz" not in json.dumps([first.to_dict(), second.to_dict()])


def test_a_rejected_client_assertion_is_an_auth_failure_and_says_why(httpserver: HTTPServer):
    httpserver.expect_request("/auth/token", method="POST").respond_with_json(
        {"error": "invalid_client", "error_description": "unknown key id"}, status=400
    )
    result = execute("fhir_r4", "create_patient", smart(httpserver), PATIENT, idempotency_key=KEY)
    assert not result.ok
    assert result.error_class == "auth_failed"
    assert result.retryable is False
    assert result.summary == "FHIR R4 EHR answered HTTP 400: unknown key id"


def test_update_patient_reads_then_writes_version_aware(httpserver: HTTPServer):
    stored = {**expected_patient(), "id": "p-77", "meta": {"versionId": "3"}}
    httpserver.expect_ordered_request("/fhir/Patient/p-77", method="GET").respond_with_response(
        fhir_response(stored, status=200, ETag='W/"3"')
    )
    changed = {**stored, "birthDate": "1980-04-04", "telecom": [{"system": "phone", "value": "+15550000000"}]}
    httpserver.expect_ordered_request(
        "/fhir/Patient/p-77",
        method="PUT",
        headers={"If-Match": 'W/"3"', "Content-Type": FHIR_JSON, "Authorization": "Bearer tok-static-123"},
        json=changed,
    ).respond_with_response(fhir_response({**changed, "meta": {"versionId": "4"}}, status=200))
    params = {"patientId": "p-77", "birthDate": "1980-04-04", "phone": "+15550000000"}
    result = execute("fhir_r4", "update_patient", bearer(httpserver), params, idempotency_key=KEY)
    httpserver.check_assertions()
    assert result.ok and result.external_id == "Patient/p-77"
    assert result.data["versionId"] == "4"


def test_a_concurrent_change_is_read_again_once(httpserver: HTTPServer):
    v3 = {"resourceType": "Patient", "id": "p-1", "meta": {"versionId": "3"}}
    v4 = {"resourceType": "Patient", "id": "p-1", "meta": {"versionId": "4"}}
    httpserver.expect_ordered_request("/fhir/Patient/p-1", method="GET").respond_with_response(fhir_response(v3, 200))
    httpserver.expect_ordered_request(
        "/fhir/Patient/p-1", method="PUT", headers={"If-Match": 'W/"3"'}
    ).respond_with_response(fhir_response({"resourceType": "OperationOutcome", "issue": []}, 412))
    httpserver.expect_ordered_request("/fhir/Patient/p-1", method="GET").respond_with_response(fhir_response(v4, 200))
    httpserver.expect_ordered_request(
        "/fhir/Patient/p-1", method="PUT", headers={"If-Match": 'W/"4"'}
    ).respond_with_response(fhir_response({**v4, "gender": "male"}, 200))
    result = execute(
        "fhir_r4", "update_patient", bearer(httpserver), {"patientId": "p-1", "gender": "male"}, idempotency_key=KEY
    )
    httpserver.check_assertions()
    assert result.ok


def test_create_appointment_body(httpserver: HTTPServer):
    expected = {
        "resourceType": "Appointment",
        "identifier": [{"system": "urn:tellgence:idempotency-key", "value": KEY}],
        "status": "booked",
        "start": "2026-12-03T15:00:00.000Z",
        "end": "2026-12-03T15:30:00.000Z",
        "participant": [
            {"actor": {"reference": "Patient/p-77"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/dr-1"}, "status": "accepted"},
        ],
        "description": "New patient visit",
    }
    httpserver.expect_request(
        "/fhir/Appointment", method="POST", headers={"If-None-Exist": IF_NONE_EXIST}, json=expected
    ).respond_with_response(fhir_response({**expected, "id": "a-5"}))
    params = {
        "patientId": "p-77",
        "start": "2026-12-03T10:00-05:00",
        "end": "2026-12-03T10:30:00-05:00",
        "practitionerId": "dr-1",
        "description": "New patient visit",
    }
    result = execute("fhir_r4", "create_appointment", bearer(httpserver), params, idempotency_key=KEY)
    httpserver.check_assertions()
    assert result.ok and result.external_id == "Appointment/a-5"


def test_an_appointment_ending_before_it_starts_is_refused_before_any_request(httpserver: HTTPServer):
    from shared.platform.errors import ValidationFailed

    params = {"patientId": "p", "start": "2026-12-03T10:00:00Z", "end": "2026-12-03T09:00:00Z"}
    with pytest.raises(ValidationFailed, match="end: must be after start"):
        execute("fhir_r4", "create_appointment", bearer(httpserver), params, idempotency_key=KEY)
    assert httpserver.log == []


def test_cancel_appointment(httpserver: HTTPServer):
    stored = {"resourceType": "Appointment", "id": "a-5", "status": "booked", "meta": {"versionId": "1"}}
    httpserver.expect_ordered_request("/fhir/Appointment/a-5", method="GET").respond_with_response(
        fhir_response(stored, 200)
    )
    cancelled = {**stored, "status": "cancelled", "cancelationReason": {"text": "Patient called to cancel"}}
    httpserver.expect_ordered_request(
        "/fhir/Appointment/a-5", method="PUT", headers={"If-Match": 'W/"1"'}, json=cancelled
    ).respond_with_response(fhir_response(cancelled, 200))
    params = {"appointmentId": "a-5", "status": "cancelled", "cancellationReason": "Patient called to cancel"}
    result = execute("fhir_r4", "update_appointment", bearer(httpserver), params, idempotency_key=KEY)
    httpserver.check_assertions()
    assert result.ok


def test_health_check_reads_the_capability_statement_and_searches(httpserver: HTTPServer):
    httpserver.expect_ordered_request(
        "/fhir/metadata", method="GET", headers={"Accept": FHIR_JSON, "Authorization": "Bearer tok-static-123"}
    ).respond_with_response(
        fhir_response(
            {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "software": {"name": "HAPI"}}, 200
        )
    )
    httpserver.expect_ordered_request(
        "/fhir/Patient", method="GET", query_string={"_summary": "count"}
    ).respond_with_response(fhir_response({"resourceType": "Bundle", "total": 3}, 200))
    result = health_check("fhir_r4", bearer(httpserver))
    httpserver.check_assertions()
    assert result.ok and result.status == "connected"
    assert result.response_code == 200
    assert result.message == "FHIR 4.0.1 server reachable; Patient search authorized"
    datetime.fromisoformat(result.checked_at.replace("Z", "+00:00")).astimezone(UTC)


def test_health_check_refuses_a_server_that_is_not_r4(httpserver: HTTPServer):
    httpserver.expect_request("/fhir/metadata").respond_with_response(
        fhir_response({"resourceType": "CapabilityStatement", "fhirVersion": "5.0.0"}, 200)
    )
    result = health_check("fhir_r4", bearer(httpserver))
    assert result.status == "failed"
    assert result.error_class == "configuration"
    assert result.message == "FHIR R4 EHR speaks FHIR 5.0.0, not R4 (4.0.x)"


@pytest.mark.parametrize(
    ("status", "body", "headers", "error_class", "retryable", "summary"),
    [
        (
            503,
            {"resourceType": "OperationOutcome", "issue": [{"diagnostics": "maintenance"}]},
            {},
            "provider_error",
            True,
            "HTTP 503: maintenance",
        ),
        (429, {}, {"Retry-After": "7"}, "rate_limited", True, "HTTP 429"),
        (408, {}, {}, "timeout", True, "HTTP 408"),
        (401, {}, {}, "auth_failed", False, "HTTP 401"),
        (403, {}, {}, "auth_failed", False, "HTTP 403"),
        (
            422,
            {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "details": {"text": "birthDate invalid"}}],
            },
            {},
            "rejected",
            False,
            "HTTP 422: birthDate invalid",
        ),
        (302, {}, {"Location": "https://elsewhere.example/"}, "rejected", False, "redirect (HTTP 302)"),
    ],
)
def test_error_classification(
    httpserver: HTTPServer, status: int, body: dict, headers: dict, error_class: str, retryable: bool, summary: str
):
    httpserver.expect_request("/fhir/Patient", method="POST").respond_with_response(
        fhir_response(body, status=status, **headers)
    )
    result = execute("fhir_r4", "create_patient", bearer(httpserver), PATIENT, idempotency_key=KEY)
    assert not result.ok and result.status == "failed"
    assert result.response_code == status
    assert result.error_class == error_class
    assert result.retryable is retryable
    assert summary in result.summary
    if status == 429:
        assert result.retry_after_seconds == 7.0


def test_a_provider_echoing_the_token_never_shows_it(httpserver: HTTPServer):
    httpserver.expect_request("/fhir/Patient", method="POST").respond_with_json(
        {"message": "token tok-static-123 is not allowed"}, status=403
    )
    result = execute("fhir_r4", "create_patient", bearer(httpserver), PATIENT, idempotency_key=KEY)
    assert "tok-static-123" not in json.dumps(result.to_dict())
    assert result.summary == "FHIR R4 EHR answered HTTP 403: token *** is not allowed"


def test_a_slow_server_is_a_retryable_timeout(httpserver: HTTPServer, integration_env: pytest.MonkeyPatch):
    integration_env.setenv("CONNECTOR_TIMEOUT_SECONDS", "0.3")
    reload()

    def slow(request: Request) -> Response:
        time.sleep(0.8)
        return fhir_response({"resourceType": "Patient", "id": "late"})

    httpserver.expect_request("/fhir/Patient", method="POST").respond_with_handler(slow)
    result = execute("fhir_r4", "create_patient", bearer(httpserver), PATIENT, idempotency_key=KEY)
    assert result.error_class == "timeout"
    assert result.retryable is True
    assert result.latency_ms < 800


def test_a_closed_port_is_a_retryable_network_failure():
    config = {"baseUrl": "http://127.0.0.1:9/fhir", "authMode": "bearer", "accessToken": "tok-static-123"}
    result = execute("fhir_r4", "create_patient", config, PATIENT, idempotency_key=KEY)
    assert result.error_class == "network"
    assert result.retryable is True


def test_a_private_address_is_refused_without_a_request(integration_env: pytest.MonkeyPatch):
    integration_env.setenv("OUTBOUND_ALLOW_LOOPBACK", "false")
    reload()
    config = {"baseUrl": "https://10.20.30.40/fhir", "authMode": "bearer", "accessToken": "tok-static-123"}
    result = execute("fhir_r4", "create_patient", config, PATIENT, idempotency_key=KEY)
    assert result.error_class == "destination_refused"
    assert result.retryable is False
    assert "private address" in result.summary
