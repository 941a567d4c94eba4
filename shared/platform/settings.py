"""The one typed, frozen Settings object, read once from the environment."""

from __future__ import annotations

import base64
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from urllib.parse import urlsplit

APP_NAME = "Tellgence API"
APP_VERSION = "1.0.0"
# operability: what an app setting holds when App Service could not resolve its Key Vault reference.
KEY_VAULT_REFERENCE_PREFIX = "@Microsoft.KeyVault("


class SettingsError(ValueError):
    """A setting is present but malformed; the message names the setting, never its value."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(name: str, value: str | None, default: bool = False) -> bool:
    if value is None or value.strip() == "":
        return default
    text = value.strip().lower()
    if text not in _TRUE | _FALSE:
        raise SettingsError(f"{name} must be true or false")
    return text in _TRUE


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip().rstrip("/") for part in (value or "").split(",") if part.strip())


def _float(name: str, value: str | None, default: float, *, minimum: float = 0.0, maximum: float = math.inf) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number") from None
    if not math.isfinite(number) or not minimum <= number <= maximum:
        bound = f" and at most {maximum:g}" if math.isfinite(maximum) else ""
        raise SettingsError(f"{name} must be a number of at least {minimum:g}{bound}")
    return number


def _int(name: str, value: str | None, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    if not (text.isascii() and text.lstrip("-").isdigit()):
        raise SettingsError(f"{name} must be a whole number")
    number = int(text)
    if number < minimum or (maximum is not None and number > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise SettingsError(f"{name} must be a whole number of at least {minimum}{bound}")
    return number


def _choice(name: str, value: str | None, allowed: tuple[str, ...], default: str) -> str:
    """A value from a closed list (case-insensitive); empty means the default."""
    text = (value or "").strip().lower()
    if not text:
        return default
    if text not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}")
    return text


def _secret(name: str, value: str | None, *, min_length: int) -> str:
    """A key of at least `min_length` characters, or empty (not configured)."""
    key = (value or "").strip()
    if key and len(key) < min_length:
        raise SettingsError(f"{name} must be at least {min_length} characters long")
    return key


def _url(name: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http(s) URL")
    return text.rstrip("/")


def _rate_limits(value: str | None) -> tuple[tuple[str, int, int], ...]:
    """`createLead=10/60,submitFeedback=30/60` → ((operation, limit, window seconds), ...)."""
    limits = []
    for entry in _csv(value):
        name, _, rule = entry.partition("=")
        count, _, window = rule.partition("/")
        if not (name.strip() and count.strip().isdigit() and window.strip().isdigit() and int(window) > 0):
            raise SettingsError("RATE_LIMITS entries must look like operation=limit/windowSeconds")
        limits.append((name.strip(), int(count), int(window)))
    return tuple(limits)


REALTIME_SESSION_TIERS = ("standard", "professional", "premium")
REALTIME_REASONING_EFFORTS = ("minimal", "low", "medium", "high")


# integrations: connector secrets at rest and connector call bounds (strict: a malformed value names its setting)
CONNECTOR_KEY_BYTES = 32
_KEY_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def parse_connector_keys(value: str | None) -> tuple[tuple[str, bytes], ...]:
    """`kid:base64key,...` → ((kid, 32-byte key), ...), the first current; ValueError naming the setting otherwise."""
    import base64
    import binascii

    name = "CONNECTOR_ENCRYPTION_KEYS"
    text = (value or "").strip()
    if not text:
        return ()
    if text.startswith("@Microsoft.KeyVault("):
        # App Service leaves the literal reference in place when it cannot resolve it.
        raise SettingsError(f"{name} is an unresolved Key Vault reference (check the app's access to the vault)")
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(text.split(","), start=1):
        kid, sep, encoded = entry.strip().partition(":")
        if not sep or not kid or not encoded:
            raise SettingsError(f"{name} entry {position} must be kid:base64key")
        if len(kid) > 64 or not set(kid) <= _KEY_ID_CHARS:
            raise SettingsError(f"{name} entry {position} has a key id outside [A-Za-z0-9._-]{{1,64}}")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SettingsError(f"{name} entry {position} ({kid}) is not valid base64") from exc
        if len(key) != CONNECTOR_KEY_BYTES:
            raise SettingsError(f"{name} entry {position} ({kid}) must decode to {CONNECTOR_KEY_BYTES} bytes (AES-256)")
        if any(existing == kid for existing, _ in keys):
            raise SettingsError(f"{name} repeats the key id {kid}")
        keys.append((kid, key))
    return tuple(keys)


def _connector_keys(value: str | None) -> str:
    parse_connector_keys(value)  # validated here so a bad value fails at startup, not at the first secret
    return (value or "").strip()


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
        raise SettingsError(f"{name} is an unresolved Key Vault reference; grant the app access to the secret")
    matches = list(_PEM_BLOCK.finditer(text))
    if not matches or _PEM_BLOCK.sub("", text).strip():
        raise SettingsError(f"{name} must hold only -----BEGIN {label}----- PEM blocks")
    blocks = []
    for match in matches:
        if match.group(1) != label:
            raise SettingsError(f"{name} holds a {match.group(1)} where an unencrypted {label} is expected")
        body = "".join(match.group(2).split())
        try:
            der = base64.b64decode(body, validate=True)
        except ValueError:
            raise SettingsError(f"{name} has a PEM block whose body is not base64") from None
        if _ED25519_OID_DER not in der:
            raise SettingsError(f"{name} holds a {label} that is not an ed25519 key")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        blocks.append("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]))
    return blocks


def _evidence_signing_key(name: str, value: str | None) -> str:
    """One unencrypted PKCS#8 ed25519 private key PEM, or "" when unset."""
    if not (value or "").strip():
        return ""
    blocks = _pem_blocks(name, value or "", "PRIVATE KEY")
    if len(blocks) != 1:
        raise SettingsError(f"{name} must hold exactly one private key")
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
            raise SettingsError(f"{name} starts with '[' but is not a JSON list") from None
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise SettingsError(f"{name} must be a JSON list of PEM strings")
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
    # platform: the default of the tool-execution persistence flag, how long a process trusts its copy of
    # the feature flags, and where critical support tickets are announced.
    tool_execution_persistence: bool = False
    feature_flag_cache_seconds: float = 5.0
    support_notify_email: str = ""
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
    leads_notify_email: str = ""
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
    evidence_signing_key: str = field(default="", repr=False, metadata={"env": "EVIDENCE_SIGNING_KEY"})
    evidence_retired_public_keys: tuple[str, ...] = ()

    health_check_timeout_seconds: float = 2.0
    max_body_bytes: int = 1024 * 1024
    # Proxies whose X-Forwarded-For entries are trusted; Azure's front end is one and appends the caller.
    trusted_proxy_hops: int = 1

    # realtime: the session tier reported with credentials, the reasoning effort sent to reasoning-capable
    # deployments (empty: none is sent), the client secret's lifetime and the provider call's timeout.
    realtime_session_tier: str = "standard"
    realtime_reasoning_effort: str = ""
    realtime_credential_ttl_seconds: int = 600
    realtime_provider_timeout_seconds: float = 10.0

    # pilots
    attestation_signing_key: str = field(default="", repr=False)
    attestation_signing_key_previous: str = field(default="", repr=False)
    attestation_token_ttl_days: int = 14

    # integrations
    connector_encryption_keys: str = field(default="", repr=False, metadata={"env": "CONNECTOR_ENCRYPTION_KEYS"})
    connector_timeout_seconds: float = 5.0
    # integration retries: attempts per retry request and the first back-off delay (doubled per attempt)
    integration_retry_max_attempts: int = 5
    integration_retry_base_delay_seconds: int = 30

    # tool execution: attempts of one execution on retryable failures, the first back-off delay (doubled per
    # attempt), the time budget of all attempts, and how long journal items are kept while persistence is on
    tool_retry_max_attempts: int = 3
    tool_retry_base_delay_seconds: float = 0.2
    tool_execution_deadline_seconds: float = 10.0
    tool_journal_retention_days: int = 90

    # telephony: the shared secret of X-Telephony-Signature, and the inbound number directory
    # ("+E164=tenantId[/scenarioSlug],...")
    telephony_webhook_secret: str = field(default="", repr=False)
    telephony_inbound_numbers: str = ""

    # operability
    applicationinsights_connection_string: str = ""
    applicationinsights_authentication_string: str = ""

    @property
    def is_local(self) -> bool:
        """True for the developer's machine and the test suite, never in Azure."""
        return self.app_env in {"local", "test"}

    @property
    def azure_openai_configured(self) -> bool:
        """Whether realtime credentials can be minted at all."""
        return bool(self.azure_openai_endpoint)

    # operability
    @property
    def telemetry_enabled(self) -> bool:
        """Whether traces are exported: only where Application Insights is configured."""
        return bool(self.applicationinsights_connection_string)

    @property
    def control_plane_auth_problem(self) -> str | None:
        """Why control-plane sign-in must be refused outside local mode, or None when it can work."""
        if self.is_local:
            return None
        if not self.clerk_issuer:
            # An empty issuer would otherwise skip the iss check: any Clerk instance's tokens would pass.
            return "CLERK_ISSUER is not set: control-plane sign-in is refused until it names the Clerk issuer"
        if not (self.clerk_jwt_key or self.clerk_jwks_url):
            return "Neither CLERK_JWKS_URL nor CLERK_JWT_KEY is set: control-plane tokens cannot be verified"
        return None

    def unresolved_key_vault_references(self) -> tuple[str, ...]:
        """Fields still holding a literal `@Microsoft.KeyVault(...)`: the platform could not resolve the secret."""
        return tuple(
            f.name
            for f in fields(self)
            if isinstance(value := getattr(self, f.name), str) and value.lstrip().startswith(KEY_VAULT_REFERENCE_PREFIX)
        )

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
            cosmos_endpoint=_url("COSMOS_ENDPOINT", get("COSMOS_ENDPOINT")),
            cosmos_key=get("COSMOS_KEY") or "",
            cosmos_database=get("COSMOS_DATABASE") or "tellgence",
            storage_connection_string=get("AzureWebJobsStorage") or "",
            storage_blob_uri=get("AzureWebJobsStorage__blobServiceUri") or "",
            storage_queue_uri=get("AzureWebJobsStorage__queueServiceUri") or "",
            frontend_urls=_csv(get("FRONTEND_URLS")),
            api_public_base_url=get("API_PUBLIC_BASE_URL") or "",
            web_public_base_url=get("WEB_PUBLIC_BASE_URL") or "",
            azure_openai_endpoint=_url("AZURE_OPENAI_ENDPOINT", get("AZURE_OPENAI_ENDPOINT")),
            azure_openai_api_key=get("AZURE_OPENAI_API_KEY") or "",
            azure_openai_deployment_realtime=get("AZURE_OPENAI_DEPLOYMENT_REALTIME") or "gpt-realtime",
            azure_openai_transcription_model=get("AZURE_OPENAI_TRANSCRIPTION_MODEL") or "gpt-4o-transcribe",
            temporal_enabled=_flag("TEMPORAL_ENABLED", get("TEMPORAL_ENABLED")),
            booking_temporal_orchestration=_flag(
                "FEATURE_BOOKING_TEMPORAL_ORCHESTRATION", get("FEATURE_BOOKING_TEMPORAL_ORCHESTRATION")
            ),
            tool_execution_persistence=_flag(
                "FEATURE_TOOL_EXECUTION_PERSISTENCE", get("FEATURE_TOOL_EXECUTION_PERSISTENCE")
            ),
            feature_flag_cache_seconds=_float(
                "FEATURE_FLAG_CACHE_SECONDS", get("FEATURE_FLAG_CACHE_SECONDS"), 5.0, maximum=300.0
            ),
            support_notify_email=(get("SUPPORT_NOTIFY_EMAIL") or "").strip(),
            internal_workflow_callback_secret=get("INTERNAL_WORKFLOW_CALLBACK_SECRET") or "",
            clerk_jwt_key=get("CLERK_JWT_KEY") or "",
            clerk_jwks_url=_url("CLERK_JWKS_URL", get("CLERK_JWKS_URL")),
            clerk_issuer=(get("CLERK_ISSUER") or "").strip(),
            clerk_webhook_signing_secret=get("CLERK_WEBHOOK_SIGNING_SECRET") or "",
            super_admin_user_ids=frozenset(_csv(get("SUPER_ADMIN_USER_IDS"))),
            api_key_for_realtime=get("API_KEY_FOR_REALTIME") or "",
            rate_limits=_rate_limits(get("RATE_LIMITS")),
            outbound_allow_loopback=_flag("OUTBOUND_ALLOW_LOOPBACK", get("OUTBOUND_ALLOW_LOOPBACK")),
            session_ttl_seconds=_int("SESSION_TTL_SECONDS", get("SESSION_TTL_SECONDS"), 7 * 24 * 60 * 60, minimum=60),
            email_provider=(get("EMAIL_PROVIDER") or "").strip().lower(),
            email_from=get("EMAIL_FROM") or "",
            leads_notify_email=(get("LEADS_NOTIFY_EMAIL") or "").strip(),
            smtp_host=get("SMTP_HOST") or "",
            smtp_port=_int("SMTP_PORT", get("SMTP_PORT"), 587, minimum=1),
            smtp_username=get("SMTP_USERNAME") or "",
            smtp_password=get("SMTP_PASSWORD") or "",
            smtp_starttls=_flag("SMTP_STARTTLS", get("SMTP_STARTTLS"), default=True),
            acs_email_endpoint=_url("ACS_EMAIL_ENDPOINT", get("ACS_EMAIL_ENDPOINT")),
            acs_email_connection_string=get("ACS_EMAIL_CONNECTION_STRING") or "",
            realtime_price_table=get("REALTIME_PRICE_TABLE") or "",
            health_check_timeout_seconds=_float(
                "HEALTH_CHECK_TIMEOUT_SECONDS", get("HEALTH_CHECK_TIMEOUT_SECONDS"), 2.0, minimum=0.1
            ),
            max_body_bytes=_int("MAX_BODY_BYTES", get("MAX_BODY_BYTES"), 1024 * 1024, minimum=1024),
            trusted_proxy_hops=_int("TRUSTED_PROXY_HOPS", get("TRUSTED_PROXY_HOPS"), 1),
            # realtime
            realtime_session_tier=_choice(
                "REALTIME_SESSION_TIER", get("REALTIME_SESSION_TIER"), REALTIME_SESSION_TIERS, "standard"
            ),
            realtime_reasoning_effort=_choice(
                "REALTIME_REASONING_EFFORT", get("REALTIME_REASONING_EFFORT"), REALTIME_REASONING_EFFORTS, ""
            ),
            realtime_credential_ttl_seconds=_int(
                "REALTIME_CREDENTIAL_TTL_SECONDS", get("REALTIME_CREDENTIAL_TTL_SECONDS"), 600, minimum=10, maximum=7200
            ),
            realtime_provider_timeout_seconds=_float(
                "REALTIME_PROVIDER_TIMEOUT_SECONDS",
                get("REALTIME_PROVIDER_TIMEOUT_SECONDS"),
                10.0,
                minimum=0.1,
                maximum=60.0,
            ),
            # pilots
            attestation_signing_key=_secret("ATTESTATION_SIGNING_KEY", get("ATTESTATION_SIGNING_KEY"), min_length=32),
            attestation_signing_key_previous=_secret(
                "ATTESTATION_SIGNING_KEY_PREVIOUS", get("ATTESTATION_SIGNING_KEY_PREVIOUS"), min_length=32
            ),
            attestation_token_ttl_days=_int(
                "ATTESTATION_TOKEN_TTL_DAYS", get("ATTESTATION_TOKEN_TTL_DAYS"), 14, minimum=1, maximum=90
            ),
            # integrations
            connector_encryption_keys=_connector_keys(get("CONNECTOR_ENCRYPTION_KEYS")),
            connector_timeout_seconds=_float(
                "CONNECTOR_TIMEOUT_SECONDS", get("CONNECTOR_TIMEOUT_SECONDS"), 5.0, minimum=0.1, maximum=30.0
            ),
            integration_retry_max_attempts=_int(
                "INTEGRATION_RETRY_MAX_ATTEMPTS", get("INTEGRATION_RETRY_MAX_ATTEMPTS"), 5, minimum=1, maximum=20
            ),
            integration_retry_base_delay_seconds=_int(
                "INTEGRATION_RETRY_BASE_DELAY_SECONDS",
                get("INTEGRATION_RETRY_BASE_DELAY_SECONDS"),
                30,
                minimum=0,
                maximum=3600,
            ),
            # tool execution
            tool_retry_max_attempts=_int(
                "TOOL_RETRY_MAX_ATTEMPTS", get("TOOL_RETRY_MAX_ATTEMPTS"), 3, minimum=1, maximum=10
            ),
            tool_retry_base_delay_seconds=_float(
                "TOOL_RETRY_BASE_DELAY_SECONDS", get("TOOL_RETRY_BASE_DELAY_SECONDS"), 0.2, maximum=5.0
            ),
            tool_execution_deadline_seconds=_float(
                "TOOL_EXECUTION_DEADLINE_SECONDS",
                get("TOOL_EXECUTION_DEADLINE_SECONDS"),
                10.0,
                minimum=0.5,
                maximum=60.0,
            ),
            tool_journal_retention_days=_int(
                "TOOL_JOURNAL_RETENTION_DAYS", get("TOOL_JOURNAL_RETENTION_DAYS"), 90, minimum=1, maximum=3650
            ),
            # telephony
            telephony_webhook_secret=_secret(
                "TELEPHONY_WEBHOOK_SECRET", get("TELEPHONY_WEBHOOK_SECRET"), min_length=16
            ),
            telephony_inbound_numbers=(get("TELEPHONY_INBOUND_NUMBERS") or "").strip(),
            # evidence packs
            evidence_signing_key=_evidence_signing_key("EVIDENCE_SIGNING_KEY", get("EVIDENCE_SIGNING_KEY")),
            evidence_retired_public_keys=_evidence_public_keys(
                "EVIDENCE_RETIRED_PUBLIC_KEYS", get("EVIDENCE_RETIRED_PUBLIC_KEYS")
            ),
            # operability
            applicationinsights_connection_string=(get("APPLICATIONINSIGHTS_CONNECTION_STRING") or "").strip(),
            applicationinsights_authentication_string=(get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING") or "").strip(),
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
