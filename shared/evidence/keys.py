"""ed25519 evidence signing keys: the configured key, the local dev key, retired keys and key ids.

The private key is `EVIDENCE_SIGNING_KEY` (unencrypted PKCS#8 PEM; a Key Vault reference in Azure). Locally,
without it, a key is created once under `.local/` (mode 0600). Rotation: configure the new private key and add
the old public key to `EVIDENCE_RETIRED_PUBLIC_KEYS`; packs signed before the rotation keep verifying.
A key id (`publicKeyId`) is the first 16 hex characters of the sha256 of the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.platform.errors import ServiceError, ServiceUnavailable

if TYPE_CHECKING:
    from shared.platform.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEV_KEY_FILE = Path(".local") / "evidence-signing-key.pem"
KEY_ID_HEX_CHARS = 16


class InvalidKey(ValueError):
    """A PEM that is not a well-formed ed25519 key of the expected kind."""


def public_key_id(public_key: Any) -> str:
    """The key id: first 16 hex chars of sha256 over the raw 32-byte ed25519 public key."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_HEX_CHARS]


def public_key_pem(public_key: Any) -> str:
    """The SubjectPublicKeyInfo PEM of an ed25519 public key."""
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def load_public_key(pem: str | bytes) -> Any:
    """An Ed25519PublicKey from a PEM; InvalidKey for anything else (another algorithm, garbage, a private key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = pem.encode("utf-8", "replace") if isinstance(pem, str) else bytes(pem)
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InvalidKey("not a well-formed PEM public key") from exc
    except Exception as exc:  # cryptography raises its own UnsupportedAlgorithm for unknown key types
        raise InvalidKey(f"not a supported public key ({type(exc).__name__})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidKey(f"not an ed25519 public key ({type(key).__name__.removeprefix('_')})")
    return key


def load_private_key(pem: str | bytes) -> Any:
    """An Ed25519PrivateKey from an unencrypted PKCS#8 PEM; InvalidKey otherwise."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = pem.encode("utf-8", "replace") if isinstance(pem, str) else bytes(pem)
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InvalidKey("not a well-formed unencrypted PEM private key") from exc
    except Exception as exc:  # UnsupportedAlgorithm
        raise InvalidKey(f"not a supported private key ({type(exc).__name__})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidKey(f"not an ed25519 private key ({type(key).__name__.removeprefix('_')})")
    return key


def generate_private_key_pem() -> str:
    """A fresh ed25519 private key as unencrypted PKCS#8 PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return (
        Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode("ascii")
    )


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The key packs are signed with: its private half, public PEM and key id."""

    private_key: Any = field(repr=False)
    public_key_pem: str
    public_key_id: str

    def sign(self, data: bytes) -> bytes:
        """The 64-byte ed25519 signature of `data`."""
        return self.private_key.sign(data)

    def sign_b64(self, data: bytes) -> str:
        """The signature of `data`, standard base64 (what `signatureB64` carries)."""
        return base64.b64encode(self.sign(data)).decode("ascii")


@lru_cache(maxsize=4)
def signing_key_from_pem(pem: str) -> SigningKey:
    """A SigningKey from an unencrypted PKCS#8 ed25519 PEM (parsed once per process); InvalidKey otherwise."""
    private_key = load_private_key(pem)
    public_key = private_key.public_key()
    return SigningKey(private_key, public_key_pem(public_key), public_key_id(public_key))


def ensure_dev_signing_key(root: Path | None = None) -> Path:
    """The local dev key file under `<root>/.local/` (root: the project), created once (mode 0600); its path."""
    path = (root or PROJECT_ROOT) / DEV_KEY_FILE
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a private temp file, then linked into place: a concurrent creator (dev host and a test run)
    # never sees a half-written key, and the first complete key wins.
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(generate_private_key_pem())
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def _settings(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    from shared.platform.settings import get_settings

    return get_settings()


def signing_key(settings: Settings | None = None) -> SigningKey:
    """The configured signing key; locally the dev key; else ServiceUnavailable (503) saying it is not configured."""
    settings = _settings(settings)
    if settings.evidence_signing_key:
        try:
            return signing_key_from_pem(settings.evidence_signing_key)
        except InvalidKey as exc:
            raise ServiceUnavailable(
                f"Evidence signing is misconfigured: EVIDENCE_SIGNING_KEY is {exc}", code="evidence_signing_unavailable"
            ) from None
    if settings.is_local:
        return signing_key_from_pem(ensure_dev_signing_key().read_text(encoding="ascii"))
    raise ServiceUnavailable(
        "Evidence packs are not available: no signing key is configured (EVIDENCE_SIGNING_KEY)",
        code="evidence_signing_not_configured",
    )


def trusted_public_keys(settings: Settings | None = None) -> dict[str, str]:
    """Key id → public PEM of every key a pack may be signed with: the current one, then the retired ones.

    A retired key that does not parse is skipped here (settings already refused malformed PEM text).
    Without a usable current key only the retired keys are trusted, so old packs still verify.
    """
    settings = _settings(settings)
    trusted: dict[str, str] = {}
    try:
        current = signing_key(settings)
        trusted[current.public_key_id] = current.public_key_pem
    except (ServiceError, OSError):
        pass  # not configured or misconfigured: packs signed by retired keys still verify
    for pem in settings.evidence_retired_public_keys:
        try:
            key = load_public_key(pem)
        except InvalidKey:
            continue
        trusted.setdefault(public_key_id(key), public_key_pem(key))
    return trusted


def configuration_problem(settings: Settings | None = None) -> str | None:
    """Why evidence signing cannot work with these settings (for readiness checks), or None when it can."""
    settings = _settings(settings)
    for pem in settings.evidence_retired_public_keys:
        try:
            load_public_key(pem)
        except InvalidKey as exc:
            return f"EVIDENCE_RETIRED_PUBLIC_KEYS holds a key that is {exc}"
    if not settings.evidence_signing_key:
        return None if settings.is_local else "EVIDENCE_SIGNING_KEY is not configured"
    try:
        signing_key_from_pem(settings.evidence_signing_key)
    except InvalidKey as exc:
        return f"EVIDENCE_SIGNING_KEY is {exc}"
    return None
