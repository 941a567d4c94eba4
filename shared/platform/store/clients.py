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
        loopback = is_loopback_url(settings.cosmos_endpoint)
        if loopback:
            # The local emulator is self-signed and advertises only itself; verification stays on
            # for every other endpoint.
            from urllib3.exceptions import InsecureRequestWarning

            warnings.filterwarnings("ignore", category=InsecureRequestWarning)
            options.update(connection_verify=False, enable_endpoint_discovery=False)
        transport = _cosmos_transport(verifies_tls=not loopback)
        if transport is not None:
            options["transport"] = transport
        return CosmosClient(settings.cosmos_endpoint, settings.cosmos_key or credential(), **options)

    return _singleton("cosmos", build)


def _cosmos_transport(*, verifies_tls: bool) -> Any:
    """A transport that does not re-read the environment on every call, when nothing there applies to it.

    By default `requests` looks up proxy variables (walking all of os.environ, twice) and ~/.netrc on
    every round trip: 10-20% of a loopback point read, and more with the many app settings of a
    Functions host. Those lookups can change nothing when no proxy variable is set and no CA-bundle
    variable applies (none is set, or TLS is not verified at all, as for the local emulator); a
    netrc entry would only overwrite the SDK's own Authorization header. Then the client gets a
    transport that skips them; otherwise (None) the default transport keeps honouring them.
    """
    import os
    import urllib.request

    if urllib.request.getproxies():
        return None
    if verifies_tls and (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")):
        return None
    from azure.core.pipeline.transport import RequestsTransport

    return RequestsTransport(use_env_settings=False)


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
