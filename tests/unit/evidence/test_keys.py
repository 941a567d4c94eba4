"""Signing keys: settings parsed strictly, key ids, the local dev key, "not configured", rotation."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from shared.evidence import keys
from shared.platform.errors import ServiceUnavailable
from shared.platform.settings import Settings


def rsa_public_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def settings(**env: str) -> Settings:
    return Settings.from_env({"APP_ENV": "production", **env})


def test_key_id_is_the_first_16_hex_of_sha256_of_the_raw_public_key(key: keys.SigningKey) -> None:
    from cryptography.hazmat.primitives import serialization

    raw = key.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert len(raw) == 32
    assert key.public_key_id == hashlib.sha256(raw).hexdigest()[:16]
    assert keys.public_key_id(keys.load_public_key(key.public_key_pem)) == key.public_key_id


def test_configured_key_is_used_and_its_pem_may_be_one_line_with_escaped_newlines(key: keys.SigningKey) -> None:
    pem = keys.generate_private_key_pem()
    one_line = pem.strip().replace("\n", "\\n")
    for value in (pem, one_line, "  " + pem + "\n\n"):
        configured = keys.signing_key(settings(EVIDENCE_SIGNING_KEY=value))
        assert configured.public_key_id == keys.signing_key_from_pem(pem).public_key_id
    assert settings(EVIDENCE_SIGNING_KEY=one_line).evidence_signing_key == pem


def test_the_signing_key_is_a_secret_setting() -> None:
    pem = keys.generate_private_key_pem()
    configured = settings(EVIDENCE_SIGNING_KEY=pem)
    assert configured.evidence_signing_key in configured.secret_values()
    assert "PRIVATE KEY" not in repr(configured)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not a pem", "PEM blocks"),
        ("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----", "not base64"),
        ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", "ENCRYPTED PRIVATE KEY"),
        ("@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/evidence-signing-key/)", "Key Vault"),
    ],
)
def test_a_malformed_signing_key_setting_stops_start_up_naming_the_setting(value: str, message: str) -> None:
    with pytest.raises(ValueError, match="EVIDENCE_SIGNING_KEY") as raised:
        settings(EVIDENCE_SIGNING_KEY=value)
    assert message in str(raised.value)


def test_an_rsa_or_public_key_is_not_a_signing_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    with pytest.raises(ValueError, match="EVIDENCE_SIGNING_KEY holds a PRIVATE KEY that is not an ed25519 key"):
        settings(EVIDENCE_SIGNING_KEY=rsa_pem)
    public = keys.signing_key_from_pem(keys.generate_private_key_pem()).public_key_pem
    with pytest.raises(ValueError, match="EVIDENCE_SIGNING_KEY holds a PUBLIC KEY"):
        settings(EVIDENCE_SIGNING_KEY=public)


def test_retired_keys_as_concatenated_pems_or_a_json_list(key: keys.SigningKey, other_key: keys.SigningKey) -> None:
    both = key.public_key_pem + other_key.public_key_pem
    assert settings(EVIDENCE_RETIRED_PUBLIC_KEYS=both).evidence_retired_public_keys == (
        key.public_key_pem,
        other_key.public_key_pem,
    )
    listed = json.dumps([key.public_key_pem, other_key.public_key_pem, key.public_key_pem])
    assert settings(EVIDENCE_RETIRED_PUBLIC_KEYS=listed).evidence_retired_public_keys == (
        key.public_key_pem,
        other_key.public_key_pem,
    )
    assert settings(EVIDENCE_RETIRED_PUBLIC_KEYS="").evidence_retired_public_keys == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[not json", "not a JSON list"),
        ('{"a": 1}', "PEM blocks"),
        ("[1, 2]", "JSON list of PEM strings"),
        ('["garbage"]', "PEM blocks"),
        ("RSA", "PEM blocks"),
    ],
)
def test_malformed_retired_keys_stop_start_up_naming_the_setting(value: str, message: str) -> None:
    with pytest.raises(ValueError, match="EVIDENCE_RETIRED_PUBLIC_KEYS") as raised:
        settings(EVIDENCE_RETIRED_PUBLIC_KEYS=value)
    assert message in str(raised.value)


def test_a_retired_rsa_key_is_refused() -> None:
    with pytest.raises(ValueError, match="EVIDENCE_RETIRED_PUBLIC_KEYS holds a PUBLIC KEY that is not an ed25519"):
        settings(EVIDENCE_RETIRED_PUBLIC_KEYS=rsa_public_pem())


def test_without_a_key_outside_local_mode_signing_is_a_503_saying_so() -> None:
    with pytest.raises(ServiceUnavailable) as raised:
        keys.signing_key(settings())
    assert raised.value.status == 503
    assert raised.value.code == "evidence_signing_not_configured"
    assert "EVIDENCE_SIGNING_KEY" in raised.value.message
    assert keys.configuration_problem(settings()) == "EVIDENCE_SIGNING_KEY is not configured"


def test_a_key_that_passes_the_settings_shape_check_but_does_not_parse_is_a_503() -> None:
    # Well-formed PEM armour and base64 with the ed25519 OID, but not a PKCS#8 structure.
    body = "MAUGAytlcA=="  # SEQUENCE { OID 1.3.101.112 }
    broken = settings(EVIDENCE_SIGNING_KEY=f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ServiceUnavailable, match="EVIDENCE_SIGNING_KEY is not a well-formed") as raised:
        keys.signing_key(broken)
    assert raised.value.code == "evidence_signing_unavailable"
    assert keys.configuration_problem(broken).startswith("EVIDENCE_SIGNING_KEY is not a well-formed")


def test_local_mode_creates_the_dev_key_once_with_private_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = keys.ensure_dev_signing_key(tmp_path)
    assert path == tmp_path / ".local" / "evidence-signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    assert keys.ensure_dev_signing_key(tmp_path).read_text() == first
    assert list(path.parent.iterdir()) == [path]
    monkeypatch.setattr(keys, "PROJECT_ROOT", tmp_path)
    local = Settings.from_env({"APP_ENV": "local"})
    assert keys.signing_key(local).public_key_id == keys.signing_key_from_pem(first).public_key_id
    assert keys.configuration_problem(local) is None


def test_trusted_keys_are_the_current_one_and_the_retired_ones(
    key: keys.SigningKey, other_key: keys.SigningKey
) -> None:
    pem = keys.generate_private_key_pem()
    current = keys.signing_key_from_pem(pem)
    retired = key.public_key_pem + other_key.public_key_pem
    trusted = keys.trusted_public_keys(settings(EVIDENCE_SIGNING_KEY=pem, EVIDENCE_RETIRED_PUBLIC_KEYS=retired))
    assert list(trusted) == [current.public_key_id, key.public_key_id, other_key.public_key_id]
    assert trusted[key.public_key_id] == key.public_key_pem
    # Without a current key (not configured), packs signed by retired keys still have a trusted key.
    assert list(keys.trusted_public_keys(settings(EVIDENCE_RETIRED_PUBLIC_KEYS=retired))) == [
        key.public_key_id,
        other_key.public_key_id,
    ]


@pytest.mark.parametrize(
    "pem",
    ["", "garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "\x00\xff", "-----BEGIN"],
)
def test_loading_a_malformed_public_key_raises_invalid_key(pem: str) -> None:
    with pytest.raises(keys.InvalidKey):
        keys.load_public_key(pem)


def test_loading_an_rsa_public_key_raises_invalid_key() -> None:
    with pytest.raises(keys.InvalidKey, match="not an ed25519 public key"):
        keys.load_public_key(rsa_public_pem())
