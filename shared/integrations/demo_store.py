"""The Cosmos-backed DemoRecorder: what demo-tier providers "do" is stored once per idempotency key.

A record is an item of `demo_records` (partition = tenantId) whose id is derived from the provider
and the idempotency key, so a repeated or concurrent call with the same key stores nothing new and
answers the first record. Records carry the session when one is known, so results and evidence can
show what the agent did.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from shared.integrations.repository import DemoRecordRepository
from shared.platform import clock
from shared.platform.errors import Conflict, ServiceUnavailable
from shared.platform.store.repository import Document

# The check reads an id no record can have (record ids are 32 hex characters).
PROBE_ID = "demo-store-probe"
RECORD_FIELDS = ("id", "providerId", "actionId", "params", "sessionId", "recordedAt")

records = DemoRecordRepository()


def record_id(provider_id: str, idempotency_key: str) -> str:
    """The record id of one provider call: stable per provider and idempotency key."""
    return hashlib.sha256(f"{provider_id}\n{idempotency_key}".encode()).hexdigest()[:32]


def _view(doc: Document) -> dict[str, Any]:
    return {name: doc[name] for name in RECORD_FIELDS if name in doc}


class CosmosDemoRecorder:
    """A tenant's demo store (optionally bound to the session the calls belong to)."""

    def __init__(self, tenant_id: str, session_id: str | None = None) -> None:
        self.tenant_id = tenant_id
        self.session_id = session_id

    def record(
        self, provider_id: str, action_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> Mapping[str, Any]:
        """Store the action once per key (one write; a repeat reads the first record back)."""
        doc: Document = {
            "id": record_id(provider_id, idempotency_key),
            "tenantId": self.tenant_id,
            "providerId": provider_id,
            "actionId": action_id,
            "params": dict(params),
            "idempotencyKey": idempotency_key,
            "recordedAt": clock.now_iso(),
        }
        if self.session_id:
            doc["sessionId"] = self.session_id
        try:
            return _view(records.create(doc))
        except Conflict:
            existing = records.read(doc["id"], self.tenant_id)
            if existing is None:
                raise ServiceUnavailable("The demo store lost a record; try again", code="store_unavailable") from None
            return _view(existing)

    def check(self) -> None:
        """One point read proves the store answers (ServiceUnavailable otherwise)."""
        records.read(PROBE_ID, self.tenant_id)


def session_records(tenant_id: str, session_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """What demo providers recorded for one session, oldest first."""
    return [_view(doc) for doc in records.for_session(tenant_id, session_id, limit)]


def records_of(tenant_id: str, provider_id: str, action_ids: list[str], limit: int = 200) -> list[dict[str, Any]]:
    """A tenant's newest records of some actions of one provider (what demo lookups search)."""
    return [_view(doc) for doc in records.of_actions(tenant_id, provider_id, action_ids, limit)]
