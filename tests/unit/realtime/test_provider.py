"""The Azure OpenAI client_secrets call, against a loopback fake that records the exact request."""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import UTC, datetime

import pytest

from devhost.emulators import free_ports
from shared.catalog.runtime import compose
from shared.platform import outbound
from shared.platform.errors import BadGateway, ServiceUnavailable
from shared.platform.settings import Settings
from shared.realtime import provider
from shared.realtime.provider import RealtimeCredential, endpoint_base, mint_client_secret, token_provider_for
from shared.realtime.selection import select_persona
from tests.unit.realtime.contract import assert_valid, credentials_schema

PATH = "/openai/v1/realtime/client_secrets"
SECRET = "ek_68af296e8e408191a1120ab6383263c2"
EXPIRES_AT = 1767225600  # 2026-01-01T00:00:00Z
API_KEY = "unit-test-azure-openai-key"


def ok_answer(session: dict | None = None) -> dict:
    return {"value": SECRET, "expires_at": EXPIRES_AT, "session": session or {"type": "realtime", "id": "sess_1"}}


@pytest.fixture(autouse=True)
def fresh_clients():
    outbound.reset()
    provider.reset()
    yield
    outbound.reset()
    provider.reset()


@pytest.fixture
def endpoint(httpserver) -> str:
    return httpserver.url_for("/").rstrip("/")


def settings_for(endpoint: str, **overrides) -> Settings:
    values = {
        "app_env": "test",
        "azure_openai_endpoint": endpoint,
        "azure_openai_api_key": API_KEY,
        "azure_openai_deployment_realtime": "gpt-realtime-prod",
        "azure_openai_transcription_model": "gpt-4o-transcribe",
        "realtime_credential_ttl_seconds": 300,
    }
    values.update(overrides)
    return Settings(**values)


class FakeCredential:
    """An azure-core token credential that counts its calls and hands out numbered tokens."""

    instances = 0

    def __init__(self, lifetime_seconds: int = 3600, fail: bool = False) -> None:
        type(self).instances += 1
        self.lifetime_seconds = lifetime_seconds
        self.fail = fail
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken
        from azure.core.exceptions import ClientAuthenticationError

        if self.fail:
            raise ClientAuthenticationError("no managed identity endpoint")
        self.calls.append(scopes)
        return AccessToken(f"entra-token-{len(self.calls)}", int(time.time()) + self.lifetime_seconds)


def dental_runtime() -> dict:
    return compose("dental_front_desk", tone="friendly", scenario_id="dental-new-patient-emergency")


# --- the exact request ------------------------------------------------------------------------


def test_the_exact_request_with_an_api_key(httpserver, endpoint):
    runtime = dental_runtime()
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    credential = mint_client_secret(
        runtime, settings=settings_for(endpoint), transcription_language="es", extra_instructions="Speak Spanish."
    )

    assert len(httpserver.log) == 1
    request, _ = httpserver.log[0]
    assert request.method == "POST"
    assert request.path == PATH
    assert request.query_string == b""  # GA: no api-version
    assert request.headers["api-key"] == API_KEY
    assert "Authorization" not in request.headers
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.get_data())
    tool_names = [tool["name"] for tool in body["session"]["tools"]]
    assert body == {
        "expires_after": {"anchor": "created_at", "seconds": 300},
        "session": {
            "type": "realtime",
            "model": "gpt-realtime-prod",
            "instructions": runtime["instructions"] + "\n\nSpeak Spanish.\n\n" + runtime["greetingInstruction"],
            "output_modalities": ["audio"],
            "max_output_tokens": 1024,  # the persona's own limit
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": 24000},
                    "noise_reduction": {"type": "far_field"},
                    "transcription": {
                        "model": "gpt-4o-transcribe",
                        "language": "es",
                        "prompt": runtime["transcriptionPrompt"],
                    },
                    "turn_detection": {
                        "type": "server_vad",
                        "threshold": 0.5,
                        "prefix_padding_ms": 300,
                        "silence_duration_ms": 500,
                        "create_response": True,
                        "interrupt_response": True,
                    },
                },
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "coral"},
            },
            "tools": runtime["tools"],
            "tool_choice": "auto",
        },
    }
    assert tool_names[0] == "lookup_patient_record" and all(
        tool["type"] == "function" for tool in body["session"]["tools"]
    )
    # The scenario's practice brand reached the instructions through the one composition path.
    assert "Pinecrest Family Dentistry" in body["session"]["instructions"]
    assert "temperature" not in body["session"]
    assert credential.token == SECRET


def test_the_answer_maps_to_the_contract_fields(httpserver, endpoint):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    credential = mint_client_secret(dental_runtime(), settings=settings_for(endpoint), session_tier="professional")
    fields = credential.contract_fields()
    assert fields == {
        "token": SECRET,
        "expiresAt": "2026-01-01T00:00:00.000Z",
        "webrtcUrl": endpoint + "/openai/v1/realtime/calls",
        "realtimeDeployment": "gpt-realtime-prod",
        "transcriptionModel": "gpt-4o-transcribe",
        "sessionTier": "professional",
    }
    selection = select_persona(scenario_id="dental-new-patient-emergency").contract_fields()
    assert_valid({**fields, **selection}, credentials_schema())


def test_tier_and_reasoning_effort_come_from_settings(httpserver, endpoint):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    settings = settings_for(endpoint, realtime_session_tier="premium", realtime_reasoning_effort="low")
    credential = mint_client_secret(dental_runtime(), settings=settings)
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["session"]["reasoning"] == {"effort": "low"}
    assert credential.contract_fields()["sessionTier"] == "premium"
    assert credential.contract_fields()["effectiveReasoningEffort"] == "low"
    assert_valid({**credential.contract_fields()}, credentials_schema())


def test_without_a_reasoning_effort_none_is_sent_or_reported(httpserver, endpoint):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    credential = mint_client_secret(dental_runtime(), settings=settings_for(endpoint))
    assert "reasoning" not in json.loads(httpserver.log[0][0].get_data())["session"]
    assert "effectiveReasoningEffort" not in credential.contract_fields()


@pytest.mark.parametrize(
    ("persona_id", "voice", "replaced"),
    [
        ("healthcare_patient_intake_es", "marin", "es-MX-DaliaNeural"),
        ("insurance_policy_service_es", "cedar", "es-MX-JorgeNeural"),
        ("banking_card_services", "cedar", None),
    ],
)
def test_azure_neural_voices_are_replaced_by_a_realtime_voice(httpserver, endpoint, persona_id, voice, replaced):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    credential = mint_client_secret(compose(persona_id), settings=settings_for(endpoint))
    sent = json.loads(httpserver.log[0][0].get_data())["session"]["audio"]["output"]["voice"]
    assert (sent, credential.voice, credential.replaced_voice) == (voice, voice, replaced)


def test_semantic_vad_and_the_runtime_transcription_language_pass_through(httpserver, endpoint):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    mint_client_secret(compose("healthcare_patient_intake_es"), settings=settings_for(endpoint))
    audio_input = json.loads(httpserver.log[0][0].get_data())["session"]["audio"]["input"]
    assert audio_input["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "auto",
        "create_response": True,
        "interrupt_response": True,
    }
    assert audio_input["transcription"]["language"] == "es"


# --- auth ---------------------------------------------------------------------------------------


def test_without_an_api_key_a_bearer_token_is_sent_and_cached(httpserver, endpoint):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    credential = FakeCredential()
    tokens = token_provider_for(credential)
    settings = settings_for(endpoint, azure_openai_api_key="")
    mint_client_secret(dental_runtime(), settings=settings, token_provider=tokens)
    mint_client_secret(dental_runtime(), settings=settings, token_provider=tokens)

    assert credential.calls == [("https://cognitiveservices.azure.com/.default",)]
    for request, _ in httpserver.log:
        assert request.headers["Authorization"] == "Bearer entra-token-1"
        assert "api-key" not in request.headers


def test_a_token_near_expiry_is_renewed(httpserver, endpoint):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    credential = FakeCredential(lifetime_seconds=60)  # inside azure-core's five-minute refresh window
    tokens = token_provider_for(credential)
    settings = settings_for(endpoint, azure_openai_api_key="")
    mint_client_secret(dental_runtime(), settings=settings, token_provider=tokens)
    mint_client_secret(dental_runtime(), settings=settings, token_provider=tokens)
    assert len(credential.calls) == 2
    assert httpserver.log[1][0].headers["Authorization"] == "Bearer entra-token-2"


def test_one_default_credential_per_process(httpserver, endpoint, monkeypatch):
    import azure.identity

    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    FakeCredential.instances = 0
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    settings = settings_for(endpoint, azure_openai_api_key="")
    for _ in range(3):
        mint_client_secret(dental_runtime(), settings=settings)
    assert FakeCredential.instances == 1
    assert {request.headers["Authorization"] for request, _ in httpserver.log} == {"Bearer entra-token-1"}


def test_an_unavailable_managed_identity_is_503_and_nothing_is_sent(httpserver, endpoint):
    settings = settings_for(endpoint, azure_openai_api_key="")
    with pytest.raises(ServiceUnavailable) as caught:
        mint_client_secret(
            dental_runtime(), settings=settings, token_provider=token_provider_for(FakeCredential(fail=True))
        )
    assert caught.value.code == "realtime_not_configured"
    assert "AZURE_OPENAI_API_KEY" in caught.value.message
    assert httpserver.log == []


# --- failure mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_provider_5xx_is_a_bad_gateway(httpserver, endpoint, status):
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {"error": {"message": "internal", "type": "server_error", "code": None, "param": None}}, status=status
    )
    with pytest.raises(BadGateway) as caught:
        mint_client_secret(dental_runtime(), settings=settings_for(endpoint))
    assert (caught.value.status, caught.value.code) == (502, "realtime_provider_error")


def test_a_provider_timeout_is_a_bad_gateway():
    # A listening socket that never answers: the connection opens, the response never comes.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        settings = settings_for(f"http://127.0.0.1:{port}", realtime_provider_timeout_seconds=0.3)
        started = time.monotonic()
        with pytest.raises(BadGateway) as caught:
            mint_client_secret(dental_runtime(), settings=settings)
    assert caught.value.code == "realtime_provider_timeout"
    assert time.monotonic() - started < 2


def test_a_provider_that_is_down_is_a_bad_gateway():
    (port,) = free_ports(1)
    with pytest.raises(BadGateway) as caught:
        mint_client_secret(dental_runtime(), settings=settings_for(f"http://127.0.0.1:{port}"))
    assert caught.value.code == "realtime_provider_unreachable"


@pytest.mark.parametrize(
    ("status", "code", "phrase"),
    [
        (400, "realtime_provider_rejected", "rejected"),
        (401, "realtime_provider_rejected", "credentials"),
        (403, "realtime_provider_rejected", "credentials"),
        (404, "realtime_provider_rejected", "deployment"),
        (429, "realtime_provider_rate_limited", "try again"),
    ],
)
def test_a_provider_4xx_is_a_bad_gateway_with_a_safe_message(httpserver, endpoint, caplog, status, code, phrase):
    provider_message = "Invalid value: 'es-MX-DaliaNeural'. Supported values are: 'alloy', 'ash'."
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {
            "error": {
                "message": provider_message,
                "type": "invalid_request_error",
                "code": "invalid_value",
                "param": "session.audio.output.voice",
            }
        },
        status=status,
    )
    with caplog.at_level(logging.WARNING, logger="shared.realtime.provider"), pytest.raises(BadGateway) as caught:
        mint_client_secret(dental_runtime(), settings=settings_for(endpoint))
    assert (caught.value.status, caught.value.code) == (502, code)
    assert phrase in caught.value.message
    assert "Dalia" not in caught.value.message and "invalid_value" not in caught.value.message
    # Operators still see what the provider said.
    assert "session.audio.output.voice" in caplog.text and "invalid_value" in caplog.text


@pytest.mark.parametrize(
    "answer",
    [
        b"not json",
        json.dumps({"expires_at": EXPIRES_AT}).encode(),
        json.dumps({"value": "", "expires_at": EXPIRES_AT}).encode(),
        json.dumps({"value": SECRET, "expires_at": "tomorrow"}).encode(),
        json.dumps({"value": SECRET}).encode(),
        json.dumps([1, 2]).encode(),
    ],
)
def test_an_unusable_answer_is_a_bad_gateway(httpserver, endpoint, answer):
    httpserver.expect_request(PATH, method="POST").respond_with_data(answer, content_type="application/json")
    with pytest.raises(BadGateway) as caught:
        mint_client_secret(dental_runtime(), settings=settings_for(endpoint))
    assert caught.value.code == "realtime_provider_malformed"


def test_a_redirect_is_not_followed(httpserver, endpoint):
    httpserver.expect_request(PATH, method="POST").respond_with_data("", status=307, headers={"Location": "/x"})
    with pytest.raises(BadGateway):
        mint_client_secret(dental_runtime(), settings=settings_for(endpoint))
    assert len(httpserver.log) == 1


# --- configuration ------------------------------------------------------------------------------


def test_not_configured_is_503_saying_so_and_nothing_is_sent(httpserver):
    with pytest.raises(ServiceUnavailable) as caught:
        mint_client_secret(dental_runtime(), settings=settings_for(""))
    assert (caught.value.status, caught.value.code) == (503, "realtime_not_configured")
    assert "AZURE_OPENAI_ENDPOINT" in caught.value.message
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("endpoint", "app_env"),
    [
        ("ftp://tellgence.openai.azure.com", "production"),
        ("http://tellgence.openai.azure.com", "production"),
        ("http://127.0.0.1:9", "production"),  # plain http to loopback only on a developer's machine
        ("https://tellgence.openai.azure.com/?api-version=2025-04-01-preview", "production"),
        ("not a url", "test"),
    ],
)
def test_an_unusable_endpoint_is_503_naming_the_setting(endpoint, app_env):
    with pytest.raises(ServiceUnavailable) as caught:
        endpoint_base(settings_for(endpoint, app_env=app_env))
    assert "AZURE_OPENAI_ENDPOINT" in caught.value.message


@pytest.mark.parametrize(
    ("configured", "base"),
    [
        ("https://tellgence.openai.azure.com", "https://tellgence.openai.azure.com"),
        ("https://tellgence.openai.azure.com/", "https://tellgence.openai.azure.com"),
        ("https://tellgence.openai.azure.com/openai/v1/", "https://tellgence.openai.azure.com"),
        ("https://tellgence.cognitiveservices.azure.com/openai", "https://tellgence.cognitiveservices.azure.com"),
        ("http://localhost:8123", "http://localhost:8123"),
    ],
)
def test_the_endpoint_is_normalised(configured, base):
    assert endpoint_base(settings_for(configured)) == base


# --- the secret is never logged or shown --------------------------------------------------------


def test_the_secret_never_reaches_a_log_or_a_repr(httpserver, endpoint, caplog):
    httpserver.expect_request(PATH, method="POST").respond_with_json(ok_answer())
    with caplog.at_level(logging.DEBUG):
        credential = mint_client_secret(dental_runtime(), settings=settings_for(endpoint))
    assert credential.token == SECRET
    assert SECRET not in caplog.text and API_KEY not in caplog.text
    assert SECRET not in repr(credential) and SECRET not in str(credential)


def test_the_credential_is_a_value_object():
    credential = RealtimeCredential(
        token="ek_x",
        expires_at=datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        webrtc_url="https://x/openai/v1/realtime/calls",
        realtime_deployment="d",
        transcription_model="m",
        session_tier="standard",
        reasoning_effort=None,
        voice="marin",
    )
    with pytest.raises(AttributeError):
        credential.token = "other"
