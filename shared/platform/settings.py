"""The one typed, frozen Settings object, read once from the environment."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache

APP_NAME = "Tellgence API"
APP_VERSION = "1.0.0"


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip().rstrip("/") for part in (value or "").split(",") if part.strip())


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _rate_limits(value: str | None) -> tuple[tuple[str, int, int], ...]:
    """`createLead=10/60,submitFeedback=30/60` → ((operation, limit, window seconds), ...)."""
    limits = []
    for entry in _csv(value):
        name, _, rule = entry.partition("=")
        count, _, window = rule.partition("/")
        if name.strip() and count.strip().isdigit() and window.strip().isdigit():
            limits.append((name.strip(), int(count), int(window)))
    return tuple(limits)


# evidence packs: strict PEM parsing without importing cryptography (start-up stays light; keys.py parses fully)
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
# DER of the ed25519 algorithm identifier (OID 1.3.101.112): present in its PKCS#8 and SubjectPublicKeyInfo forms.
_ED25519_OID_DER = bytes.fromhex("06032b6570")


def _pem_blocks(name: str, value: str, label: str) -> list[str]:
    """The ed25519 PEM blocks of `label` in a setting, normalised; ValueError naming the setting on anything else."""
    text = value.strip()
    # A one-line app setting may carry literal "\n" escapes; Key Vault references keep real newlines.
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    if text.startswith("@Microsoft.KeyVault"):
        raise ValueError(f"{name} is an unresolved Key Vault reference; grant the app access to the secret")
    matches = list(_PEM_BLOCK.finditer(text))
    if not matches or _PEM_BLOCK.sub("", text).strip():
        raise ValueError(f"{name} must hold only -----BEGIN {label}----- PEM blocks")
    blocks = []
    for match in matches:
        if match.group(1) != label:
            raise ValueError(f"{name} holds a {match.group(1)} where an unencrypted {label} is expected")
        body = "".join(match.group(2).split())
        try:
            der = base64.b64decode(body, validate=True)
        except ValueError:
            raise ValueError(f"{name} has a PEM block whose body is not base64") from None
        if _ED25519_OID_DER not in der:
            raise ValueError(f"{name} holds a {label} that is not an ed25519 key")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        blocks.append("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]))
    return blocks


def _evidence_signing_key(name: str, value: str | None) -> str:
    """One unencrypted PKCS#8 ed25519 private key PEM, or "" when unset."""
    if not (value or "").strip():
        return ""
    blocks = _pem_blocks(name, value or "", "PRIVATE KEY")
    if len(blocks) != 1:
        raise ValueError(f"{name} must hold exactly one private key")
    return blocks[0]


def _evidence_public_keys(name: str, value: str | None) -> tuple[str, ...]:
    """ed25519 public key PEMs, given as concatenated PEM blocks or as a JSON list of PEM strings."""
    text = (value or "").strip()
    if not text:
        return ()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            raise ValueError(f"{name} starts with '[' but is not a JSON list") from None
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValueError(f"{name} must be a JSON list of PEM strings")
    else:
        items = [text]
    keys: list[str] = []
    for item in items:
        keys.extend(pem for pem in _pem_blocks(name, item, "PUBLIC KEY") if pem not in keys)
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting the app reads; secrets are marked so they never reach a log or a response."""

    app_env: str = "local"
    version: str = APP_VERSION
    build_id: str = "local"
    deployment_time: str = ""
    commit: str = ""

    cosmos_endpoint: str = ""
    cosmos_key: str = field(default="", repr=False)
    cosmos_database: str = "tellgence"

    storage_connection_string: str = field(default="", repr=False)
    storage_blob_uri: str = ""
    storage_queue_uri: str = ""

    frontend_urls: tuple[str, ...] = ()
    api_public_base_url: str = ""
    web_public_base_url: str = ""

    azure_openai_endpoint: str = ""
    azure_openai_api_key: str = field(default="", repr=False)
    azure_openai_deployment_realtime: str = "gpt-realtime"
    azure_openai_transcription_model: str = "gpt-4o-transcribe"

    temporal_enabled: bool = False
    booking_temporal_orchestration: bool = False
    internal_workflow_callback_secret: str = field(default="", repr=False)

    clerk_jwt_key: str = ""
    clerk_jwks_url: str = ""
    clerk_issuer: str = ""
    clerk_webhook_signing_secret: str = field(default="", repr=False)
    super_admin_user_ids: frozenset[str] = frozenset()
    api_key_for_realtime: str = field(default="", repr=False)
    rate_limits: tuple[tuple[str, int, int], ...] = ()
    outbound_allow_loopback: bool = False
    session_ttl_seconds: int = 7 * 24 * 60 * 60

    email_provider: str = ""
    email_from: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    acs_email_endpoint: str = ""
    acs_email_connection_string: str = field(default="", repr=False)
    realtime_price_table: str = ""

    # evidence packs: the ed25519 signing key (PKCS#8 PEM, a Key Vault reference in Azure) and the public keys
    # of retired signing keys, still trusted so packs signed before a rotation keep verifying.
    evidence_signing_key: str = field(default="", repr=False)
    evidence_retired_public_keys: tuple[str, ...] = ()

    health_check_timeout_seconds: float = 2.0
    max_body_bytes: int = 1024 * 1024
    csrf_cookie_name: str = "csrf_token"

    @property
    def is_local(self) -> bool:
        """True for the developer's machine and the test suite, never in Azure."""
        return self.app_env in {"local", "test"}

    @property
    def azure_openai_configured(self) -> bool:
        """Whether realtime credentials can be minted at all."""
        return bool(self.azure_openai_endpoint)

    def rate_limit_for(self, operation: str) -> tuple[int, int] | None:
        """An override of one operation's (limit, window seconds), when configured."""
        for name, limit, window in self.rate_limits:
            if name == operation:
                return limit, window
        return None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping (os.environ in the app)."""
        get = env.get
        return cls(
            app_env=(get("APP_ENV") or "local").strip().lower(),
            version=get("APP_VERSION") or APP_VERSION,
            build_id=get("BUILD_ID") or "local",
            deployment_time=get("DEPLOYMENT_TIME") or "",
            commit=get("GIT_COMMIT") or get("BUILD_SOURCEVERSION") or "",
            cosmos_endpoint=get("COSMOS_ENDPOINT") or "",
            cosmos_key=get("COSMOS_KEY") or "",
            cosmos_database=get("COSMOS_DATABASE") or "tellgence",
            storage_connection_string=get("AzureWebJobsStorage") or "",
            storage_blob_uri=get("AzureWebJobsStorage__blobServiceUri") or "",
            storage_queue_uri=get("AzureWebJobsStorage__queueServiceUri") or "",
            frontend_urls=_csv(get("FRONTEND_URLS")),
            api_public_base_url=get("API_PUBLIC_BASE_URL") or "",
            web_public_base_url=get("WEB_PUBLIC_BASE_URL") or "",
            azure_openai_endpoint=get("AZURE_OPENAI_ENDPOINT") or "",
            azure_openai_api_key=get("AZURE_OPENAI_API_KEY") or "",
            azure_openai_deployment_realtime=get("AZURE_OPENAI_DEPLOYMENT_REALTIME") or "gpt-realtime",
            azure_openai_transcription_model=get("AZURE_OPENAI_TRANSCRIPTION_MODEL") or "gpt-4o-transcribe",
            temporal_enabled=_flag(get("TEMPORAL_ENABLED")),
            booking_temporal_orchestration=_flag(get("FEATURE_BOOKING_TEMPORAL_ORCHESTRATION")),
            internal_workflow_callback_secret=get("INTERNAL_WORKFLOW_CALLBACK_SECRET") or "",
            clerk_jwt_key=get("CLERK_JWT_KEY") or "",
            clerk_jwks_url=get("CLERK_JWKS_URL") or "",
            clerk_issuer=(get("CLERK_ISSUER") or "").strip(),
            clerk_webhook_signing_secret=get("CLERK_WEBHOOK_SIGNING_SECRET") or "",
            super_admin_user_ids=frozenset(_csv(get("SUPER_ADMIN_USER_IDS"))),
            api_key_for_realtime=get("API_KEY_FOR_REALTIME") or "",
            rate_limits=_rate_limits(get("RATE_LIMITS")),
            outbound_allow_loopback=_flag(get("OUTBOUND_ALLOW_LOOPBACK")),
            session_ttl_seconds=_int(get("SESSION_TTL_SECONDS"), 7 * 24 * 60 * 60),
            email_provider=(get("EMAIL_PROVIDER") or "").strip().lower(),
            email_from=get("EMAIL_FROM") or "",
            smtp_host=get("SMTP_HOST") or "",
            smtp_port=_int(get("SMTP_PORT"), 587),
            smtp_username=get("SMTP_USERNAME") or "",
            smtp_password=get("SMTP_PASSWORD") or "",
            smtp_starttls=_flag(get("SMTP_STARTTLS"), default=True),
            acs_email_endpoint=get("ACS_EMAIL_ENDPOINT") or "",
            acs_email_connection_string=get("ACS_EMAIL_CONNECTION_STRING") or "",
            realtime_price_table=get("REALTIME_PRICE_TABLE") or "",
            # evidence packs
            evidence_signing_key=_evidence_signing_key("EVIDENCE_SIGNING_KEY", get("EVIDENCE_SIGNING_KEY")),
            evidence_retired_public_keys=_evidence_public_keys(
                "EVIDENCE_RETIRED_PUBLIC_KEYS", get("EVIDENCE_RETIRED_PUBLIC_KEYS")
            ),
            health_check_timeout_seconds=_float(get("HEALTH_CHECK_TIMEOUT_SECONDS"), 2.0),
            max_body_bytes=_int(get("MAX_BODY_BYTES"), 1024 * 1024),
        )

    def secret_values(self) -> tuple[str, ...]:
        """The values that must never appear in a log line or a response body."""
        return tuple(
            value for f in fields(self) if not f.repr and isinstance(value := getattr(self, f.name), str) and value
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env(os.environ)


def reload_settings() -> Settings:
    """Forget the cached settings (tests and the dev host change the environment)."""
    get_settings.cache_clear()
    return get_settings()
