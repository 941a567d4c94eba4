"""POST /api/realtime/credentials through HTTP, against a loopback fake of Azure OpenAI that records each request."""

from __future__ import annotations

import json
import logging
import time

import pytest

from devhost.emulators import free_ports
from shared.catalog.runtime import compose
from shared.platform.settings import get_settings
from shared.realtime import provider
from tests.conftest import reset_clients
from tests.support.sessions import start_session

PATH = "/openai/v1/realtime/client_secrets"
SECRET = "ek_68af296e8e408191a1120ab6383263c2"
EXPIRES_AT = 1767225600  # 2026-01-01T00:00:00Z
API_KEY = "integration-azure-openai-key"
DEPLOYMENT = "gpt-realtime-int"
URL = "/api/realtime/credentials"


@pytest.fixture
def azure(httpserver, settings_env):
    """The app pointed at the loopback fake with an api-key; yields the fake's base URL."""
    endpoint = httpserver.url_for("/").rstrip("/")
    settings_env.setenv("AZURE_OPENAI_ENDPOINT", endpoint)
    settings_env.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    settings_env.setenv("AZURE_OPENAI_DEPLOYMENT_REALTIME", DEPLOYMENT)
    settings_env.setenv("REALTIME_CREDENTIAL_TTL_SECONDS", "300")
    reset_clients()
    return endpoint


def answer(value: str = SECRET) -> dict:
    return {"value": value, "expires_at": EXPIRES_AT, "session": {"type": "realtime", "id": "sess_fake"}}


def sent_bodies(httpserver) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


# --- the exact request and the full answer --------------------------------------------------------


def test_the_exact_provider_request_and_the_full_answer(client, httpserver, azure, caplog):
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer())
    caplog.set_level(logging.DEBUG)
    response = client.post(URL, json={"scenarioId": "dental-new-patient-emergency", "requestedLocale": "es-MX"})
    assert response.status_code == 200, response.text

    assert len(httpserver.log) == 1
    request, _ = httpserver.log[0]
    assert (request.method, request.path, request.query_string) == ("POST", PATH, b"")  # GA: no api-version
    assert request.headers["api-key"] == API_KEY
    assert "Authorization" not in request.headers
    body = json.loads(request.get_data())
    session = body["session"]
    assert body["expires_after"] == {"anchor": "created_at", "seconds": 300}
    assert (session["type"], session["model"]) == ("realtime", DEPLOYMENT)
    assert session["output_modalities"] == ["audio"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["output"] == {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "shimmer"}
    # The dental persona speaks es-MX (a supported language): transcription in Spanish, the policy in the prompt.
    assert session["audio"]["input"]["transcription"]["language"] == "es"
    assert "Language policy: conduct the call in" in session["instructions"]
    # The scenario's practice brand reached the session through the composition GET .../runtime uses.
    assert "Pinecrest Family Dentistry" in session["instructions"]
    runtime = compose("dental_front_desk", scenario_id="dental-new-patient-emergency")
    assert [tool["name"] for tool in session["tools"]] == [tool["name"] for tool in runtime["tools"]]
    assert "temperature" not in session

    data = response.json()
    assert data["token"] == SECRET
    assert data["expiresAt"] == "2026-01-01T00:00:00.000Z"
    assert data["webrtcUrl"] == azure + "/openai/v1/realtime/calls"
    assert data["wsUrl"] == azure.replace("http://", "ws://") + f"/openai/v1/realtime?model={DEPLOYMENT}"
    assert data["realtimeDeployment"] == DEPLOYMENT
    assert data["transcriptionModel"] == session["audio"]["input"]["transcription"]["model"]
    assert data["sessionTier"] == "standard"
    assert data["voicePipeline"] == "azure-openai-realtime"
    assert data["fallbackVoice"] == "shimmer"
    assert data["fallbackInstructions"] == session["instructions"]
    assert data["selectedPersonaId"] == "dental_front_desk"
    assert (data["effectiveLanguage"], data["transcriptionLanguageCode"]) == ("es-MX", "es")
    assert "voiceLiveSessionConfig" not in data
    # The ephemeral secret is never logged.
    assert all(SECRET not in record.getMessage() for record in caplog.records)


def test_a_voice_live_persona_is_served_on_the_realtime_pipeline_with_a_stand_in_voice(client, httpserver, azure):
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer())
    response = client.post(URL, json={"personaId": "healthcare_patient_intake_es"})
    assert response.status_code == 200, response.text
    sent = sent_bodies(httpserver)[0]["session"]
    # es-MX-DaliaNeural is an Azure neural voice: the realtime API gets a built-in voice of the same gender.
    assert sent["audio"]["output"]["voice"] == "marin"
    assert response.json()["fallbackVoice"] == "marin"
    assert response.json()["voicePipeline"] == "azure-openai-realtime"


# --- the persona ladder through HTTP --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "persona", "reason", "language"),
    [
        (
            {"scenarioId": "healthcare-intake", "requestedLocale": "es-MX"},
            "healthcare_patient_intake_es",
            "exact-locale",
            "es-MX",
        ),
        (
            {"scenarioId": "healthcare-intake", "requestedLocale": "ur"},
            "healthcare_intake_ur",
            "language-only",
            "ur-PK",
        ),
        (
            {"scenarioId": "healthcare-intake", "requestedLocale": "de-DE"},
            "healthcare_patient_intake",
            "preferred-persona",
            "en-US",
        ),
        ({"requestedLocale": "fr-CA"}, "accounting_billing_fr", "exact-locale", "fr-CA"),
        ({"requestedLocale": "es-es"}, "insurance_policy_service_es", "language-only", "es-MX"),
        ({"requestedLocale": "de-DE"}, "insurance_claims_intake", "en-us-fallback", "en-US"),
        ({"personaId": "sales_sdr", "requestedLocale": "fr-CA"}, "sales_sdr", "preferred-persona", "fr-CA"),
        ({"requestedLocale": "en-IN", "userHintLanguage": "es"}, "banking_member_support_in", "exact-locale", "en-IN"),
    ],
)
def test_the_selection_ladder_for_several_locales(client, httpserver, azure, body, persona, reason, language):
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer())
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    assert (data["selectedPersonaId"], data["personaSelectionReason"], data["effectiveLanguage"]) == (
        persona,
        reason,
        language,
    )
    sent = sent_bodies(httpserver)[0]["session"]
    assert sent["audio"]["input"]["transcription"]["language"] == language.split("-")[0]


def test_a_locked_language_policy_is_never_overridden_by_the_hint(client, httpserver, azure):
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer())
    response = client.post(URL, json={"personaId": "pulmonology_adherence_coach", "userHintLanguage": "es-MX"})
    data = response.json()
    assert (data["effectiveLanguage"], data["languageLocked"]) == ("en-US", True)
    assert data["supportedLanguages"] == ["en-US"]
    assert "never switch to another language" in data["languagePolicyInstructions"]
    assert sent_bodies(httpserver)[0]["session"]["audio"]["input"]["transcription"]["language"] == "en"


def test_a_held_session_steers_the_selection_with_its_stored_scenario_and_locale(client, httpserver, azure):
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer())
    held = start_session(client, "healthcare-intake", requestedLocale="es-MX")
    stored = client.post(URL, json={"sessionId": held["sessionId"]}).json()
    assert (stored["selectedPersonaId"], stored["personaSelectionReason"]) == (
        "healthcare_patient_intake_es",
        "exact-locale",
    )
    # The body's locale wins over the stored one; the stored scenario still bounds the candidates.
    override = client.post(URL, json={"sessionId": held["sessionId"], "requestedLocale": "ur-PK"}).json()
    assert override["selectedPersonaId"] == "healthcare_intake_ur"
    # A held session's id drives the prompt-profile variant, as GET .../runtime?sessionId= does.
    runtime = compose("healthcare_patient_intake_es", scenario_id="healthcare-intake", session_id=held["sessionId"])
    assert sent_bodies(httpserver)[0]["session"]["instructions"].startswith(runtime["instructions"])


# --- bad input and unknown things -----------------------------------------------------------------


def test_unknown_persona_or_session_is_404_and_nothing_is_minted(client, httpserver, azure):
    assert client.post(URL, json={"personaId": "no_such_persona"}).status_code == 404
    assert client.post(URL, json={"sessionId": "no-such-session"}).json()["error"] == "session_not_found"
    assert httpserver.log == []


@pytest.mark.parametrize(
    "body",
    [
        {"requestedLocale": "not a locale"},
        {"userHintLanguage": "x" * 36},
        {"scenarioId": "no-such-scenario"},
        {"personaId": "dental_front_desk", "scenarioId": "insurance-fnol"},
        {"personaId": "../etc"},
        {"surprise": "field"},
    ],
)
def test_bad_input_is_400_and_nothing_is_minted(client, httpserver, azure, body):
    response = client.post(URL, json=body)
    assert response.status_code == 400, response.text
    assert httpserver.log == []


# --- the provider failing -------------------------------------------------------------------------


def test_not_configured_is_503_saying_so(client):
    assert get_settings().azure_openai_endpoint == ""
    response = client.post(URL, json={})
    assert response.status_code == 503
    assert response.json()["error"] == "realtime_not_configured"
    assert "AZURE_OPENAI_ENDPOINT" in response.json()["message"]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "realtime_provider_error"),
        (503, "realtime_provider_error"),
        (401, "realtime_provider_rejected"),
        (404, "realtime_provider_rejected"),
        (400, "realtime_provider_rejected"),
        (429, "realtime_provider_rate_limited"),
    ],
)
def test_provider_failures_are_502_with_a_safe_message(client, httpserver, azure, status, code):
    provider_error = {"error": {"message": "internal detail sk-should-not-leak", "type": "x", "code": "y"}}
    httpserver.expect_request(PATH, method="POST").respond_with_json(provider_error, status=status)
    response = client.post(URL, json={})
    assert response.status_code == 502
    assert response.json()["error"] == code
    assert "internal detail" not in response.text


def test_a_malformed_provider_answer_is_502_never_a_made_up_token(client, httpserver, azure):
    httpserver.expect_request(PATH, method="POST").respond_with_json({"expires_at": EXPIRES_AT})
    response = client.post(URL, json={})
    assert (response.status_code, response.json()["error"]) == (502, "realtime_provider_malformed")


def test_a_provider_that_times_out_is_502(client, httpserver, azure, settings_env):
    settings_env.setenv("REALTIME_PROVIDER_TIMEOUT_SECONDS", "0.3")
    reset_clients()

    def slow(request):
        time.sleep(1.0)
        from werkzeug import Response

        return Response(json.dumps(answer()), content_type="application/json")

    httpserver.expect_request(PATH, method="POST").respond_with_handler(slow)
    response = client.post(URL, json={})
    assert (response.status_code, response.json()["error"]) == (502, "realtime_provider_timeout")
    time.sleep(1.0)  # let the fake finish the abandoned request so it cannot land in the next test's log


def test_a_provider_that_is_down_is_502(client, settings_env):
    (port,) = free_ports(1)
    settings_env.setenv("AZURE_OPENAI_ENDPOINT", f"http://127.0.0.1:{port}")
    settings_env.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    reset_clients()
    response = client.post(URL, json={})
    assert (response.status_code, response.json()["error"]) == (502, "realtime_provider_unreachable")


# --- the API key and the rate limits --------------------------------------------------------------


def test_the_realtime_api_key_when_set(client, httpserver, azure, settings_env):
    settings_env.setenv("API_KEY_FOR_REALTIME", "browser-app-key-123")
    reset_clients()
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer())
    assert client.post(URL, json={}).status_code == 401
    assert client.post(URL, json={}, headers={"x-api-key": "wrong"}).status_code == 401
    assert client.post(URL, json={}, headers={"x-api-key": "browser-app-key-123"}).status_code == 200
    assert client.post(URL, json={}, headers={"Authorization": "ApiKey browser-app-key-123"}).status_code == 200
    assert len(httpserver.log) == 2


def test_credentials_are_limited_per_client_with_retry_after(client, httpserver, azure, settings_env):
    settings_env.setenv("RATE_LIMITS", "create_realtime_credentials=2/60")
    reset_clients()
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer())
    statuses = [client.post(URL, json={}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.post(URL, json={})
    assert int(limited.headers["Retry-After"]) >= 1
    assert len(httpserver.log) == 2


def test_credentials_are_limited_per_session_across_clients(client, devhost, httpserver, azure, settings_env):
    from tests.support.client import ContractClient

    settings_env.setenv("RATE_LIMITS", "create_realtime_credentials_per_session=2/300")
    reset_clients()
    httpserver.expect_request(PATH, method="POST").respond_with_json(answer())
    held = start_session(client)
    body = {"sessionId": held["sessionId"]}
    with ContractClient(devhost.asgi) as other, ContractClient(devhost.asgi) as third:
        assert client.post(URL, json=body).status_code == 200
        assert other.post(URL, json=body).status_code == 200
        limited = third.post(URL, json=body)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        # Another session, and no session at all, are not held back by this session's limit.
        assert third.post(URL, json={"sessionId": start_session(third)["sessionId"]}).status_code == 200
        assert third.post(URL, json={}).status_code == 200


def test_the_process_credential_is_forgotten_with_the_process_state(settings_env):
    provider._token_provider = lambda: "stale"
    reset_clients()
    assert provider._token_provider is None
