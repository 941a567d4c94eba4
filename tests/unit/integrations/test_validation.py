"""Config validation names each problem field by field; params are checked against the action's JSON Schema."""

from __future__ import annotations

import pytest

from shared.integrations import catalog
from shared.integrations.validation import config_problems, param_problems, validate_params, validated_config
from shared.platform.errors import ValidationFailed
from tests.unit.integrations.conftest import reload
from tests.unit.integrations.keys import RSA_1024_PEM, RSA_PEM

FHIR = catalog.provider("fhir_r4")
TWILIO = catalog.provider("twilio_voice")
SID = "AC" + "0" * 32


def bearer(**extra: object) -> dict:
    return {"baseUrl": "http://127.0.0.1:8080/fhir", "authMode": "bearer", "accessToken": "tok-abcdef", **extra}


def smart(**extra: object) -> dict:
    return {
        "baseUrl": "http://127.0.0.1:8080/fhir",
        "authMode": "smart_backend_services",
        "tokenUrl": "http://127.0.0.1:8080/token",
        "clientId": "tellgence",
        "privateKey": RSA_PEM,
        "keyId": "kid-1",
        **extra,
    }


def test_a_valid_bearer_config_gets_its_defaults():
    clean = validated_config(FHIR, bearer(tokenUrl="", clientId=None))
    assert clean == {**bearer(), "identifierSystem": "urn:tellgence:idempotency-key"}


def test_a_valid_smart_config_gets_the_default_scopes():
    clean = validated_config(FHIR, smart())
    assert clean["scope"].split() == [
        "system/Patient.read",
        "system/Patient.write",
        "system/Appointment.read",
        "system/Appointment.write",
    ]


def test_every_problem_is_named_at_once():
    problems = config_problems(FHIR, {"authMode": "smart_backend_services", "surprise": "x", "keyId": 7})
    assert problems == [
        "surprise: unknown field for provider fhir_r4",
        "baseUrl: is required",
        "tokenUrl: is required when authMode is smart_backend_services",
        "clientId: is required when authMode is smart_backend_services",
        "privateKey: is required when authMode is smart_backend_services",
        "keyId: must be a string",
    ]


def test_a_field_of_the_other_auth_mode_is_refused():
    assert config_problems(FHIR, bearer(clientId="tellgence", scope="system/*.rs")) == [
        "clientId: is only used when authMode is smart_backend_services",
        "scope: is only used when authMode is smart_backend_services",
    ]


def test_the_failure_is_a_400_with_details_and_no_values():
    with pytest.raises(ValidationFailed) as error:
        validated_config(FHIR, {"baseUrl": "ftp://x", "authMode": "basic", "accessToken": "super-secret-token"})
    assert error.value.status == 400
    assert error.value.code == "invalid_config"
    assert error.value.fields["details"] == [
        "baseUrl: must be an absolute https URL",
        "authMode: must be one of bearer, smart_backend_services",
        "accessToken: is only used when authMode is bearer",
    ]
    assert "super-secret-token" not in str(error.value.envelope())


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://10.1.2.3/fhir", "baseUrl: the destination resolves to a private address"),
        ("https://169.254.169.254/latest", "baseUrl: the destination resolves to a private address"),
        ("https://[::1]/fhir", "baseUrl: the destination resolves to a private address"),
        ("http://127.0.0.1/fhir", "baseUrl: the destination must be an https URL"),
        ("https://user:pw@ehr.example.org/fhir", "baseUrl: must not embed credentials (use the secret fields)"),
        ("https://ehr.example.org/fhir#x", "baseUrl: must not have a fragment"),
        ("/relative", "baseUrl: must be an absolute https URL"),
    ],
)
def test_urls_pass_the_ssrf_guard_outside_loopback_mode(integration_env: pytest.MonkeyPatch, url: str, problem: str):
    integration_env.setenv("OUTBOUND_ALLOW_LOOPBACK", "false")
    reload()
    assert config_problems(FHIR, bearer(baseUrl=url)) == [problem]


def test_loopback_is_allowed_only_with_the_setting(integration_env: pytest.MonkeyPatch):
    assert config_problems(FHIR, bearer()) == []
    assert config_problems(FHIR, bearer(baseUrl="http://10.0.0.1/x"), check_urls=False) == []


def test_private_keys_must_be_usable_rsa_keys():
    assert config_problems(FHIR, smart(privateKey="-----BEGIN NOPE-----")) == [
        "privateKey: must be an unencrypted PEM private key"
    ]
    assert config_problems(FHIR, smart(privateKey=RSA_1024_PEM)) == ["privateKey: must be at least 2048 bits"]


def twilio(**extra: object) -> dict:
    return {"accountSid": SID, "authToken": "t" * 32, "fromNumber": "+15005550006", **extra}


def test_twilio_needs_exactly_one_of_voice_url_and_application():
    assert config_problems(TWILIO, twilio()) == ["voiceUrl: is required unless applicationSid is given"]
    assert config_problems(TWILIO, twilio(applicationSid="AP" + "1" * 32)) == []
    assert config_problems(TWILIO, twilio(voiceUrl="http://127.0.0.1:9/twiml")) == []
    assert config_problems(TWILIO, twilio(voiceUrl="http://127.0.0.1:9/twiml", applicationSid="AP" + "1" * 32)) == [
        "voiceUrl: give either voiceUrl or applicationSid, not both"
    ]


def test_formats_of_ids_and_phone_numbers():
    assert config_problems(TWILIO, twilio(accountSid="AC123", fromNumber="5551234", voiceUrl="http://127.0.0.1/t")) == [
        "accountSid: has the wrong format",
        "fromNumber: must be an E.164 phone number (+15551234567)",
    ]


def test_lengths_and_base64():
    acs = catalog.provider("acs_call_automation")
    problems = config_problems(
        acs,
        {
            "endpoint": "http://127.0.0.1:1",
            "accessKey": "not base64!",
            "sourceCallerIdNumber": "+15551234567",
            "callbackUrl": "http://127.0.0.1:2/cb",
        },
    )
    assert problems == ["accessKey: must be base64"]
    webhook = catalog.provider("signed_webhook")
    assert config_problems(webhook, {"url": "http://127.0.0.1:3/h", "signingSecret": "short"}) == [
        "signingSecret: must be at least 16 characters"
    ]


def test_a_config_that_is_not_an_object():
    assert config_problems(FHIR, ["baseUrl"]) == ["config: must be an object"]


def test_demo_providers_take_no_config():
    mock = catalog.provider("salesforce_mock")
    assert config_problems(mock, {}) == []
    assert config_problems(mock, {"apiKey": "x"}) == ["apiKey: unknown field for provider salesforce_mock"]


def test_params_problems_name_paths_and_rules_without_values():
    action = FHIR.action("create_patient")
    problems = param_problems(action, {"fullName": "", "birthDate": "03/04/1980", "ssn": "123-45-6789", "gender": 1})
    assert problems == [
        "params: unknown ssn",
        "params.birthDate: has the wrong format",
        "params.fullName: minLength is 1",
        "params.gender: must be of type string",
        "params.gender: must be one of male, female, other, unknown",
    ]
    assert not any("123-45-6789" in p or "03/04/1980" in p for p in problems)


def test_nested_params_paths():
    action = catalog.provider("erp_rest").action("create_invoice")
    problems = param_problems(
        action, {"customerExternalId": "c1", "currency": "usd", "lines": [{"description": "x", "quantity": 0}]}
    )
    assert problems == [
        "params.currency: has the wrong format",
        "params.lines[0]: missing unitAmountMinor",
        "params.lines[0].quantity: minimum is 1",
    ]


def test_params_must_be_an_object_and_alternatives_are_explained():
    assert param_problems(FHIR.action("create_patient"), "Jane") == ["params: must be of type object"]
    contact = catalog.provider("salesforce_mock").action("upsert_contact")
    assert param_problems(contact, {"lastName": "Doe"})[0].startswith("params: needs one of the alternatives")


def test_validate_params_raises_a_400_with_details():
    with pytest.raises(ValidationFailed) as error:
        validate_params(FHIR.action("update_patient"), {"patientId": "p1"})
    assert error.value.code == "invalid_params"
    assert error.value.fields["details"] == ["params: minProperties is 2"]
