"""The storage-client factory's Cosmos transport: environment lookups skipped only when nothing there applies."""

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


def test_without_proxy_or_ca_bundle_variables_the_transport_skips_the_environment(clean_environment):
    transport = clients._cosmos_transport()
    transport.open()
    try:
        assert transport.session.trust_env is False
    finally:
        transport.close()


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
    assert clients._cosmos_transport() is None
