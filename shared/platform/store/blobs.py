"""Blob containers over the process-wide BlobServiceClient."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.platform.store import clients

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient


def get_blob_service() -> BlobServiceClient:
    """The process-wide BlobServiceClient."""
    return clients.blob_service()


def get_container(name: str) -> ContainerClient:
    """A client for one declared blob container (no network call)."""
    return get_blob_service().get_container_client(name)


def reset() -> None:
    """Drop the cached client (settings changed)."""
    clients.reset("blob")
