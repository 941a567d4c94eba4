"""One Blob service client per process, from a connection string or managed identity."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from shared.platform.errors import ServiceUnavailable
from shared.platform.settings import get_settings

if TYPE_CHECKING:
    from azure.storage.blob import BlobServiceClient, ContainerClient

_lock = threading.Lock()
_service: BlobServiceClient | None = None

# Short transport bounds: a dead storage account fails a request instead of hanging it.
STORAGE_CLIENT_OPTIONS = {"connection_timeout": 5, "read_timeout": 30, "retry_total": 2}


def get_blob_service() -> BlobServiceClient:
    """The process-wide BlobServiceClient."""
    global _service
    if _service is None:
        with _lock:
            if _service is None:
                from azure.storage.blob import BlobServiceClient

                settings = get_settings()
                if settings.storage_connection_string:
                    _service = BlobServiceClient.from_connection_string(
                        settings.storage_connection_string, **STORAGE_CLIENT_OPTIONS
                    )
                elif settings.storage_blob_uri:
                    from azure.identity import DefaultAzureCredential

                    _service = BlobServiceClient(
                        settings.storage_blob_uri, credential=DefaultAzureCredential(), **STORAGE_CLIENT_OPTIONS
                    )
                else:
                    raise ServiceUnavailable("Blob storage is not configured", code="storage_not_configured")
    return _service


def get_container(name: str) -> ContainerClient:
    """A client for one declared blob container (no network call)."""
    return get_blob_service().get_container_client(name)


def reset() -> None:
    """Drop the cached client (settings changed)."""
    global _service
    with _lock:
        _service = None
