"""A fake Azure Storage account behind the real SDK clients: Entra ID tokens and Azure RBAC as Azure applies them.

The Blob and Queue SDK clients are built with an azure-core transport that answers in process, so
every request is the exact REST call the SDK would send to Azure. Each request is mapped to the
Azure RBAC action it needs (from the Storage REST reference), and allowed only when one of the
identity's roles grants that action (the role definitions below are Azure's built-in ones). A
refused call gets Azure's 403 `AuthorizationPermissionMismatch`; a missing container or queue, 404.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import HttpTransport, RequestsTransportResponse
from requests.structures import CaseInsensitiveDict

ACCOUNT = "sttellgencefake"
BLOB_URL = f"https://{ACCOUNT}.blob.core.windows.net/"
QUEUE_URL = f"https://{ACCOUNT}.queue.core.windows.net/"

# Built-in role definitions (Azure RBAC), actions and data actions as Azure publishes them.
ROLE_DEFINITIONS: dict[str, tuple[str, ...]] = {
    "Storage Blob Data Owner": (
        "Microsoft.Storage/storageAccounts/blobServices/containers/*",
        "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*",
    ),
    "Storage Queue Data Contributor": (
        "Microsoft.Storage/storageAccounts/queueServices/queues/delete",
        "Microsoft.Storage/storageAccounts/queueServices/queues/read",
        "Microsoft.Storage/storageAccounts/queueServices/queues/write",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/delete",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/read",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/write",
        "Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action",
    ),
    "Storage Table Data Contributor": (
        "Microsoft.Storage/storageAccounts/tableServices/tables/read",
        "Microsoft.Storage/storageAccounts/tableServices/tables/write",
        "Microsoft.Storage/storageAccounts/tableServices/tables/delete",
        "Microsoft.Storage/storageAccounts/tableServices/tables/entities/*",
    ),
    "Storage Account Contributor": ("Microsoft.Storage/storageAccounts/*",),
}

# What infra/main.bicep grants the app's identity on the storage account.
APP_ROLES = ("Storage Blob Data Owner", "Storage Queue Data Contributor", "Storage Table Data Contributor")

_BLOB = "Microsoft.Storage/storageAccounts/blobServices"
_QUEUE = "Microsoft.Storage/storageAccounts/queueServices"


def required_action(service: str, method: str, path: str, query: dict[str, str]) -> str:
    """The Azure RBAC action a Blob or Queue REST call needs (only the calls these tests make are mapped)."""
    segments = [segment for segment in path.split("/") if segment]
    if service == "blob":
        if not segments and query.get("restype") == "service":
            return f"{_BLOB}/read" if method == "GET" else f"{_BLOB}/write"  # Get/Set Blob Service Properties
        if len(segments) == 1 and query.get("restype") == "container":
            if query.get("comp") == "list":
                return f"{_BLOB}/containers/blobs/read"  # List Blobs
            return f"{_BLOB}/containers/read" if method in ("GET", "HEAD") else f"{_BLOB}/containers/write"
    if service == "queue":
        if not segments and query.get("restype") == "service":
            return f"{_QUEUE}/read" if method == "GET" else f"{_QUEUE}/write"  # Get/Set Queue Service Properties
        if len(segments) == 1 and query.get("comp") == "metadata":
            return f"{_QUEUE}/queues/read" if method in ("GET", "HEAD") else f"{_QUEUE}/queues/write"
        if len(segments) == 2 and segments[1] == "messages":
            if method == "POST":
                return f"{_QUEUE}/queues/messages/write"
            return f"{_QUEUE}/queues/messages/read"
    raise AssertionError(f"the fake storage account does not know {method} {service} {path}?{query}")


def granted(roles: tuple[str, ...], action: str) -> bool:
    """Whether any of the roles grants the action (`*` matches the rest of a path, as in Azure)."""
    return any(fnmatch.fnmatchcase(action, pattern) for role in roles for pattern in ROLE_DEFINITIONS[role])


class FakeCredential:
    """An Entra ID token credential that never leaves the process."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken("fake-entra-token", int(time.time()) + 3600)


@dataclass
class FakeStorageAccount(HttpTransport):
    """The account: its containers and queues (with message counts), the roles granted, and every call made."""

    containers: set[str] = field(default_factory=set)
    queues: dict[str, int] = field(default_factory=dict)
    roles: tuple[str, ...] = APP_ROLES
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __enter__(self) -> FakeStorageAccount:
        return self

    def __exit__(self, *args: object) -> None:
        return None

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        service = "blob" if parts.hostname.startswith(f"{ACCOUNT}.blob.") else "queue"
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        # The server-side `timeout` parameter says nothing about what is asked; leave it out of the record.
        asked = "&".join(f"{key}={value}" for key, value in query.items() if key != "timeout")
        self.calls.append((service, request.method, f"{parts.path}?{asked}"))
        if not str(request.headers.get("Authorization", "")).startswith("Bearer "):
            return _response(request, 401, "NoAuthenticationInformation")
        action = required_action(service, request.method, parts.path, query)
        if not granted(self.roles, action):
            self.refused.append(action)
            return _response(request, 403, "AuthorizationPermissionMismatch")
        name = parts.path.strip("/").split("/")[0]
        if service == "blob" and name and name not in self.containers:
            return _response(request, 404, "ContainerNotFound")
        if service == "queue" and name and name not in self.queues:
            return _response(request, 404, "QueueNotFound")
        if service == "queue" and request.method == "POST":  # Put Message: the message is counted
            self.queues[name] += 1
            return _response(request, 201, None, {"Content-Type": "application/xml"}, _PUT_MESSAGE_BODY)
        headers = {"x-ms-approximate-messages-count": str(self.queues.get(name, 0))} if service == "queue" else {}
        return _response(request, 200, None, headers)

    def blob_service(self):
        """A real BlobServiceClient talking to this account with an Entra ID token."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(BLOB_URL, credential=FakeCredential(), transport=self, retry_total=0)

    def queue_service(self):
        """A real QueueServiceClient talking to this account with an Entra ID token."""
        from azure.storage.queue import QueueServiceClient

        return QueueServiceClient(QUEUE_URL, credential=FakeCredential(), transport=self, retry_total=0)


_PUT_MESSAGE_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?><QueueMessagesList><QueueMessage>'
    b"<MessageId>00000000-0000-0000-0000-000000000001</MessageId>"
    b"<InsertionTime>Mon, 01 Jan 2024 00:00:00 GMT</InsertionTime>"
    b"<ExpirationTime>Mon, 08 Jan 2024 00:00:00 GMT</ExpirationTime>"
    b"<PopReceipt>AgAAAAMAAAAAAAAA</PopReceipt>"
    b"<TimeNextVisible>Mon, 01 Jan 2024 00:00:00 GMT</TimeNextVisible>"
    b"</QueueMessage></QueueMessagesList>"
)


def _response(request, status: int, error_code: str | None, headers: dict[str, str] | None = None, body: bytes = b""):
    raw = requests.Response()
    raw.status_code = status
    raw.reason = {200: "OK", 201: "Created", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}[status]
    raw.headers = CaseInsensitiveDict(
        {
            "x-ms-version": "2025-01-05",
            "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
            "ETag": '"0x8DC0000000000000"',
            "Content-Length": str(len(body)),
            **({"x-ms-error-code": error_code} if error_code else {}),
            **(headers or {}),
        }
    )
    raw._content = body
    raw.url = request.url
    return RequestsTransportResponse(request, raw)
