"""Blob storage of signed evidence packs and rendered PDFs: written once by content hash, read back as stored.

Names (every part is an id or a hex digest, so names never collide or escape their prefix):
* evidence-packs: `<tenantId>/<sessionId>/<content sha256>-<publicKeyId>.json` — the content sha256 is that of
  the bundle without its `generatedAt` (bundle.content_sha256), so an unchanged session finds its pack without
  listing, and a changed session gets a new blob while earlier packs stay;
* pdfs: `<tenantId>/<sessionId>/<kind>-<sha256 of what the PDF shows>.pdf`.

A blob is uploaded with If-None-Match: * — the first writer wins and a concurrent second writer reads the winner's
bytes back, so every caller sees the same pack.

Retention: every blob carries the session's artifact expiry (`expiresat` metadata, from its consent retention).
The session purge deletes a session's blobs when it redacts the session (`purge_session`), and a daily sweep
deletes every blob past its expiry (`purge_expired`) — also those of sessions Cosmos' ttl removed before the
purge saw them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping

from shared.platform.errors import ServiceUnavailable
from shared.platform.store import blobs
from shared.platform.store.registry import EVIDENCE_PACKS_CONTAINER, PDFS_CONTAINER

logger = logging.getLogger("tellgence.evidence.storage")

PACK_MEDIA_TYPE = "application/json; charset=utf-8"
PDF_MEDIA_TYPE = "application/pdf"
STORAGE_TIMEOUT_SECONDS = 20
EXPIRY_METADATA = "expiresat"
# A finalized session always has a consent retention; without one, the longest retention applies.
FALLBACK_RETENTION_DAYS = 365


@contextlib.contextmanager
def blob_errors() -> Iterator[None]:
    """Blob Storage that cannot be reached, is throttled or lacks the container → ServiceUnavailable (503)."""
    from azure.core.exceptions import (
        HttpResponseError,
        ResourceNotFoundError,
        ServiceRequestError,
        ServiceResponseError,
    )

    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise ServiceUnavailable("Blob storage cannot be reached", code="storage_unavailable") from exc
    except ResourceNotFoundError as exc:
        # Reads handle a missing blob themselves; what is left is a missing container (not provisioned).
        raise ServiceUnavailable("A blob container is missing (run provisioning)", code="storage_unavailable") from exc
    except HttpResponseError as exc:
        if exc.status_code is None or exc.status_code in (408, 429) or exc.status_code >= 500:
            raise ServiceUnavailable("Blob storage is busy or failing; try again", code="storage_unavailable") from exc
        raise


def pack_blob_name(tenant_id: str, session_id: str, content_sha256: str, public_key_id: str) -> str:
    """Where the pack of one bundle content, signed with one key, is stored."""
    return f"{tenant_id}/{session_id}/{content_sha256}-{public_key_id}.json"


def pdf_blob_name(tenant_id: str, session_id: str, kind: str, content_sha256: str) -> str:
    """Where one rendering of a PDF is stored."""
    return f"{tenant_id}/{session_id}/{kind}-{content_sha256}.pdf"


def expires_at(session: Mapping[str, object]) -> str:
    """When a session's stored evidence must be gone: its artifact expiry (consent retention)."""
    from datetime import timedelta

    from shared.platform import clock

    retention = session.get("consentRetention")
    expiry = retention.get("artifactExpiresAt") if isinstance(retention, Mapping) else None
    if isinstance(expiry, str) and expiry:
        try:
            return clock.iso(clock.parse_iso(expiry))
        except ValueError:
            pass
    start = session.get("finalizedAt") or session.get("createdAt")
    try:
        moment = clock.parse_iso(start) if isinstance(start, str) else clock.utc_now()
    except ValueError:
        moment = clock.utc_now()
    return clock.iso(moment + timedelta(days=FALLBACK_RETENTION_DAYS))


def read(container: str, name: str) -> bytes | None:
    """A blob's bytes, or None when it does not exist."""
    from azure.core.exceptions import ResourceNotFoundError

    with blob_errors():
        try:
            return blobs.get_container(container).download_blob(name, timeout=STORAGE_TIMEOUT_SECONDS).readall()
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                raise
            return None


def write_once(
    container: str, name: str, data: bytes, *, media_type: str, metadata: Mapping[str, str] | None = None
) -> bytes:
    """Store `data` unless the blob exists; returns the stored bytes (the first writer's when it lost a race)."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import ContentSettings

    for _ in range(2):
        with blob_errors():
            try:
                blobs.get_container(container).upload_blob(
                    name,
                    data,
                    overwrite=False,
                    content_settings=ContentSettings(content_type=media_type),
                    metadata=dict(metadata or {}),
                    timeout=STORAGE_TIMEOUT_SECONDS,
                )
                return data
            except ResourceExistsError:
                pass
        existing = read(container, name)
        if existing is not None:
            return existing
        # Deleted between the two calls (the retention purge): what we made is still right, so try once more.
    raise ServiceUnavailable("The blob is being deleted and written at once; try again", code="storage_unavailable")


def purge_session(tenant_id: str, session_id: str) -> int:
    """Delete every stored pack and PDF of a session (retention); returns how many blobs were deleted."""
    from azure.core.exceptions import ResourceNotFoundError

    deleted = 0
    prefix = f"{tenant_id}/{session_id}/"
    with blob_errors():
        for container_name in (EVIDENCE_PACKS_CONTAINER, PDFS_CONTAINER):
            container = blobs.get_container(container_name)
            for blob in container.list_blobs(name_starts_with=prefix, timeout=STORAGE_TIMEOUT_SECONDS):
                with contextlib.suppress(ResourceNotFoundError):
                    container.delete_blob(blob.name, delete_snapshots="include", timeout=STORAGE_TIMEOUT_SECONDS)
                    deleted += 1
    if deleted:
        logger.info("retention deleted %d evidence/PDF blob(s) of session %s", deleted, session_id)
    return deleted


def purge_expired(now: str | None = None) -> int:
    """Delete every pack and PDF past its expiry (the daily sweep); returns how many were deleted."""
    from azure.core.exceptions import ResourceNotFoundError

    from shared.platform import clock

    moment = clock.parse_iso(now) if now else clock.utc_now()
    deleted = 0
    with blob_errors():
        for container_name in (EVIDENCE_PACKS_CONTAINER, PDFS_CONTAINER):
            container = blobs.get_container(container_name)
            for blob in container.list_blobs(include=["metadata"], timeout=STORAGE_TIMEOUT_SECONDS):
                expiry = (blob.metadata or {}).get(EXPIRY_METADATA)
                try:
                    due = expiry is None or clock.parse_iso(expiry) <= moment
                except ValueError:
                    due = True  # we always write a valid instant: anything else was not written by us
                if due:
                    with contextlib.suppress(ResourceNotFoundError):
                        container.delete_blob(blob.name, delete_snapshots="include", timeout=STORAGE_TIMEOUT_SECONDS)
                        deleted += 1
    if deleted:
        logger.info("retention sweep deleted %d expired evidence/PDF blob(s)", deleted)
    return deleted
