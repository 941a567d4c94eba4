"""The base repository: point reads, single-partition queries, continuation paging, ETag writes."""

from __future__ import annotations

import contextlib
import copy
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from shared.platform.errors import Conflict, NotFound, PreconditionFailed, ServiceUnavailable
from shared.platform.store import cosmos

if TYPE_CHECKING:
    from azure.cosmos import ContainerProxy

Document = dict[str, Any]
QueryParams = dict[str, Any]

# Keys Cosmos adds to every item; `_etag` is kept because writers need it.
_SYSTEM_KEYS = ("_rid", "_self", "_ts", "_attachments")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query and the opaque token that continues it (None at the end)."""

    items: list[Document]
    continuation: str | None


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Translate transport-level Cosmos failures into ServiceUnavailable."""
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError
    from azure.cosmos.exceptions import CosmosHttpResponseError

    try:
        yield
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise ServiceUnavailable("The data store cannot be reached", code="store_unavailable") from exc
    except CosmosHttpResponseError as exc:
        if exc.status_code in (408, 429, 449, 503):
            raise ServiceUnavailable("The data store is busy; try again", code="store_unavailable") from exc
        raise


def _clean(doc: Any) -> Any:
    # VALUE queries return scalars; only documents carry system keys. The SDK's dict subclass also
    # carries the response headers, which must not travel with (or be copied along with) the document.
    if isinstance(doc, dict):
        return {key: value for key, value in doc.items() if key not in _SYSTEM_KEYS}
    return doc


class Repository:
    """Persistence of one document type in one container; subclasses name both."""

    container_name: ClassVar[str]
    doc_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    # Enough for a burst of ~20 concurrent writers of one document; each retry waits a little,
    # with jitter, so the losers of one round do not collide again in lockstep.
    max_update_attempts: ClassVar[int] = 40
    retry_backoff_seconds: ClassVar[float] = 0.01

    def __init__(self, container: ContainerProxy | None = None) -> None:
        self._explicit_container = container

    @property
    def container(self) -> ContainerProxy:
        """The Cosmos container proxy (resolved lazily so imports stay cheap)."""
        return self._explicit_container or cosmos.get_container(self.container_name)

    def _stamp(self, doc: Document) -> Document:
        doc.setdefault("type", self.doc_type)
        doc.setdefault("schemaVersion", self.schema_version)
        return doc

    def read(self, item_id: str, partition_key: str) -> Document | None:
        """Point read; None when absent."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with store_errors():
            try:
                return _clean(self.container.read_item(item_id, partition_key=partition_key))
            except CosmosResourceNotFoundError:
                return None

    def get(self, item_id: str, partition_key: str, *, what: str = "Resource") -> Document:
        """Point read that raises NotFound when absent."""
        doc = self.read(item_id, partition_key)
        if doc is None:
            raise NotFound(f"{what} not found")
        return doc

    def query(
        self, sql: str, params: QueryParams | None, partition_key: str, *, limit: int | None = None
    ) -> list[Document]:
        """A single-partition query, optionally stopping after `limit` items."""
        items: list[Document] = []
        with store_errors():
            iterator = self.container.query_items(
                sql,
                parameters=_parameters(params),
                partition_key=partition_key,
                max_item_count=min(limit, 100) if limit else None,
            )
            for doc in iterator:
                items.append(_clean(doc))
                if limit is not None and len(items) >= limit:
                    break
        return items

    def page(
        self,
        sql: str,
        params: QueryParams | None,
        partition_key: str,
        *,
        page_size: int,
        continuation: str | None = None,
    ) -> Page:
        """One page of a single-partition query, continued by the token of the previous page."""
        with store_errors():
            pager = self.container.query_items(
                sql,
                parameters=_parameters(params),
                partition_key=partition_key,
                max_item_count=page_size,
            ).by_page(continuation)
            try:
                items = [_clean(doc) for doc in next(pager)]
            except StopIteration:
                return Page([], None)
            return Page(items, pager.continuation_token or None)

    def create(self, doc: Document) -> Document:
        """Create a new document; Conflict when its id already exists in the partition."""
        from azure.cosmos.exceptions import CosmosResourceExistsError

        with store_errors():
            try:
                return _clean(self.container.create_item(self._stamp(doc)))
            except CosmosResourceExistsError as exc:
                raise Conflict(f"{self.doc_type} already exists") from exc

    def upsert(self, doc: Document) -> Document:
        """Create or overwrite unconditionally (only for documents with a single writer)."""
        with store_errors():
            return _clean(self.container.upsert_item(self._stamp(doc)))

    def replace(self, doc: Document) -> Document:
        """Replace a document only if it is unchanged since it was read (its `_etag`)."""
        from azure.core import MatchConditions
        from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

        etag = doc.get("_etag")
        if not etag:
            raise ValueError("replace() needs a document that was read (it carries _etag)")
        with store_errors():
            try:
                return _clean(
                    self.container.replace_item(
                        doc["id"], self._stamp(doc), etag=etag, match_condition=MatchConditions.IfNotModified
                    )
                )
            except CosmosAccessConditionFailedError as exc:
                raise PreconditionFailed() from exc
            except CosmosResourceNotFoundError as exc:
                raise NotFound(f"{self.doc_type} not found") from exc

    def update(
        self,
        item_id: str,
        partition_key: str,
        mutate: Callable[[Document], Document | None],
        *,
        what: str = "Resource",
        loaded: Document | None = None,
    ) -> Document:
        """Read, apply `mutate`, replace with If-Match; on a lost race read again and re-apply.

        `mutate` changes the document in place (or returns a new one) and must be safe to run
        more than once. Concurrent writers therefore lose nothing. `loaded` (a copy this request
        already read, with its `_etag`) is tried first, which saves the read when nobody raced.
        """
        if loaded is not None and loaded.get("_etag"):
            candidate = copy.deepcopy(loaded)
            changed = mutate(candidate)
            candidate = candidate if changed is None else changed
            candidate["_etag"] = loaded["_etag"]
            try:
                return self.replace(candidate)
            except PreconditionFailed:
                pass
        for attempt in range(self.max_update_attempts):
            current = self.get(item_id, partition_key, what=what)
            changed = mutate(current)
            candidate = current if changed is None else changed
            candidate["_etag"] = current["_etag"]
            try:
                return self.replace(candidate)
            except PreconditionFailed:
                self.pause_before_retry(attempt)
        raise Conflict(f"{what} is being changed by others; try again", code="write_conflict")

    def pause_before_retry(self, attempt: int) -> None:
        """Wait a jittered moment after losing write race number `attempt` (0-based), growing for five rounds."""
        time.sleep(random.uniform(0, self.retry_backoff_seconds * min(attempt + 1, 5)))

    def increment(self, item_id: str, partition_key: str, field: str, by: int = 1) -> Document:
        """Atomically add to a numeric field on the server (no read, no ETag race)."""
        return self._patch(item_id, partition_key, [{"op": "incr", "path": f"/{field}", "value": by}])

    def set_fields(self, item_id: str, partition_key: str, fields: Document) -> Document:
        """Set top-level fields on the server in one call (no read, last writer wins): for hints, not state."""
        operations = [{"op": "set", "path": f"/{name}", "value": value} for name, value in fields.items()]
        return self._patch(item_id, partition_key, operations)

    def _patch(self, item_id: str, partition_key: str, operations: list[dict[str, Any]]) -> Document:
        """Apply Cosmos patch operations to one item on the server; NotFound when it is gone."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with store_errors():
            try:
                return _clean(self.container.patch_item(item_id, partition_key, patch_operations=operations))
            except CosmosResourceNotFoundError as exc:
                raise NotFound(f"{self.doc_type} not found") from exc

    def update_fields(
        self,
        item_id: str,
        partition_key: str,
        fields: Document,
        *,
        what: str = "Resource",
        loaded: Document | None = None,
        precondition: Callable[[Document], None] | None = None,
    ) -> tuple[Document, Document]:
        """Set fields with ETag retries; returns the document as it was and as it is (for audit diffs).

        `precondition(current)` runs on every copy before the fields are set and may raise (e.g. a
        Conflict when the caller's expected version is no longer the stored one); `loaded` saves a read.
        """
        before: Document = {}

        def apply(doc: Document) -> None:
            if precondition is not None:
                precondition(doc)
            before.clear()
            before.update(copy.deepcopy(doc))
            doc.update(fields)

        after = self.update(item_id, partition_key, apply, what=what, loaded=loaded)
        return before, after

    def delete(self, item_id: str, partition_key: str) -> bool:
        """Delete one document; False when it was already gone."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with store_errors():
            try:
                self.container.delete_item(item_id, partition_key=partition_key)
                return True
            except CosmosResourceNotFoundError:
                return False


def _parameters(params: QueryParams | None) -> list[dict[str, Any]]:
    return [
        {"name": name if name.startswith("@") else f"@{name}", "value": value} for name, value in (params or {}).items()
    ]


class CrossPartitionReader:
    """Queries that span partitions: only for super-admin surfaces and timers, never public paths."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository

    def query(self, sql: str, params: QueryParams | None = None, *, limit: int = 200) -> list[Document]:
        """Up to `limit` items from every partition."""
        items: list[Document] = []
        with store_errors():
            iterator = self._repository.container.query_items(
                sql, parameters=_parameters(params), enable_cross_partition_query=True, max_item_count=min(limit, 100)
            )
            for doc in iterator:
                items.append(_clean(doc))
                if len(items) >= limit:
                    break
        return items

    def stream(self, sql: str, params: QueryParams | None = None, *, page_size: int = 100) -> Iterator[Document]:
        """Every matching item of every partition, one page in memory at a time (timers that fold big results)."""
        with store_errors():
            iterator = self._repository.container.query_items(
                sql, parameters=_parameters(params), enable_cross_partition_query=True, max_item_count=page_size
            )
            for doc in iterator:
                yield _clean(doc)
