"""Persistence of realtime runtime sessions, their utterances and their stats reports (partition = sessionId).

Only `shared.realtime` imports this module. A runtime session is one document (id = partition = its
id); utterances and stats reports are items of their own in the same partition of their containers, so
a session with 10,000 utterances is still one small document plus 10,000 small items.
"""

from __future__ import annotations

from typing import Any

from shared.platform.errors import NotFound
from shared.platform.store.repository import Document, Repository, _clean, store_errors


class RuntimeSessionRepository(Repository):
    """One document per runtime session: state, counters, latest media stats and latency summary."""

    container_name = "realtime_sessions"
    doc_type = "realtimeRuntimeSession"

    def patch_if_state(self, session_id: str, state: str, operations: list[dict[str, Any]]) -> Document | None:
        """Apply patch operations on the server only while the session is in `state` (one call, no read).

        Returns the document as patched; None when the session is in another state; NotFound when absent.
        """
        from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosResourceNotFoundError

        # States are lowercase literals from shared.realtime.states, never caller text.
        condition = f"from c where c.state = '{state}'"
        with store_errors():
            try:
                return _clean(
                    self.container.patch_item(
                        session_id, session_id, patch_operations=operations, filter_predicate=condition
                    )
                )
            except CosmosAccessConditionFailedError:
                return None
            except CosmosResourceNotFoundError as exc:
                raise NotFound("Runtime session not found", code="session_not_found") from exc

    def patch(self, session_id: str, operations: list[dict[str, Any]]) -> Document:
        """Apply patch operations on the server unconditionally (compensations)."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        with store_errors():
            try:
                return _clean(self.container.patch_item(session_id, session_id, patch_operations=operations))
            except CosmosResourceNotFoundError as exc:
                raise NotFound("Runtime session not found", code="session_not_found") from exc


class UtteranceRepository(Repository):
    """Append-only utterances, one item each, ordered by the sequence number the session's counter gave them."""

    container_name = "realtime_utterances"
    doc_type = "realtimeUtterance"

    def tail(self, session_id: str, last_seq: int, limit: int) -> list[Document]:
        """The utterances numbered above `last_seq - limit`, in order (a range on the sequence, no sort of the log)."""
        items = self.query(
            "SELECT * FROM c WHERE c.sessionId = @sessionId AND c.seq > @after",
            {"sessionId": session_id, "after": max(0, last_seq - limit)},
            session_id,
            limit=limit * 2,
        )
        # A compensated failure can leave two items with one number; order them stably and keep the newest.
        items.sort(key=lambda item: (item.get("seq", 0), item.get("createdAt", 0), item["id"]))
        return items[-limit:]


class StatsReportRepository(Repository):
    """Every media stats report a runtime session received, one item each."""

    container_name = "realtime_stats"
    doc_type = "realtimeStatsReport"
