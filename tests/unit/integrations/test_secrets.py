"""Envelope encryption of connector secrets: round trip, binding, tampering, rotation, masking, dev keys."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from shared.platform import secrets
from shared.platform.errors import ServiceUnavailable
from shared.platform.secrets import Keyring, SecretUnreadable
from shared.platform.settings import Settings, parse_connector_keys
from tests.unit.integrations.conftest import KEY_1, KEY_2, reload

CONTEXT = "tenant-a/practiceConnector/ehr"
RING_1 = Keyring(parse_connector_keys(f"k1:{KEY_1}"))
RING_2_THEN_1 = Keyring(parse_connector_keys(f"k2:{KEY_2},k1:{KEY_1}"))
RING_2_ONLY = Keyring(parse_connector_keys(f"k2:{KEY_2}"))


def test_round_trip_and_the_envelope_holds_no_clear_text():
    envelope = secrets.encrypt_value("sk-live-abcdef123456", context=CONTEXT, ring=RING_1)
    assert set(envelope) == {"enc", "kid", "wk", "iv", "ct"}
    assert envelope["kid"] == "k1"
    assert "sk-live" not in json.dumps(envelope)
    assert secrets.is_envelope(envelope)
    assert secrets.decrypt_value(envelope, context=CONTEXT, ring=RING_1) == "sk-live-abcdef123456"


def test_each_encryption_uses_a_fresh_data_key_and_nonce():
    first = secrets.encrypt_value("same", context=CONTEXT, ring=RING_1)
    second = secrets.encrypt_value("same", context=CONTEXT, ring=RING_1)
    assert first["ct"] != second["ct"]
    assert first["wk"] != second["wk"]
    assert first["iv"] != second["iv"]


def test_unicode_values_round_trip():
    envelope = secrets.encrypt_value("pässwörd-🔑", context=CONTEXT, ring=RING_1)
    assert secrets.decrypt_value(envelope, context=CONTEXT, ring=RING_1) == "pässwörd-🔑"


def test_an_envelope_moved_to_another_context_does_not_decrypt():
    envelope = secrets.encrypt_value("token", context=CONTEXT, ring=RING_1)
    with pytest.raises(SecretUnreadable):
        secrets.decrypt_value(envelope, context="tenant-b/practiceConnector/ehr", ring=RING_1)


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[-1] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("part", ["ct", "wk", "iv"])
def test_a_tampered_envelope_is_refused(part: str):
    envelope = secrets.encrypt_value("token", context=CONTEXT, ring=RING_1)
    tampered = {**envelope, part: _flip(envelope[part])}
    with pytest.raises(SecretUnreadable) as error:
        secrets.decrypt_value(tampered, context=CONTEXT, ring=RING_1)
    assert error.value.status == 500
    assert "token" not in error.value.message


@pytest.mark.parametrize(
    "broken",
    [
        {"enc": secrets.ENVELOPE_FORMAT, "kid": "k1", "wk": "not base64!", "iv": "", "ct": ""},
        {"enc": secrets.ENVELOPE_FORMAT, "kid": "k1", "wk": "", "iv": "", "ct": ""},
        {"enc": "other", "kid": "k1", "wk": "", "iv": "", "ct": ""},
        {"enc": secrets.ENVELOPE_FORMAT, "kid": 7, "wk": "", "iv": "", "ct": ""},
    ],
)
def test_a_malformed_envelope_is_refused(broken: dict):
    with pytest.raises(SecretUnreadable):
        secrets.decrypt_value(broken, context=CONTEXT, ring=RING_1)


def test_a_swapped_key_id_is_refused():
    envelope = secrets.encrypt_value("token", context=CONTEXT, ring=RING_2_THEN_1)
    with pytest.raises(SecretUnreadable):
        secrets.decrypt_value({**envelope, "kid": "k1"}, context=CONTEXT, ring=RING_2_THEN_1)


def test_rotation_old_envelopes_still_open_and_rewrap_moves_them_to_the_current_key():
    old = secrets.encrypt_value("token", context=CONTEXT, ring=RING_1)
    assert secrets.decrypt_value(old, context=CONTEXT, ring=RING_2_THEN_1) == "token"
    moved = secrets.rewrap(old, RING_2_THEN_1)
    assert moved["kid"] == "k2"
    assert moved["ct"] == old["ct"]  # only the data key is re-sealed
    assert secrets.decrypt_value(moved, context=CONTEXT, ring=RING_2_ONLY) == "token"
    with pytest.raises(SecretUnreadable) as error:
        secrets.decrypt_value(old, context=CONTEXT, ring=RING_2_ONLY)
    assert "k1" in error.value.message
    assert secrets.rewrap(moved, RING_2_THEN_1) == moved


def test_fields_are_sealed_opened_rotated_and_masked_one_by_one():
    config = {"baseUrl": "https://ehr.example.org", "accessToken": "tok-123456", "clientId": "", "keyId": "k"}
    sealed = secrets.encrypt_fields(config, ["accessToken", "clientId", "privateKey"], context=CONTEXT, ring=RING_1)
    assert sealed["baseUrl"] == config["baseUrl"]
    assert sealed["clientId"] == ""  # empty values stay empty
    assert "privateKey" not in sealed
    assert secrets.is_envelope(sealed["accessToken"])
    assert secrets.encrypt_fields(sealed, ["accessToken"], context=CONTEXT, ring=RING_1) == sealed  # already sealed
    opened = secrets.decrypt_fields(sealed, ["accessToken", "clientId"], context=CONTEXT, ring=RING_1)
    assert opened == config
    rotated, changed = secrets.rotate_fields(sealed, ["accessToken"], RING_2_THEN_1)
    assert changed and rotated["accessToken"]["kid"] == "k2"
    assert secrets.rotate_fields(rotated, ["accessToken"], RING_2_THEN_1) == (rotated, False)
    assert secrets.decrypt_fields(rotated, ["accessToken"], context=CONTEXT, ring=RING_2_ONLY) == config
    masked = secrets.mask_fields(sealed, ["accessToken", "clientId"])
    assert masked == {"baseUrl": config["baseUrl"], "accessToken": secrets.MASK, "clientId": "", "keyId": "k"}


def test_mask_leaks_neither_characters_nor_length():
    assert secrets.mask("a-very-long-secret-value-1234") == secrets.MASK
    assert secrets.mask("x") == secrets.MASK
    assert secrets.mask("") == ""
    assert secrets.mask(None) == ""


def test_the_keyring_comes_from_settings_current_first(integration_env: pytest.MonkeyPatch):
    integration_env.setenv("CONNECTOR_ENCRYPTION_KEYS", f"k2:{KEY_2}, k1:{KEY_1}")
    reload()
    ring = secrets.keyring()
    assert ring.current_kid == "k2"
    assert "k2" in repr(ring) and KEY_2 not in repr(ring)
    envelope = secrets.encrypt_value("token", context=CONTEXT)
    assert envelope["kid"] == "k2"


def test_without_a_key_outside_local_mode_secrets_are_unavailable():
    with pytest.raises(ServiceUnavailable) as error:
        secrets.keyring(Settings(app_env="production"))
    assert error.value.code == "encryption_not_configured"
    assert "CONNECTOR_ENCRYPTION_KEYS" in error.value.message
    assert ".local" not in error.value.message


def test_without_a_key_locally_the_message_points_at_the_dev_key():
    with pytest.raises(ServiceUnavailable) as error:
        secrets.keyring(Settings(app_env="local"))
    assert ".local/" in error.value.message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("k1", "must be kid:base64key"),
        ("k1:", "must be kid:base64key"),
        ("k 1:" + KEY_1, "key id"),
        ("k1:%%%", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "32 bytes"),
        (f"k1:{KEY_1},k1:{KEY_2}", "repeats the key id k1"),
        ("@Microsoft.KeyVault(SecretUri=https://vault.example/secrets/x)", "unresolved Key Vault reference"),
    ],
)
def test_a_malformed_key_setting_names_the_setting(value: str, fragment: str):
    with pytest.raises(ValueError) as error:
        Settings.from_env({"CONNECTOR_ENCRYPTION_KEYS": value})
    assert "CONNECTOR_ENCRYPTION_KEYS" in str(error.value)
    assert fragment in str(error.value)
    assert KEY_1 not in str(error.value)


@pytest.mark.parametrize("value", ["0", "-1", "31", "soon"])
def test_a_malformed_connector_timeout_names_the_setting(value: str):
    with pytest.raises(ValueError, match="CONNECTOR_TIMEOUT_SECONDS"):
        Settings.from_env({"CONNECTOR_TIMEOUT_SECONDS": value})


def test_the_key_setting_is_a_secret_value():
    settings = Settings.from_env({"CONNECTOR_ENCRYPTION_KEYS": f"k1:{KEY_1}"})
    assert settings.connector_encryption_keys in settings.secret_values()
    assert KEY_1 not in repr(settings)


def test_generated_entries_parse_and_differ():
    first, second = secrets.generate_key_entry("2026-12"), secrets.generate_key_entry("2026-12")
    assert first != second
    assert parse_connector_keys(first)[0][0] == "2026-12"


def test_the_dev_key_is_created_once_under_local_with_private_permissions(tmp_path: Path):
    value = secrets.dev_encryption_keys(tmp_path)
    path = tmp_path / ".local" / "connector-encryption-keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert parse_connector_keys(value)[0][0].startswith("dev-")
    assert secrets.dev_encryption_keys(tmp_path) == value


def test_the_dev_host_helper_fills_local_settings_only_when_empty(tmp_path: Path):
    settings_path = tmp_path / "local.settings.json"
    settings_path.write_text(json.dumps({"IsEncrypted": False, "Values": {"APP_ENV": "local"}}))
    secrets.ensure_dev_encryption_keys(tmp_path, settings_path)
    values = json.loads(settings_path.read_text())["Values"]
    assert values["CONNECTOR_ENCRYPTION_KEYS"] == secrets.dev_encryption_keys(tmp_path)
    values["CONNECTOR_ENCRYPTION_KEYS"] = f"mine:{KEY_2}"
    settings_path.write_text(json.dumps({"Values": values}))
    secrets.ensure_dev_encryption_keys(tmp_path, settings_path)
    assert json.loads(settings_path.read_text())["Values"]["CONNECTOR_ENCRYPTION_KEYS"] == f"mine:{KEY_2}"
