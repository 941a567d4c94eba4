"""Persistence of metrics: rollup documents, the session feed and the public SLO snapshot.

Every query names its tenant in the WHERE clause as well as in the partition key: a single-partition query must
not depend on the store honouring the partition key alone (the local emulator does not).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from shared.metrics import feed, rollups
from shared.metrics.models import MetricEvent
from shared.platform.errors import Conflict, NotFound, PreconditionFailed
from shared.platform.store.repository import CrossPartitionReader, Document, Repository

# What the views read of a rollup document: everything but the idempotency record, which is most of its size.
ROLLUP_VIEW_FIELDS = (
    "id",
    "tenantId",
    "type",
    "schemaVersion",
    "granularity",
    "bucket",
    "counters",
    "latency",
    "leadsByStatus",
    "leadsByTier",
    "pilotsByStatus",
    "scenarios",
)
_PROJECTION = ", ".join(f"c.{name}" for name in ROLLUP_VIEW_FIELDS)

Statuses = dict[str, rollups.ApplyStatus]


class RollupRepository(Repository):
    """A tenant's rollup documents (partition = tenantId; ids `hour:…`, `day:…`, `total`)."""

    container_name = "metrics_rollups"
    doc_type = rollups.ROLLUP_TYPE
    schema_version = rollups.SCHEMA_VERSION

    def read_many(self, tenant_id: str, keys: Iterable[rollups.RollupKey]) -> list[Document]:
        """The stored documents among `keys`, without their idempotency record: one round trip."""
        ids = sorted({key.id for key in keys})
        if not ids:
            return []
        if len(ids) == 1:
            doc = self.read(ids[0], tenant_id)
            return [] if doc is None else [doc]
        names = {f"id{index}": value for index, value in enumerate(ids)}
        placeholders = ", ".join(f"@{name}" for name in names)
        return self.query(
            f"SELECT {_PROJECTION} FROM c WHERE c.tenantId = @tenantId AND c.id IN ({placeholders})",
            {"tenantId": tenant_id, **names},
            tenant_id,
            limit=len(ids),
        )

    def read_full(self, tenant_id: str, ids: list[str]) -> dict[str, Document]:
        """Whole documents (idempotency record and ETag included) by id: one round trip."""
        if len(ids) == 1:
            doc = self.read(ids[0], tenant_id)
            return {} if doc is None else {doc["id"]: doc}
        names = {f"id{index}": value for index, value in enumerate(ids)}
        placeholders = ", ".join(f"@{name}" for name in names)
        docs = self.query(
            f"SELECT * FROM c WHERE c.tenantId = @tenantId AND c.id IN ({placeholders})",
            {"tenantId": tenant_id, **names},
            tenant_id,
            limit=len(ids),
        )
        return {doc["id"]: doc for doc in docs}

    def apply_events(
        self,
        tenant_id: str,
        key: rollups.RollupKey,
        events: list[MetricEvent],
        *,
        current: Document | None,
        now: Callable[[], datetime],
    ) -> Statuses:
        """Count `events` into one document: apply in memory, then create or replace If-Match; retry lost races.

        `current` is the document as already read (None: not stored yet). A lost race (409 on create, 412 on
        replace) reads the document again and re-applies, so concurrent writers lose nothing and an event counts
        once. Returns each event id's status in this document; nothing is written when none applied.
        """
        for attempt in range(self.max_update_attempts):
            doc = current if current is not None else rollups.new_document(tenant_id, key)
            statuses: Statuses = {}
            for event in events:
                doc, statuses[event.id] = rollups.apply(event, doc, now=now())
            if "applied" not in statuses.values():
                return statuses
            try:
                if current is None:
                    self.create(doc)
                else:
                    self.replace(doc)
                return statuses
            except (Conflict, PreconditionFailed, NotFound):
                self.pause_before_retry(attempt)
                current = self.read(key.id, tenant_id)
        raise Conflict("the metrics rollup is being changed by others; try again", code="write_conflict")

    def reconcile(self, tenant_id: str, key: rollups.RollupKey, change: Callable[[Document], bool]) -> None:
        """Apply `change(doc) -> changed?` to a document (a new one when none is stored) with ETag retries."""
        for attempt in range(self.max_update_attempts):
            current = self.read(key.id, tenant_id)
            doc = rollups.new_document(tenant_id, key) if current is None else dict(current)
            if not change(doc):
                return
            try:
                if current is None:
                    self.create(doc)
                else:
                    self.replace(doc)
                return
            except (Conflict, PreconditionFailed, NotFound):
                self.pause_before_retry(attempt)
        raise Conflict("the metrics rollup is being changed by others; try again", code="write_conflict")

    def days_across_tenants(self, first_day: str, last_day: str) -> Iterator[Document]:
        """Every tenant's day documents from `first_day` to `last_day` (YYYY-MM-DD), views' fields only (timers)."""
        return CrossPartitionReader(self).stream(
            f"SELECT {_PROJECTION} FROM c WHERE c.type = @type AND c.granularity = 'day' "
            "AND c.bucket >= @first AND c.bucket <= @last",
            {"type": self.doc_type, "first": first_day, "last": last_day},
        )

    def tenants_with(self, document_id: str) -> set[str]:
        """The tenants that hold a document with this id (timers: which tenants had metrics on a day)."""
        rows = CrossPartitionReader(self).stream(
            "SELECT VALUE c.tenantId FROM c WHERE c.type = @type AND c.id = @id",
            {"type": self.doc_type, "id": document_id},
        )
        return {row for row in rows if isinstance(row, str)}


class FeedRepository(Repository):
    """A tenant's session feed: one item per event, id = the zero-padded per-tenant sequence (partition = tenantId)."""

    container_name = "session_feed"
    doc_type = feed.FEED_ITEM_TYPE
    schema_version = feed.SCHEMA_VERSION

    def head(self, tenant_id: str) -> Document | None:
        """The tenant's newest item, or None for an empty feed."""
        items = self.query(
            "SELECT TOP 1 * FROM c WHERE c.tenantId = @tenantId ORDER BY c.seq DESC", {"tenantId": tenant_id}, tenant_id
        )
        return items[0] if items else None

    def try_create(self, item: Document) -> bool:
        """Create an item; False when its sequence number is taken (another writer won it)."""
        try:
            self.create(item)
        except Conflict:
            return False
        return True

    def after_seq(self, tenant_id: str, seq: int, limit: int) -> list[Document]:
        """Up to `limit` items after sequence `seq`, oldest first."""
        return self.query(
            "SELECT TOP @limit * FROM c WHERE c.tenantId = @tenantId AND c.seq > @seq ORDER BY c.seq ASC",
            {"tenantId": tenant_id, "seq": seq, "limit": limit},
            tenant_id,
            limit=limit,
        )

    def from_time(self, tenant_id: str, since_iso: str, limit: int) -> list[Document]:
        """Up to `limit` items at or after `since_iso` (the store's time text), oldest first."""
        return self.query(
            "SELECT TOP @limit * FROM c WHERE c.tenantId = @tenantId AND c.occurredAt >= @since ORDER BY c.seq ASC",
            {"tenantId": tenant_id, "since": since_iso, "limit": limit},
            tenant_id,
            limit=limit,
        )

    def latest(self, tenant_id: str, limit: int) -> list[Document]:
        """The newest `limit` items, oldest first."""
        items = self.query(
            "SELECT TOP @limit * FROM c WHERE c.tenantId = @tenantId ORDER BY c.seq DESC",
            {"tenantId": tenant_id, "limit": limit},
            tenant_id,
            limit=limit,
        )
        return list(reversed(items))


class SloSnapshotRepository(Repository):
    """The public SLO snapshot: one document (id = partition = `current`), rewritten by its timer only."""

    container_name = "public_slos"
    doc_type = "public_slo_snapshot"

    CURRENT = "current"

    def current(self) -> Document | None:
        """The stored snapshot, or None before the first refresh."""
        return self.read(self.CURRENT, self.CURRENT)

    def save(self, snapshot: dict[str, Any], *, documents_read: int, tenants: int) -> Document:
        """Replace the snapshot (one writer: the refresh timer)."""
        return self.upsert(
            {
                "id": self.CURRENT,
                "snapshot": snapshot,
                "documentsRead": documents_read,
                "tenants": tenants,
            }
        )
