"""The pilots settings: parsed strictly, secrets kept out of logs."""

from __future__ import annotations

import pytest

from shared.platform.settings import Settings

KEY = "a" * 32


def test_defaults_when_unset() -> None:
    settings = Settings.from_env({})
    assert settings.attestation_signing_key == ""
    assert settings.attestation_signing_key_previous == ""
    assert settings.attestation_token_ttl_days == 14


def test_values_are_read_and_the_keys_are_secrets() -> None:
    settings = Settings.from_env(
        {
            "ATTESTATION_SIGNING_KEY": f"  {KEY}  ",
            "ATTESTATION_SIGNING_KEY_PREVIOUS": "b" * 40,
            "ATTESTATION_TOKEN_TTL_DAYS": "30",
        }
    )
    assert settings.attestation_signing_key == KEY
    assert settings.attestation_signing_key_previous == "b" * 40
    assert settings.attestation_token_ttl_days == 30
    assert KEY in settings.secret_values() and "b" * 40 in settings.secret_values()
    assert KEY not in repr(settings)


@pytest.mark.parametrize("name", ["ATTESTATION_SIGNING_KEY", "ATTESTATION_SIGNING_KEY_PREVIOUS"])
def test_a_short_key_stops_start_up_naming_the_setting(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: "short-key"})


@pytest.mark.parametrize("value", ["0", "91", "-1", "7.5", "two", "１４", "1e1"])
def test_a_malformed_lifetime_stops_start_up_naming_the_setting(value: str) -> None:
    with pytest.raises(ValueError, match="ATTESTATION_TOKEN_TTL_DAYS"):
        Settings.from_env({"ATTESTATION_TOKEN_TTL_DAYS": value})


def test_the_lifetime_bounds_are_inclusive() -> None:
    assert Settings.from_env({"ATTESTATION_TOKEN_TTL_DAYS": "1"}).attestation_token_ttl_days == 1
    assert Settings.from_env({"ATTESTATION_TOKEN_TTL_DAYS": " 90 "}).attestation_token_ttl_days == 90
