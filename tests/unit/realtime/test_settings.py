"""The realtime settings: defaults, accepted values, and a malformed value naming its setting."""

from __future__ import annotations

import pytest

from shared.platform.settings import Settings


def test_defaults():
    settings = Settings.from_env({})
    assert settings.realtime_session_tier == "standard"
    assert settings.realtime_reasoning_effort == ""
    assert settings.realtime_credential_ttl_seconds == 600
    assert settings.realtime_provider_timeout_seconds == 10.0


def test_accepted_values():
    settings = Settings.from_env(
        {
            "REALTIME_SESSION_TIER": " Premium ",
            "REALTIME_REASONING_EFFORT": "HIGH",
            "REALTIME_CREDENTIAL_TTL_SECONDS": "7200",
            "REALTIME_PROVIDER_TIMEOUT_SECONDS": "2.5",
        }
    )
    assert (settings.realtime_session_tier, settings.realtime_reasoning_effort) == ("premium", "high")
    assert (settings.realtime_credential_ttl_seconds, settings.realtime_provider_timeout_seconds) == (7200, 2.5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REALTIME_SESSION_TIER", "gold"),
        ("REALTIME_REASONING_EFFORT", "xhigh"),  # the provider has it; the contract does not
        ("REALTIME_CREDENTIAL_TTL_SECONDS", "ten minutes"),
        ("REALTIME_CREDENTIAL_TTL_SECONDS", "9"),
        ("REALTIME_CREDENTIAL_TTL_SECONDS", "7201"),
        ("REALTIME_PROVIDER_TIMEOUT_SECONDS", "0"),
        ("REALTIME_PROVIDER_TIMEOUT_SECONDS", "nan"),
        ("REALTIME_PROVIDER_TIMEOUT_SECONDS", "61"),
        ("REALTIME_PROVIDER_TIMEOUT_SECONDS", "fast"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_setting(name, value):
    with pytest.raises(ValueError) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)
    assert value not in str(caught.value) or value.isdigit()
