"""The one typed, frozen Settings object, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache

APP_NAME = "Tellgence API"
APP_VERSION = "1.0.0"
# operability: what an app setting holds when App Service could not resolve its Key Vault reference.
KEY_VAULT_REFERENCE_PREFIX = "@Microsoft.KeyVault("


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

    health_check_timeout_seconds: float = 2.0
    max_body_bytes: int = 1024 * 1024
    csrf_cookie_name: str = "csrf_token"

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
            health_check_timeout_seconds=_float(get("HEALTH_CHECK_TIMEOUT_SECONDS"), 2.0),
            max_body_bytes=_int(get("MAX_BODY_BYTES"), 1024 * 1024),
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
