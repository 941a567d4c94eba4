"""Fixtures several integration folders share: loopback access, provider and SMTP fakes, a scripted clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

from devhost.emulators import free_ports
from tests.conftest import reset_clients
from tests.support.clock import FakeClock
from tests.support.onboarding import SignedReceiver
from tests.support.smtp import Inbox


@pytest.fixture
def loopback(settings_env):
    """Connectors and destinations may reach loopback fakes in this test (OUTBOUND_ALLOW_LOOPBACK)."""
    settings_env.setenv("OUTBOUND_ALLOW_LOOPBACK", "true")
    reset_clients()
    return settings_env


@pytest.fixture
def provider_server() -> Iterator[HTTPServer]:
    """A loopback provider of this test alone, so the test can stop it."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def receiver(httpserver: HTTPServer, loopback) -> SignedReceiver:
    """A signature-checking webhook receiver on loopback."""
    return SignedReceiver(httpserver)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """A clock the test moves; the real one is back after the test."""
    from shared.platform import clock

    fake = FakeClock(clock.utc_now())
    monkeypatch.setattr(clock, "utc_now", fake)
    yield fake


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Inbox]]:
    """A loopback SMTP server of this test alone, and the inbox of what it accepted."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_ports(1)[0])
    controller.start()
    yield controller, inbox
    controller.stop()
