"""Secrets at rest: AES-256-GCM envelope encryption under rotating key-encryption keys (KEKs).

Each value gets its own random data key (DEK). The value is sealed with the DEK, and the DEK is
sealed with the current KEK from CONNECTOR_ENCRYPTION_KEYS (`kid:base64key,...`, the first is
current). The stored envelope names the KEK's id, so older keys keep decrypting after a rotation
and `rewrap` moves a value to the current key without touching its ciphertext.

Every value is bound to a context (e.g. tenant, connector kind and field name) through the AEAD's
associated data: an envelope copied to another tenant or field does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets as _random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.platform.errors import ServiceError, ServiceUnavailable
from shared.platform.settings import Settings, get_settings, parse_connector_keys

ENVELOPE_FORMAT = "tellgence.aes256gcm.v1"
MASK = "********"
NONCE_BYTES = 12
DEK_BYTES = 32
DEV_KEYS_FILE = Path(".local") / "connector-encryption-keys"
SETTING = "CONNECTOR_ENCRYPTION_KEYS"


class SecretUnreadable(ServiceError):
    """A stored secret cannot be decrypted: tampered, truncated, or sealed under a key no longer configured."""

    status, code, default_message = 500, "secret_unreadable", "A stored secret could not be decrypted"


@dataclass(frozen=True)
class Keyring:
    """The configured key-encryption keys, current first."""

    keys: tuple[tuple[str, bytes], ...]

    @property
    def current_kid(self) -> str:
        """The id of the key new envelopes are sealed under."""
        return self.keys[0][0]

    def key(self, kid: str) -> bytes:
        """The key with this id; SecretUnreadable when it is no longer configured."""
        for candidate, key in self.keys:
            if candidate == kid:
                return key
        raise SecretUnreadable(f"The secret was sealed under key {kid!r}, which is not configured")

    def __repr__(self) -> str:  # keys never reach a log line through repr()
        return f"Keyring(kids={[kid for kid, _ in self.keys]!r})"


@lru_cache(maxsize=4)
def _parsed(raw: str) -> Keyring:
    return Keyring(parse_connector_keys(raw))


def keyring(settings: Settings | None = None) -> Keyring:
    """The keyring from settings; ServiceUnavailable when no key is configured."""
    settings = settings or get_settings()
    raw = settings.connector_encryption_keys
    if not raw:
        hint = " (the dev host writes a local one under .local/)" if settings.is_local else ""
        raise ServiceUnavailable(
            f"Connector secrets cannot be encrypted: {SETTING} is not configured{hint}",
            code="encryption_not_configured",
        )
    return _parsed(raw)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise SecretUnreadable("The stored secret is malformed")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SecretUnreadable("The stored secret is malformed") from exc


def _wrap_aad(kid: str) -> bytes:
    return f"{ENVELOPE_FORMAT}|dek|{kid}".encode()


def _value_aad(context: str) -> bytes:
    return f"{ENVELOPE_FORMAT}|value|{context}".encode()


def is_envelope(value: Any) -> bool:
    """True for a stored envelope (as opposed to a clear value)."""
    return isinstance(value, Mapping) and value.get("enc") == ENVELOPE_FORMAT


def encrypt_value(plaintext: str, *, context: str, ring: Keyring | None = None) -> dict[str, str]:
    """Seal one string under a fresh data key wrapped by the current key; bound to `context`."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not isinstance(plaintext, str):
        raise TypeError("only strings are encrypted")
    ring = ring or keyring()
    dek = AESGCM.generate_key(bit_length=DEK_BYTES * 8)
    iv = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(dek).encrypt(iv, plaintext.encode("utf-8"), _value_aad(context))
    kid = ring.current_kid
    wrap_iv = os.urandom(NONCE_BYTES)
    wrapped = AESGCM(ring.key(kid)).encrypt(wrap_iv, dek, _wrap_aad(kid))
    return {"enc": ENVELOPE_FORMAT, "kid": kid, "wk": _b64(wrap_iv + wrapped), "iv": _b64(iv), "ct": _b64(ciphertext)}


def _unwrap(envelope: Mapping[str, Any], ring: Keyring) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not is_envelope(envelope) or not isinstance(envelope.get("kid"), str):
        raise SecretUnreadable("The stored secret is malformed")
    kid = envelope["kid"]
    sealed = _unb64(envelope.get("wk"))
    if len(sealed) <= NONCE_BYTES:
        raise SecretUnreadable("The stored secret is malformed")
    try:
        return AESGCM(ring.key(kid)).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _wrap_aad(kid))
    except InvalidTag as exc:
        raise SecretUnreadable("The stored secret failed its integrity check") from exc


def decrypt_value(envelope: Mapping[str, Any], *, context: str, ring: Keyring | None = None) -> str:
    """Open one envelope sealed for `context`; SecretUnreadable when tampered, moved or its key is gone."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ring = ring or keyring()
    dek = _unwrap(envelope, ring)
    iv = _unb64(envelope.get("iv"))
    if len(iv) != NONCE_BYTES or len(dek) != DEK_BYTES:
        raise SecretUnreadable("The stored secret is malformed")
    try:
        plaintext = AESGCM(dek).decrypt(iv, _unb64(envelope.get("ct")), _value_aad(context))
    except InvalidTag as exc:
        raise SecretUnreadable("The stored secret failed its integrity check") from exc
    return plaintext.decode("utf-8")


def rewrap(envelope: Mapping[str, Any], ring: Keyring | None = None) -> dict[str, str]:
    """The same envelope with its data key re-sealed under the current key (the value's ciphertext is kept)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ring = ring or keyring()
    if envelope.get("kid") == ring.current_kid:
        return dict(envelope)
    dek = _unwrap(envelope, ring)
    kid = ring.current_kid
    wrap_iv = os.urandom(NONCE_BYTES)
    wrapped = AESGCM(ring.key(kid)).encrypt(wrap_iv, dek, _wrap_aad(kid))
    return {**envelope, "kid": kid, "wk": _b64(wrap_iv + wrapped)}


def _field_context(context: str, name: str) -> str:
    return f"{context}#{name}"


def encrypt_fields(
    values: Mapping[str, Any], secret_keys: Iterable[str], *, context: str, ring: Keyring | None = None
) -> dict[str, Any]:
    """A copy of `values` with each non-empty secret field sealed; other fields and existing envelopes unchanged."""
    out = dict(values)
    wanted = [name for name in secret_keys if isinstance(out.get(name), str) and out[name] != ""]
    if wanted:
        ring = ring or keyring()
        for name in wanted:
            out[name] = encrypt_value(out[name], context=_field_context(context, name), ring=ring)
    return out


def decrypt_fields(
    values: Mapping[str, Any], secret_keys: Iterable[str], *, context: str, ring: Keyring | None = None
) -> dict[str, Any]:
    """A copy of `values` with each sealed secret field opened (for the one call that needs it)."""
    out = dict(values)
    sealed = [name for name in secret_keys if is_envelope(out.get(name))]
    if sealed:
        ring = ring or keyring()
        for name in sealed:
            out[name] = decrypt_value(out[name], context=_field_context(context, name), ring=ring)
    return out


def rotate_fields(
    values: Mapping[str, Any], secret_keys: Iterable[str], ring: Keyring | None = None
) -> tuple[dict[str, Any], bool]:
    """Re-seal every secret field still under an older key; returns the copy and whether anything changed."""
    out = dict(values)
    changed = False
    stale = [name for name in secret_keys if is_envelope(out.get(name))]
    if stale:
        ring = ring or keyring()
        for name in stale:
            if out[name].get("kid") != ring.current_kid:
                out[name] = rewrap(out[name], ring)
                changed = True
    return out, changed


def mask(value: Any) -> str:
    """What a response shows for a secret: a fixed mask when one is set (no length or characters leak), else ""."""
    if value is None or value == "" or value == {}:
        return ""
    return MASK


def mask_fields(values: Mapping[str, Any], secret_keys: Iterable[str]) -> dict[str, Any]:
    """A copy of `values` safe for a response or an audit record: every secret field masked."""
    out = dict(values)
    for name in secret_keys:
        if name in out:
            out[name] = mask(out[name])
    return out


def generate_key_entry(kid: str) -> str:
    """A new `kid:base64key` entry for CONNECTOR_ENCRYPTION_KEYS (put it first to make it current)."""
    entry = f"{kid}:{_b64(_random.token_bytes(DEK_BYTES))}"
    parse_connector_keys(entry)  # the kid must be a valid key id
    return entry


def dev_encryption_keys(root: Path) -> str:
    """Dev only: this machine's CONNECTOR_ENCRYPTION_KEYS value under .local/, created on first use (mode 0600)."""
    path = root / DEV_KEYS_FILE
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        parse_connector_keys(value)
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = generate_key_entry(f"dev-{_random.token_hex(4)}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def ensure_dev_encryption_keys(root: Path, settings_path: Path) -> None:
    """Dev only: give local.settings.json this machine's dev key when it has no CONNECTOR_ENCRYPTION_KEYS yet."""
    import json

    document = json.loads(settings_path.read_text(encoding="utf-8"))
    values = document.setdefault("Values", {})
    if (values.get(SETTING) or "").strip():
        return
    values[SETTING] = dev_encryption_keys(root)
    settings_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
