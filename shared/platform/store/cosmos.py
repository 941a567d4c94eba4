"""Cosmos database and container proxies over the process-wide client (no network call to get one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.platform.settings import get_settings
from shared.platform.store import clients

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy, CosmosClient, DatabaseProxy

_containers: dict[str, ContainerProxy] = {}


def get_client() -> CosmosClient:
    """The process-wide Cosmos client."""
    return clients.cosmos_client()


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
    """Drop the client and proxies (settings changed: tests, dev host restarts, metering toggled)."""
    clients.reset("cosmos")
    _containers.clear()
