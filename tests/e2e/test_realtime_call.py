"""A realtime call as `make dev` serves it without Azure: the local stand-in mints, the runtime session records."""

from __future__ import annotations

import pytest

from tests.conftest import reset_clients
from tests.support.sessions import key_headers, start_session


@pytest.fixture
def standin(settings_env):
    """The loopback stand-in `make dev` starts when AZURE_OPENAI_ENDPOINT is unset, wired in the same way."""
    from devhost import realtime_standin
    from shared.platform.settings import get_settings

    assert realtime_standin.should_run(get_settings())
    handle = realtime_standin.start(deployment=get_settings().azure_openai_deployment_realtime)
    for name, value in handle.env().items():
        settings_env.setenv(name, value)
    reset_clients()
    yield handle
    handle.stop()


def test_a_prospect_talks_and_the_call_is_recorded_beside_the_session(client, standin):
    demo = start_session(client, "healthcare-intake", requestedLocale="es-MX")
    headers = key_headers(demo)
    sid = demo["sessionId"]

    # Several locales pick the persona the ladder says, each with a secret from the stand-in.
    picks = {}
    for body in ({"sessionId": sid}, {"requestedLocale": "fr-CA"}, {"requestedLocale": "de-DE"}):
        response = client.post("/api/realtime/credentials", json=body)
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["token"].startswith("ek_") and data["webrtcUrl"] == standin.url + "/openai/v1/realtime/calls"
        picks[data["selectedPersonaId"]] = data["personaSelectionReason"]
    assert picks == {
        "healthcare_patient_intake_es": "exact-locale",
        "accounting_billing_fr": "exact-locale",
        "insurance_claims_intake": "en-us-fallback",
    }

    runtime = client.post(
        "/api/realtime/sessions",
        json={
            "personaId": "healthcare_patient_intake_es",
            "personaName": "Lucía",
            "locale": "es-MX",
            "transportMode": "BROWSER_REALTIME",
            "metadata": {"demoSessionId": sid},
        },
        headers=headers,
    ).json()["session"]
    rid = runtime["sessionId"]
    base = f"/api/realtime/sessions/{rid}"
    assert client.post(f"{base}/stats", json=_stats(rid, state="connected")).status_code == 200
    turns = [("assistant", "Hola, ¿en qué puedo ayudarle?"), ("user", "Necesito una cita"), ("assistant", "Claro.")]
    for speaker, text in turns:
        assert client.post(f"{base}/utterances", json={"speaker": speaker, "text": text}).status_code == 200
    for latency in (640.0, 720.0, 910.0):
        assert client.post(f"{base}/stats", json=_stats(rid, averageLatencyMs=latency)).status_code == 200
    for state in ("closing", "closed"):
        assert client.post(f"{base}/stats", json=_stats(rid, state=state)).status_code == 200

    detail = client.get(base).json()
    assert [item["text"] for item in detail["transcript"]] == [text for _, text in turns]
    assert detail["session"]["state"] == "closed" and detail["session"]["utteranceCount"] == 3
    session = client.get(f"/api/sessions/{sid}", headers=headers).json()
    assert session["latencyMetrics"]["latencyP50"] == pytest.approx(720.0, rel=0.01)
    assert client.get(f"/api/sessions/{sid}/cost", headers=headers).status_code == 200


def _stats(session_id: str, **extra) -> dict:
    return {
        "sessionId": session_id,
        "transportMode": "BROWSER_REALTIME",
        "uptime": 30,
        "utteranceCount": 3,
        "lastActivity": 1_767_225_600_000,
        **extra,
    }
