"""Helpers for lead tests: request bodies, the stored lead, the outbox and the emails queue."""

from __future__ import annotations

import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from typing import Any

from tests.unit.leads.support import lead_body


def unique_email(prefix: str = "prospect") -> str:
    """An address no other test submits."""
    return f"{prefix}.{uuid.uuid4().hex[:10]}@acme-{uuid.uuid4().hex[:6]}.com"


def new_lead_body(**overrides: Any) -> dict[str, Any]:
    """A createLead body with a fresh address."""
    return lead_body(**{"email": unique_email(), **overrides})


def stored_lead(tenant_id: str, lead_id: str) -> dict[str, Any]:
    """The stored lead document (with the fields the contract view leaves out)."""
    from shared.leads.repository import LeadRepository

    doc = LeadRepository().read(lead_id, tenant_id)
    assert doc is not None, f"{lead_id} is not stored in {tenant_id}"
    return doc


def outbox_messages(containing: str) -> list[MimeMessage]:
    """Every .eml in the email outbox whose blob name contains `containing`, parsed."""
    from shared.platform.store.blobs import get_container
    from shared.platform.store.registry import EMAIL_OUTBOX_CONTAINER

    container = get_container(EMAIL_OUTBOX_CONTAINER)
    found = []
    for blob in container.list_blobs():
        if containing in blob.name:
            data = container.get_blob_client(blob.name).download_blob().readall()
            found.append(message_from_bytes(data, policy=policy.default))
    return found


def queued_emails() -> int:
    """How many messages wait on the emails queue now."""
    from shared.platform.store.queues import get_queue
    from shared.platform.store.registry import EMAILS_QUEUE

    return get_queue(EMAILS_QUEUE).get_queue_properties().approximate_message_count


def pending_emails(ref: str | None = None) -> list[dict[str, Any]]:
    """The parked emails (optionally those about one lead)."""
    from shared.leads.repository import PendingEmailRepository
    from shared.platform.store.repository import CrossPartitionReader

    items = CrossPartitionReader(PendingEmailRepository()).query("SELECT * FROM c", limit=1000)
    return [item for item in items if ref is None or item.get("ref") == ref]
