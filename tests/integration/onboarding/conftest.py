"""Fixtures for onboarding tests: loopback destinations allowed, a webhook receiver that checks our signature."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import reset_clients
from tests.support.onboarding import SignedReceiver


@pytest.fixture
def loopback(settings_env):
    """Destinations may be loopback fakes in this test (OUTBOUND_ALLOW_LOOPBACK)."""
    settings_env.setenv("OUTBOUND_ALLOW_LOOPBACK", "true")
    reset_clients()
    return settings_env


@pytest.fixture
def receiver(httpserver: HTTPServer, loopback) -> SignedReceiver:
    """A signature-checking webhook receiver on loopback."""
    return SignedReceiver(httpserver)
