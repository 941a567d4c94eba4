"""Create every declared storage resource (Cosmos database and containers, blob containers, queues), idempotently."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from devhost.queues import POISON_SUFFIX
from shared.platform.settings import Settings, get_settings
from shared.platform.store import cosmos, registry
from shared.platform.store.schema import ensure_cosmos_schema

logger = logging.getLogger("devhost.provision")


def provision(settings: Settings | None = None) -> None:
    """Create the database, every registry container, blob container, queue and `<queue>-poison` that is missing.

    Cosmos goes through the process-wide client (shared.platform.store.cosmos.get_client), which follows get_settings();
    `settings` names the database and the storage account.
    """
    settings = settings or get_settings()
    ensure_cosmos_schema(settings)
    if registry.BLOB_CONTAINERS or registry.QUEUES:
        if not settings.storage_connection_string:
            raise RuntimeError("AzureWebJobsStorage is not set; cannot provision blob containers and queues")
        blobs = BlobServiceClient.from_connection_string(settings.storage_connection_string)
        for name in registry.BLOB_CONTAINERS:
            _create_if_missing(blobs.create_container, name)
        queues = QueueServiceClient.from_connection_string(settings.storage_connection_string)
        for name in registry.QUEUES:
            _create_if_missing(queues.create_queue, name)
            _create_if_missing(queues.create_queue, name + POISON_SUFFIX)
    logger.info(
        "provisioned database %s: %d container(s), %d blob container(s), %d queue(s) (+ poison queues)",
        settings.cosmos_database,
        len(registry.CONTAINERS),
        len(registry.BLOB_CONTAINERS),
        len(registry.QUEUES),
    )


def reset_database(settings: Settings | None = None) -> None:
    """Delete the Cosmos database (when present) and provision everything again."""
    settings = settings or get_settings()
    with contextlib.suppress(ResourceNotFoundError):
        cosmos.get_client().delete_database(settings.cosmos_database)
    # Cached container proxies point at the deleted containers' identities.
    cosmos.reset()
    provision(settings)


def _create_if_missing(create: Callable[[str], object], name: str) -> None:
    with contextlib.suppress(ResourceExistsError):
        create(name)
