"""The Cosmos transport: per-call environment lookups are skipped only where nothing there applies."""

from __future__ import annotations

import pytest

from shared.platform.store import clients

ENVIRONMENT_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ENVIRONMENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("verifies_tls", [True, False])
def test_without_proxy_or_ca_bundle_variables_the_transport_skips_the_environment(clean_environment, verifies_tls):
    transport = clients._cosmos_transport(verifies_tls=verifies_tls)
    transport.open()
    try:
        assert transport.session.trust_env is False
    finally:
        transport.close()


@pytest.mark.parametrize("name", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_variable_is_moot_when_tls_is_not_verified(clean_environment, name):
    clean_environment.setenv(name, "/etc/ssl/certs/ca-certificates.crt")
    assert clients._cosmos_transport(verifies_tls=False) is not None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTTPS_PROXY", "http://proxy.example:3128"),
        ("http_proxy", "http://proxy.example:3128"),
        ("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"),
        ("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"),
    ],
)
def test_a_proxy_or_ca_bundle_variable_keeps_the_default_transport(clean_environment, name, value):
    clean_environment.setenv(name, value)
    assert clients._cosmos_transport(verifies_tls=True) is None


@pytest.mark.parametrize("verifies_tls", [True, False])
def test_a_proxy_variable_always_keeps_the_default_transport(clean_environment, verifies_tls):
    clean_environment.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert clients._cosmos_transport(verifies_tls=verifies_tls) is None
