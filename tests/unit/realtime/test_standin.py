"""The loopback stand-in of client_secrets: it accepts the app's own requests and refuses malformed ones."""

from __future__ import annotations

import copy
import re
import socket
import time

import httpx
import pytest

from devhost import realtime_standin
from shared.catalog import content
from shared.catalog.runtime import compose
from shared.platform import outbound
from shared.platform.errors import BadGateway
from shared.platform.settings import Settings
from shared.realtime import provider
from shared.realtime.provider import client_secret_request, mint_client_secret
from shared.realtime.selection import select_persona

DEPLOYMENT = "gpt-realtime"
SECRET_SHAPE = re.compile(r"ek_[0-9a-f]{32}")


@pytest.fixture(scope="module")
def standin():
    handle = realtime_standin.start(0, deployment=DEPLOYMENT, max_ttl_seconds=120)
    yield handle
    handle.stop()


@pytest.fixture(scope="module", autouse=True)
def fresh_clients():
    outbound.reset()
    provider.reset()
    yield
    outbound.reset()
    CLIENT.close()


# One client for the raw requests: building one per request costs more than the request.
CLIENT = httpx.Client(timeout=5)


def app_settings(handle, **overrides) -> Settings:
    env = handle.env()
    values = {
        "app_env": "local",
        "azure_openai_endpoint": env["AZURE_OPENAI_ENDPOINT"],
        "azure_openai_api_key": env["AZURE_OPENAI_API_KEY"],
        "azure_openai_deployment_realtime": env["AZURE_OPENAI_DEPLOYMENT_REALTIME"],
    }
    values.update(overrides)
    return Settings(**values)


def valid_body() -> dict:
    return client_secret_request(
        compose("dental_front_desk", tone="warm", scenario_id="dental-new-patient-emergency"),
        settings=Settings(azure_openai_deployment_realtime=DEPLOYMENT, realtime_reasoning_effort="medium"),
    )


def post(handle, body, *, headers=None, path=realtime_standin.CLIENT_SECRETS_PATH) -> httpx.Response:
    sent = {"api-key": handle.api_key, **(headers or {})}
    return CLIENT.post(handle.url + path, json=body, headers=sent)


# --- the app's own requests ---------------------------------------------------------------------


@pytest.mark.parametrize("persona_id", sorted(content.personas()))
def test_the_app_request_of_every_persona_is_accepted(standin, persona_id):
    selection = select_persona(persona_id=persona_id, user_hint_language="es-MX")
    runtime = compose(persona_id, tone="professional", session_id="sess-standin")
    before = time.time()
    credential = mint_client_secret(
        runtime,
        settings=app_settings(standin),
        transcription_language=selection.language.transcription_language_code,
        extra_instructions=selection.language.instructions,
    )
    assert SECRET_SHAPE.fullmatch(credential.token)
    assert credential.webrtc_url == standin.url + "/openai/v1/realtime/calls"
    expires = credential.expires_at
    assert expires.endswith("Z")
    from shared.platform.clock import parse_iso

    assert 0 < parse_iso(expires).timestamp() - before <= 121  # capped: a short-lived secret


def test_reasoning_and_every_tier_are_accepted(standin):
    for effort in ("minimal", "low", "medium", "high"):
        credential = mint_client_secret(
            compose("sales_sdr"), settings=app_settings(standin, realtime_reasoning_effort=effort)
        )
        assert credential.reasoning_effort == effort


def test_each_secret_is_new(standin):
    tokens = {mint_client_secret(compose("sales_sdr"), settings=app_settings(standin)).token for _ in range(3)}
    assert len(tokens) == 3


def test_the_answer_echoes_the_session(standin):
    body = valid_body()
    answer = post(standin, body)
    assert answer.status_code == 200
    data = answer.json()
    assert set(data) == {"value", "expires_at", "session"}
    session = data["session"]
    assert session["object"] == "realtime.session" and session["id"].startswith("sess_")
    assert session["model"] == DEPLOYMENT
    assert session["audio"]["output"]["voice"] == body["session"]["audio"]["output"]["voice"]
    assert session["reasoning"] == {"effort": "medium"}
    assert data["expires_at"] - time.time() <= 120


def test_a_short_requested_lifetime_is_kept(standin):
    body = valid_body()
    body["expires_after"]["seconds"] = 30
    assert post(standin, body).json()["expires_at"] - time.time() <= 30


def test_a_minimal_documented_request_is_accepted(standin):
    body = {"session": {"type": "realtime", "model": DEPLOYMENT, "audio": {"output": {"voice": {"id": "voice_1"}}}}}
    assert post(standin, body).status_code == 200


# --- malformed requests -------------------------------------------------------------------------


def mutate(path: str, value, *, delete: bool = False) -> dict:
    body = copy.deepcopy(valid_body())
    node = body
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node[key]
    last = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
    if delete:
        del node[last]
    else:
        node[last] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "param", "code"),
    [
        ("session.type", "chat", "session.type", "invalid_value"),
        ("session.type", "transcription", "session.type", "invalid_value"),
        ("session.temperature", 0.8, "session.temperature", "unknown_parameter"),
        ("session.modalities", ["audio"], "session.modalities", "unknown_parameter"),
        ("unexpected", True, "unexpected", "unknown_parameter"),
        ("session.instructions", 42, "session.instructions", "invalid_type"),
        ("session.audio.output.voice", "es-MX-DaliaNeural", "session.audio.output.voice", "invalid_value"),
        ("session.audio.output.speed", 3.0, "session.audio.output.speed", "decimal_above_max_value"),
        ("session.audio.input.format", {"type": "pcm16"}, "session.audio.input.format.type", "invalid_value"),
        ("session.audio.input.format.rate", 16000, "session.audio.input.format.rate", "invalid_value"),
        (
            "session.audio.input.turn_detection",
            {"type": "server_vad", "eagerness": "low"},
            "session.audio.input.turn_detection.eagerness",
            "unknown_parameter",
        ),
        (
            "session.audio.input.turn_detection.threshold",
            1.5,
            "session.audio.input.turn_detection.threshold",
            "decimal_above_max_value",
        ),
        (
            "session.audio.input.turn_detection.silence_duration_ms",
            "500",
            "session.audio.input.turn_detection.silence_duration_ms",
            "invalid_type",
        ),
        ("session.audio.input.turn_detection", {"eagerness": "low"}, "session.audio.input.turn_detection.type", None),
        ("session.audio.input.transcription.model", "gpt-5", "session.audio.input.transcription.model", None),
        ("session.audio.input.transcription.language", "es-MX", "session.audio.input.transcription.language", None),
        ("session.audio.input.noise_reduction", {"type": "studio"}, "session.audio.input.noise_reduction.type", None),
        ("session.output_modalities", ["text", "audio"], "session.output_modalities", None),
        ("session.max_output_tokens", 5000, "session.max_output_tokens", None),
        ("session.max_output_tokens", "infinite", "session.max_output_tokens", None),
        ("session.tools.0.type", "code_interpreter", "session.tools[0].type", "invalid_value"),
        ("session.tools.0.name", "has spaces", "session.tools[0].name", "invalid_value"),
        ("session.tool_choice", "sometimes", "session.tool_choice", None),
        ("session.reasoning.effort", "extreme", "session.reasoning.effort", "invalid_value"),
        ("expires_after.seconds", 5, "expires_after.seconds", "integer_below_min_value"),
        ("expires_after.seconds", 7201, "expires_after.seconds", "integer_above_max_value"),
        ("expires_after.anchor", "now", "expires_after.anchor", "invalid_value"),
    ],
)
def test_a_malformed_request_is_a_400_in_the_providers_shape(standin, path, value, param, code):
    answer = post(standin, mutate(path, value))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code:
        assert error["code"] == code
    assert error["message"]


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("session.type", "session.type"),
        ("session.model", "session.model"),
        ("session", "session"),
        ("session.tools.0.name", "session.tools[0].name"),
        ("session.audio.input.turn_detection.type", "session.audio.input.turn_detection.type"),
    ],
)
def test_a_missing_parameter_is_named(standin, path, param):
    error = post(standin, mutate(path, None, delete=True)).json()["error"]
    assert (error["param"], error["code"]) == (param, "missing_required_parameter")


def test_duplicate_tool_names_are_refused(standin):
    body = valid_body()
    body["session"]["tools"].append(dict(body["session"]["tools"][0]))
    error = post(standin, body).json()["error"]
    assert (error["param"], error["code"]) == ("session.tools", "invalid_value")


def test_an_unknown_deployment_is_azures_404(standin):
    answer = post(standin, mutate("session.model", "gpt-4o-mini-realtime"))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "DeploymentNotFound"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'{"session": NaN}'])
def test_a_body_that_is_not_a_json_object_is_a_400(standin, raw):
    answer = CLIENT.post(
        standin.url + realtime_standin.CLIENT_SECRETS_PATH,
        content=raw,
        headers={"api-key": standin.api_key, "Content-Type": "application/json"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"


# --- auth, paths, binding -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{"api-key": ""}, {"api-key": "wrong-key"}, {"api-key": "", "Authorization": "Bearer eyJ0eXAi"}]
)
def test_without_the_key_the_answer_is_401(standin, headers):
    answer = post(standin, valid_body(), headers=headers)
    assert answer.status_code == 401
    assert set(answer.json()["error"]) == {"code", "message"}


def test_a_wrong_key_reaches_the_app_as_a_bad_gateway(standin):
    with pytest.raises(BadGateway) as caught:
        mint_client_secret(compose("sales_sdr"), settings=app_settings(standin, azure_openai_api_key="wrong"))
    assert caught.value.code == "realtime_provider_rejected"


def test_the_calls_endpoint_says_it_carries_no_audio(standin):
    answer = CLIENT.post(standin.url + realtime_standin.CALLS_PATH, content=b"v=0")
    assert answer.status_code == 501
    assert "AZURE_OPENAI_ENDPOINT" in answer.json()["error"]["message"]


def test_other_paths_and_methods(standin):
    assert CLIENT.post(standin.url + "/openai/v1/responses", json={}).status_code == 404
    assert CLIENT.get(standin.url + realtime_standin.CLIENT_SECRETS_PATH).status_code == 405


def test_it_binds_loopback_only_and_stops(standin):
    handle = realtime_standin.start(0)
    assert handle.url == f"http://127.0.0.1:{handle.port}"
    assert handle._server.server_address[0] == "127.0.0.1"
    assert "api_key" not in repr(handle) and handle.api_key not in repr(handle)
    handle.stop()
    handle.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", handle.port), timeout=1):
        pass


def test_the_environment_points_the_app_at_it(standin):
    env = standin.env()
    settings = Settings.from_env({"APP_ENV": "local", **env})
    assert settings.azure_openai_endpoint == standin.url
    assert settings.azure_openai_deployment_realtime == DEPLOYMENT
    assert not realtime_standin.should_run(settings)
    assert realtime_standin.should_run(Settings.from_env({"APP_ENV": "local"}))
    assert not realtime_standin.should_run(Settings.from_env({"APP_ENV": "production"}))


def test_an_unreasonable_lifetime_cap_is_refused():
    with pytest.raises(ValueError):
        realtime_standin.start(0, max_ttl_seconds=5)
