"""Provisioning every declared resource in the emulators, idempotently; resetting the database."""

from __future__ import annotations

import uuid

import pytest
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from devhost.provision import provision, reset_database
from shared.platform.settings import get_settings
from shared.platform.store import cosmos, registry
from shared.platform.store.registry import ContainerSpec


@pytest.fixture
def declared(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    suffix = uuid.uuid4().hex[:8]
    containers = (
        ContainerSpec(f"leads-{suffix}", "/tenantId", None, "test"),
        ContainerSpec(f"sessions-{suffix}", "/sessionId", 3600, "test"),
    )
    monkeypatch.setattr(registry, "CONTAINERS", containers)
    monkeypatch.setattr(registry, "BLOB_CONTAINERS", (f"pdfs-{suffix}",))
    monkeypatch.setattr(registry, "QUEUES", (f"emails-{suffix}",))
    return {"containers": containers, "blob": f"pdfs-{suffix}", "queue": f"emails-{suffix}"}


def test_provision_creates_everything_declared_and_is_idempotent(emulator_settings: str, declared: dict):
    provision()
    provision()
    database = cosmos.get_client().get_database_client(emulator_settings)
    for spec in declared["containers"]:
        properties = database.get_container_client(spec.name).read()
        assert properties["partitionKey"]["paths"] == [spec.partition_key]
        assert properties.get("defaultTtl") == spec.default_ttl
    connection_string = get_settings().storage_connection_string
    blobs = BlobServiceClient.from_connection_string(connection_string)
    assert blobs.get_container_client(declared["blob"]).exists()
    queue_names = {queue.name for queue in QueueServiceClient.from_connection_string(connection_string).list_queues()}
    assert {declared["queue"], f"{declared['queue']}-poison"} <= queue_names


def test_reset_database_recreates_empty_containers(emulator_settings: str, declared: dict):
    provision()
    name = declared["containers"][0].name
    container = cosmos.get_container(name)
    container.create_item({"id": "lead-1", "tenantId": "t1"})
    reset_database()
    items = list(cosmos.get_container(name).query_items("SELECT * FROM c", enable_cross_partition_query=True))
    assert items == []
