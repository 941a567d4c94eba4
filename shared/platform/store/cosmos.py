"""One Cosmos client per process, created on first use; container proxies cached by name."""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING

from shared.platform.errors import ServiceUnavailable
from shared.platform.net import is_loopback_url
from shared.platform.settings import Settings, get_settings

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy, CosmosClient, DatabaseProxy

_lock = threading.Lock()
_client: CosmosClient | None = None
_containers: dict[str, ContainerProxy] = {}

# Bounded so a dead endpoint fails a request in seconds instead of hanging it.
CONNECTION_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 10
RETRY_TOTAL = 2


def _create_client(settings: Settings) -> CosmosClient:
    from azure.cosmos import CosmosClient

    if not settings.cosmos_endpoint:
        raise ServiceUnavailable("Cosmos DB is not configured (COSMOS_ENDPOINT)", code="store_not_configured")
    options: dict = {
        "connection_timeout": CONNECTION_TIMEOUT_SECONDS,
        "read_timeout": READ_TIMEOUT_SECONDS,
        "retry_total": RETRY_TOTAL,
    }
    if is_loopback_url(settings.cosmos_endpoint):
        # The local emulator is self-signed and advertises only itself; verification stays on
        # for every other endpoint.
        from urllib3.exceptions import InsecureRequestWarning

        warnings.filterwarnings("ignore", category=InsecureRequestWarning)
        options.update(connection_verify=False, enable_endpoint_discovery=False)
    if settings.cosmos_key:
        credential = settings.cosmos_key
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return CosmosClient(settings.cosmos_endpoint, credential, **options)


def get_client() -> CosmosClient:
    """The process-wide Cosmos client; a failed creation is retried on the next call."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                _client = _create_client(get_settings())
    return _client


def get_database() -> DatabaseProxy:
    """The app's database proxy (no network call)."""
    return get_client().get_database_client(get_settings().cosmos_database)


def get_container(name: str) -> ContainerProxy:
    """A cached proxy of one declared container (no network call)."""
    proxy = _containers.get(name)
    if proxy is None:
        proxy = get_database().get_container_client(name)
        _containers[name] = proxy
    return proxy


def reset() -> None:
    """Drop the client and proxies (settings changed: tests, dev host restarts)."""
    global _client
    with _lock:
        _client = None
        _containers.clear()
