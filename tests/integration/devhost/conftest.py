"""Emulators for the dev host's own integration tests: Azurite and cosmosdb-server in memory on free ports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.emulators import Emulators
from shared.platform.settings import reload_settings
from shared.platform.store import cosmos

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def local_emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    """One Azurite and one cosmosdb-server for this directory's tests."""
    with Emulators(ROOT, tmp_path_factory.mktemp("devhost-emulators"), in_memory=True) as emulators:
        yield emulators


@pytest.fixture
def storage_connection_string(local_emulators: Emulators) -> str:
    """AzureWebJobsStorage of the test Azurite."""
    return local_emulators.storage_connection_string


@pytest.fixture
def emulator_settings(local_emulators: Emulators) -> Iterator[str]:
    """Point the app's settings at the test emulators with a fresh database name; restored afterwards."""
    database = f"devhost-{uuid.uuid4().hex[:10]}"
    values = {**local_emulators.env(), "COSMOS_DATABASE": database}
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    reload_settings()
    cosmos.reset()
    try:
        yield database
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reload_settings()
        cosmos.reset()


@pytest.fixture
def queue_name() -> str:
    """A queue name no other test uses."""
    return f"q-{uuid.uuid4().hex[:16]}"
