"""The storage-client factory: one Cosmos, one Blob and one Queue client per process, one credential.

Clients are built on first use from the settings. Locally the emulators are reached with their
documented development keys (a connection string, a Cosmos key); in Azure there is no key at all and
every client authenticates with the app's managed identity through one DefaultAzureCredential.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from shared.platform.errors import ServiceUnavailable
from shared.platform.net import is_loopback_url
from shared.platform.settings import get_settings

if TYPE_CHECKING:
    from azure.cosmos import CosmosClient
    from azure.storage.blob import BlobServiceClient
    from azure.storage.queue import QueueServiceClient

T = TypeVar("T")

# Bounded so a dead endpoint fails a request in seconds instead of hanging it.
COSMOS_OPTIONS = {"connection_timeout": 5, "read_timeout": 10, "retry_total": 2}
STORAGE_CLIENT_OPTIONS = {"connection_timeout": 5, "read_timeout": 30, "retry_total": 2}

_lock = threading.RLock()
_clients: dict[str, Any] = {}


def _singleton(name: str, build: Callable[[], T]) -> T:
    client = _clients.get(name)
    if client is None:
        with _lock:
            client = _clients.get(name)
            if client is None:
                client = _clients[name] = build()
    return client


def credential() -> Any:
    """The process-wide managed-identity credential (DefaultAzureCredential), created on first use."""

    def build() -> Any:
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential()

    return _singleton("credential", build)


def cosmos_client() -> CosmosClient:
    """The process-wide Cosmos client; a failed creation is retried on the next call."""

    def build() -> CosmosClient:
        from azure.cosmos import CosmosClient

        from shared.platform.store import metering

        settings = get_settings()
        if not settings.cosmos_endpoint:
            raise ServiceUnavailable("Cosmos DB is not configured (COSMOS_ENDPOINT)", code="store_not_configured")
        options: dict[str, Any] = {**COSMOS_OPTIONS, **metering.client_options()}
        if is_loopback_url(settings.cosmos_endpoint):
            # The local emulator is self-signed and advertises only itself; verification stays on
            # for every other endpoint.
            from urllib3.exceptions import InsecureRequestWarning

            warnings.filterwarnings("ignore", category=InsecureRequestWarning)
            options.update(connection_verify=False, enable_endpoint_discovery=False)
        return CosmosClient(settings.cosmos_endpoint, settings.cosmos_key or credential(), **options)

    return _singleton("cosmos", build)


def blob_service() -> BlobServiceClient:
    """The process-wide BlobServiceClient (connection string locally, managed identity in Azure)."""

    def build() -> BlobServiceClient:
        from azure.storage.blob import BlobServiceClient

        settings = get_settings()
        if settings.storage_connection_string:
            return BlobServiceClient.from_connection_string(
                settings.storage_connection_string, **STORAGE_CLIENT_OPTIONS
            )
        if settings.storage_blob_uri:
            return BlobServiceClient(settings.storage_blob_uri, credential=credential(), **STORAGE_CLIENT_OPTIONS)
        raise ServiceUnavailable("Blob storage is not configured", code="storage_not_configured")

    return _singleton("blob", build)


def queue_service() -> QueueServiceClient:
    """The process-wide QueueServiceClient (connection string locally, managed identity in Azure)."""

    def build() -> QueueServiceClient:
        from azure.storage.queue import QueueServiceClient

        settings = get_settings()
        if settings.storage_connection_string:
            return QueueServiceClient.from_connection_string(
                settings.storage_connection_string, **STORAGE_CLIENT_OPTIONS
            )
        if settings.storage_queue_uri:
            return QueueServiceClient(settings.storage_queue_uri, credential=credential(), **STORAGE_CLIENT_OPTIONS)
        raise ServiceUnavailable("Queue storage is not configured", code="storage_not_configured")

    return _singleton("queue", build)


def reset(*names: str) -> None:
    """Forget clients (all, or the named ones) so the next use rebuilds them from current settings."""
    with _lock:
        for name in names or list(_clients):
            _clients.pop(name, None)
