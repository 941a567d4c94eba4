"""The emulator processes: reachable, described by env(), and cosmosdb-server restartable."""

from __future__ import annotations

import os
import signal
import time

from azure.storage.queue import QueueServiceClient

from devhost.emulators import Emulators, port_accepts
from shared.platform.store import cosmos


def test_both_emulators_answer(local_emulators: Emulators):
    env = local_emulators.env()
    assert set(env) == {"AzureWebJobsStorage", "COSMOS_ENDPOINT", "COSMOS_KEY"}
    assert all(port_accepts(port) for port in (local_emulators.blob_port, local_emulators.table_port))
    QueueServiceClient.from_connection_string(env["AzureWebJobsStorage"]).get_service_properties()
    assert local_emulators.cosmos_alive()


def test_a_killed_cosmos_is_detected_and_restarts_empty(local_emulators: Emulators, emulator_settings: str):
    cosmos.get_client().create_database_if_not_exists(emulator_settings)
    # Kill it as a crash would, from outside.
    os.killpg(local_emulators._cosmos.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while local_emulators.cosmos_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not local_emulators.cosmos_alive()
    local_emulators.restart_cosmos()
    assert local_emulators.cosmos_alive()
    cosmos.reset()
    names = [database["id"] for database in cosmos.get_client().list_databases()]
    assert emulator_settings not in names
