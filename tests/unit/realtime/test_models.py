"""Realtime request models (every bound refuses, nothing is clipped), the WebSocket URL and the auth mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.identity.auth import RealtimeCaller
from shared.platform.errors import Unauthorized
from shared.platform.http.request import Request
from shared.realtime.credentials import ws_url
from shared.realtime.models import (
    MAX_METADATA_BYTES,
    CredentialsBody,
    RuntimeSessionBody,
    StatsBody,
    UtteranceBody,
)

BASE_SESSION = {
    "personaId": "dental_front_desk",
    "personaName": "Dana",
    "locale": "en-US",
    "transportMode": "BROWSER_REALTIME",
}
BASE_STATS = {
    "sessionId": "rt_x",
    "transportMode": "BROWSER_REALTIME",
    "uptime": 1,
    "utteranceCount": 0,
    "lastActivity": 1,
}


def test_credentials_refuse_unknown_fields_and_malformed_ids():
    assert CredentialsBody.model_validate({"personaId": "sales_sdr"}).personaId == "sales_sdr"
    for bad in ({"surprise": 1}, {"personaId": "../x"}, {"sessionId": ""}, {"requestedLocale": "e" * 36}):
        with pytest.raises(ValidationError):
            CredentialsBody.model_validate(bad)


@pytest.mark.parametrize(
    "change",
    [
        {"personaName": "x" * 257},
        {"personaName": "tab\there"},
        {"locale": "e" * 33},
        {"channelId": "a b"},
        {"tenantId": "-x"},
        {"metadata": {f"k{i}": i for i in range(65)}},
        {"metadata": {"blob": "y" * MAX_METADATA_BYTES}},
        {"transportMode": "SMOKE_SIGNALS"},
    ],
)
def test_runtime_session_bounds(change):
    with pytest.raises(ValidationError):
        RuntimeSessionBody.model_validate({**BASE_SESSION, **change})


def test_an_utterance_is_bounded_and_ordered():
    assert UtteranceBody.model_validate({"speaker": "user", "text": "hi", "startTime": 1, "endTime": 1}).text == "hi"
    for bad in (
        {"speaker": "user", "text": "x" * 10_001},
        {"speaker": "user", "text": " \n "},
        {"speaker": "user", "text": "hi", "startTime": 2, "endTime": 1},
        {"speaker": "user", "text": "hi", "confidence": -0.1},
        {"speaker": "user", "text": "hi", "startTime": 1e14},
        {"speaker": "", "text": "hi"},
    ):
        with pytest.raises(ValidationError):
            UtteranceBody.model_validate(bad)


def test_a_stats_report_is_bounded_and_its_state_is_not_part_of_media_stats():
    body = StatsBody.model_validate({**BASE_STATS, "averageLatencyMs": 420, "state": "connected"})
    assert body.report() == {**BASE_STATS, "uptime": 1.0, "lastActivity": 1.0, "averageLatencyMs": 420.0}
    for change in ({"averageLatencyMs": 3_600_001}, {"packetLoss": 100.5}, {"uptime": 86_400_001}, {"state": "x"}):
        with pytest.raises(ValidationError):
            StatsBody.model_validate({**BASE_STATS, **change})


def test_the_websocket_url_follows_the_endpoint_scheme():
    assert ws_url("https://res.openai.azure.com", "gpt-realtime") == (
        "wss://res.openai.azure.com/openai/v1/realtime?model=gpt-realtime"
    )
    assert ws_url("http://127.0.0.1:9999", "my deployment/1") == (
        "ws://127.0.0.1:9999/openai/v1/realtime?model=my%20deployment%2F1"
    )


def _request(headers: dict[str, str]) -> Request:
    return Request(
        "POST",
        "http://x/api/realtime/sessions",
        "/api/realtime/sessions",
        {},
        {},
        None,
        b"",
        headers,
        {},
        "127.0.0.1",
        "c" * 16,
    )


def test_the_realtime_caller_takes_the_key_and_reads_an_apikey_authorization_as_the_key(monkeypatch):
    from shared.platform import settings as settings_module

    mode = RealtimeCaller()
    assert mode.name == "realtime_api_key + public or operator"
    monkeypatch.setattr(
        settings_module, "get_settings", lambda: settings_module.Settings(app_env="test", api_key_for_realtime="k-123")
    )
    monkeypatch.setattr("shared.platform.http.auth.get_settings", settings_module.get_settings)
    assert mode.authenticate(_request({"authorization": "ApiKey k-123"})) is None
    assert mode.authenticate(_request({"x-api-key": "k-123"})) is None
    with pytest.raises(Unauthorized):
        mode.authenticate(_request({}))
    with pytest.raises(Unauthorized):
        mode.authenticate(_request({"x-api-key": "k-124"}))
