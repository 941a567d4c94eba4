"""Fixtures for the Sessions CP desk: loopback fakes allowed, a provider fake each test may stop."""

from __future__ import annotations

from tests.integration.integrations.conftest import loopback, provider_server

__all__ = ["loopback", "provider_server"]
