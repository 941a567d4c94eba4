"""The configuration check: CLERK_ISSUER outside local mode, and Key Vault references App Service could not resolve."""

from __future__ import annotations

import pytest

from shared.health import service as health
from shared.identity.tokens import verify_token
from shared.platform.errors import ServiceUnavailable
from shared.platform.settings import Settings

AZURE = {
    "app_env": "prod",
    "cosmos_endpoint": "https://cosmos.example.test:443/",
    "storage_blob_uri": "https://st.blob.core.windows.net/",
    "storage_queue_uri": "https://st.queue.core.windows.net/",
    "frontend_urls": ("https://app.example.test",),
    "clerk_jwks_url": "https://clerk.example.test/.well-known/jwks.json",
    "clerk_issuer": "https://clerk.example.test",
}


def test_a_complete_azure_configuration_passes() -> None:
    assert health.check_configuration(Settings(**AZURE)).ok


def test_an_empty_clerk_issuer_fails_readiness_outside_local_mode() -> None:
    result = health.check_configuration(Settings(**{**AZURE, "clerk_issuer": ""}))

    assert (result.ok, result.status) == (False, "misconfigured")
    assert "CLERK_ISSUER is not set" in result.message


def test_missing_signing_keys_fail_readiness_outside_local_mode() -> None:
    result = health.check_configuration(Settings(**{**AZURE, "clerk_jwks_url": ""}))

    assert "CLERK_JWKS_URL" in result.message


@pytest.mark.parametrize("app_env", ["local", "test"])
def test_local_mode_keeps_the_dev_issuer_optional(app_env: str) -> None:
    settings = Settings(**{**AZURE, "app_env": app_env, "clerk_issuer": "", "frontend_urls": ("http://localhost",)})

    assert settings.control_plane_auth_problem is None
    assert health.check_configuration(settings).ok


def test_control_plane_tokens_are_refused_with_503_while_the_issuer_is_missing() -> None:
    with pytest.raises(ServiceUnavailable) as refused:
        verify_token("a.b.c", Settings(**{**AZURE, "clerk_issuer": ""}))

    assert refused.value.status == 503
    assert refused.value.code == "auth_not_configured"
    assert "CLERK_ISSUER" in refused.value.message


def test_an_unresolved_key_vault_reference_is_named_without_its_value() -> None:
    reference = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/smtp-password/)"

    result = health.check_configuration(Settings(**AZURE, smtp_password=reference))

    assert not result.ok
    assert "SMTP_PASSWORD" in result.message
    assert "vault.azure.net" not in result.message
