"""Integration unit tests: loopback fakes allowed, a fixed test keyring, short timeouts, no cached tokens."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

KEY_1 = base64.b64encode(bytes(range(32))).decode()
KEY_2 = base64.b64encode(bytes(range(32, 64))).decode()
TEST_KEYS = f"k1:{KEY_1}"


def _reset() -> None:
    from shared.integrations.clients import oauth
    from shared.platform import outbound
    from shared.platform.settings import reload_settings

    reload_settings()
    outbound.reset()
    oauth.clear_tokens()


@pytest.fixture(autouse=True)
def integration_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Test mode with loopback fakes allowed; tests may set more variables and call reload()."""
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("OUTBOUND_ALLOW_LOOPBACK", "true")
    monkeypatch.setenv("CONNECTOR_ENCRYPTION_KEYS", TEST_KEYS)
    monkeypatch.setenv("CONNECTOR_TIMEOUT_SECONDS", "2")
    _reset()
    yield monkeypatch
    monkeypatch.undo()
    _reset()


def reload() -> None:
    """Re-read settings after a test changed the environment."""
    _reset()
