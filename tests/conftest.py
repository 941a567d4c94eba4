"""Test fixtures: emulators once per run, a database per run, the dev host and the contract client.

Unit tests request none of these and run without emulators.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The suite never reads a developer's local.settings.json: every setting it relies on is here.
TEST_ENVIRONMENT = {
    "APP_ENV": "test",
    "APP_VERSION": "1.0.0",
    "BUILD_ID": "test-build",
    "FRONTEND_URLS": "http://localhost:3000",
    "API_PUBLIC_BASE_URL": "http://127.0.0.1:7071",
    "WEB_PUBLIC_BASE_URL": "http://localhost:3000",
    "HEALTH_CHECK_TIMEOUT_SECONDS": "2",
    "AZURE_OPENAI_ENDPOINT": "",
    "AZURE_OPENAI_API_KEY": "",
    "CLERK_ISSUER": "https://clerk.tellgence.test",
    "CLERK_JWKS_URL": "",
    "CLERK_WEBHOOK_SIGNING_SECRET": "whsec_" + "dGVsbGdlbmNlLXRlc3Qtc2lnbmluZy1zZWNyZXQ=",
    "SUPER_ADMIN_USER_IDS": "user_platform_root",
    "API_KEY_FOR_REALTIME": "",
    "INTERNAL_WORKFLOW_CALLBACK_SECRET": "",
    "RATE_LIMITS": "",
    "EMAIL_PROVIDER": "outbox",
    "EMAIL_FROM": "Tellgence Demo <demo@tellgence.test>",
    "LEADS_NOTIFY_EMAIL": "sales@tellgence.test",
    "SESSION_TTL_SECONDS": "604800",
    "OUTBOUND_ALLOW_LOOPBACK": "false",
    "SUPPORT_NOTIFY_EMAIL": "platform-support@tellgence.test",
    "FEATURE_BOOKING_TEMPORAL_ORCHESTRATION": "false",
    "FEATURE_TOOL_EXECUTION_PERSISTENCE": "false",
    "FEATURE_FLAG_CACHE_SECONDS": "5",
    # A fixed test key (32 bytes of 0x01..0x20): connector secrets are sealed in every test that stores them.
    "CONNECTOR_ENCRYPTION_KEYS": "test-key:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
    "CONNECTOR_TIMEOUT_SECONDS": "2",
    # Integration retries back off without waiting in tests (one test sets a real delay).
    "INTEGRATION_RETRY_BASE_DELAY_SECONDS": "0",
    "INTEGRATION_RETRY_MAX_ATTEMPTS": "3",
    # Tool retries back off briefly in tests; telephony events are signed with a fixed test secret and
    # one inbound number belongs to the telephony tests' tenant.
    "TOOL_RETRY_BASE_DELAY_SECONDS": "0.01",
    "TOOL_RETRY_MAX_ATTEMPTS": "3",
    "TELEPHONY_WEBHOOK_SECRET": "telephony-test-secret-0123456789",
    "TELEPHONY_INBOUND_NUMBERS": "+15550009999=tel-inbound/insurance-fnol",
    # The run's own evidence signing key is set by the emulators fixture (never the developer's .local key).
    "EVIDENCE_SIGNING_KEY": "",
    "EVIDENCE_RETIRED_PUBLIC_KEYS": "",
}
SUPER_ADMIN_USER_ID = "user_platform_root"


def reset_clients() -> None:
    """Forget cached settings, every client built from them and every per-process cache."""
    from shared.platform.lifecycle import reset_process_state

    reset_process_state()


@pytest.fixture(scope="session")
def signing_key() -> object:
    """The RSA key test tokens are signed with; its public half is CLERK_JWT_KEY for the run."""
    from devhost.tokens import generate_private_key

    return generate_private_key()


@functools.cache
def evidence_signing_key_pem() -> str:
    """The ed25519 key evidence packs are signed with in this run (EVIDENCE_SIGNING_KEY)."""
    from shared.evidence.keys import generate_private_key_pem

    return generate_private_key_pem()


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory, signing_key: object) -> Iterator[object]:
    """Azurite and cosmosdb-server on free loopback ports, with a fresh database for this run."""
    from devhost.emulators import Emulators
    from devhost.provision import provision
    from devhost.tokens import public_pem
    from shared.platform.store import metering

    running = Emulators(ROOT, tmp_path_factory.mktemp("emulators"), in_memory=True)
    running.start()
    saved = dict(os.environ)
    os.environ.update(TEST_ENVIRONMENT)
    os.environ.update(running.env())
    os.environ["COSMOS_DATABASE"] = f"test-{uuid.uuid4().hex[:12]}"
    os.environ["CLERK_JWT_KEY"] = public_pem(signing_key)
    os.environ["EVIDENCE_SIGNING_KEY"] = evidence_signing_key_pem()
    reset_clients()
    metering.enable()
    provision()
    try:
        yield running
    finally:
        metering.enable(False)
        running.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_clients()


@pytest.fixture(scope="session")
def devhost(emulators: object) -> Iterator[object]:
    """The dev host over the real function app, with queues retried without delay."""
    from devhost.host import DevHost
    from function_app import app

    host = DevHost(app, host_overrides={"visibilityTimeout": "00:00:00", "maxDequeueCount": 3})
    yield host
    host.stop()


@pytest.fixture
def client(devhost: object) -> Iterator[object]:
    """An httpx client whose every response is validated against the contract."""
    from tests.support.client import ContractClient

    with ContractClient(devhost.asgi) as http:
        yield http


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change settings for one test: set variables with monkeypatch, then call reset_clients()."""
    yield monkeypatch
    monkeypatch.undo()
    reset_clients()


@pytest.fixture(scope="session")
def tokens(emulators: object, signing_key: object) -> object:
    """Mints Clerk-shaped bearer tokens for tenants, roles and super-admins."""
    from tests.support.identity import TokenFactory

    return TokenFactory(signing_key, issuer=TEST_ENVIRONMENT["CLERK_ISSUER"], super_admin_user_id=SUPER_ADMIN_USER_ID)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The most store calls each operation made in this run, beside its budget."""
    from tests.support import budgets

    seen = budgets.observed()
    if not seen:
        return
    table = budgets.budgets()
    terminalreporter.section("store calls per request (most seen / budget)")
    for operation_id in sorted(seen):
        terminalreporter.write_line(f"{operation_id}: {seen[operation_id]} / {table.get(operation_id, '-')}")
