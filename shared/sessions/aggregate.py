"""The session aggregate: the only way any domain reads or changes a session.

A session is three kinds of items: the session document (container `sessions`, partition = its
tenant), its handle (container `session_handles`, partition = the session id: tenant, key hash,
expiry and the live call state) and append-only logs (channel events). Bookings, automation,
retention, finalize, call state, tools and evidence all go through these functions; no other module
touches those containers.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

from shared.platform import clock
from shared.platform.errors import NotFound, PreconditionFailed, ServiceError
from shared.platform.store.repository import Document, Page
from shared.sessions.access import SessionGrant
from shared.sessions.repository import ChannelEventRepository, SessionHandleRepository, SessionRepository

Mutation = Callable[[Document], Document | None]

sessions = SessionRepository()
handles = SessionHandleRepository()
channel_events = ChannelEventRepository()


def is_expired(doc: Document) -> bool:
    """Whether the session's access window has closed."""
    expires_at = doc.get("expiresAt")
    return bool(expires_at) and clock.parse_iso(expires_at) <= clock.utc_now()


def create(session: Document, handle: Document) -> Document:
    """Store a new session and its handle (returns the session as stored); no half-written session remains."""
    stored = sessions.create(session)
    try:
        handles.create(handle)
    except ServiceError:
        with contextlib.suppress(ServiceError):
            sessions.delete(session["id"], session["tenantId"])
        raise
    return stored


def read_live(tenant_id: str, session_id: str) -> Document:
    """A tenant's session by id; NotFound when absent or expired."""
    doc = sessions.read(session_id, tenant_id)
    if doc is None or is_expired(doc):
        raise NotFound("Session not found")
    return doc


def read_handle(session_id: str) -> Document:
    """A session's handle by id; NotFound when absent or expired."""
    doc = handles.read(session_id, session_id)
    if doc is None or is_expired(doc):
        raise NotFound("Session not found")
    return doc


def locate(session_id: str) -> str:
    """The tenant a live session belongs to (one point read of its handle), for callers that know only its id."""
    return read_handle(session_id)["tenantId"]


def load(grant: SessionGrant) -> Document:
    """The session a grant opens (already read while proving access, or read now)."""
    return grant.session if grant.session is not None else read_live(grant.tenant_id, grant.session_id)


def load_handle(grant: SessionGrant) -> Document:
    """The handle (with the call state) a grant opens."""
    return grant.handle if grant.handle is not None else read_handle(grant.session_id)


def update(
    tenant_id: str,
    session_id: str,
    mutate: Mutation,
    *,
    loaded: Document | None = None,
    include_expired: bool = False,
) -> Document:
    """Apply `mutate` to a live session with ETag safety; `loaded` (a copy read in this request) saves a read.

    Only the retention purge changes a session whose access window has closed (`include_expired`).

    `mutate` changes the document in place or returns a new one, and must be safe to run again on a
    fresher copy: a lost race re-reads and re-applies it.
    """
    if loaded is not None and loaded.get("_etag"):
        with contextlib.suppress(PreconditionFailed):
            return sessions.replace(_mutated_copy(loaded, mutate))

    def guarded(doc: Document) -> Document | None:
        if is_expired(doc) and not include_expired:
            raise NotFound("Session not found")
        return mutate(doc)

    return sessions.update(session_id, tenant_id, guarded, what="Session")


def update_handle(session_id: str, mutate: Mutation, *, loaded: Document | None = None) -> Document:
    """Apply `mutate` to a session's handle (the call state) with ETag safety, like `update`."""
    if loaded is not None and loaded.get("_etag"):
        with contextlib.suppress(PreconditionFailed):
            return handles.replace(_mutated_copy(loaded, mutate))
    return handles.update(session_id, session_id, mutate, what="Session")


def _mutated_copy(loaded: Document, mutate: Mutation) -> Document:
    # A deep copy: the caller's document stays as it was read if the write loses its race.
    candidate = copy.deepcopy(loaded)
    changed = mutate(candidate)
    result = candidate if changed is None else changed
    result["_etag"] = loaded["_etag"]
    return result


def append_channel_event(session_id: str, tenant_id: str, event: Document) -> Document:
    """Append one channel event to the session's log (its own item; the log never grows a document)."""
    return channel_events.create({**event, "sessionId": session_id, "tenantId": tenant_id})


def channel_events_of(session_id: str, limit: int = 500) -> list[Document]:
    """A session's channel events in order."""
    return channel_events.for_session(session_id, limit)


def count(tenant_id: str, where: list[str], params: dict[str, Any]) -> int:
    """How many of a tenant's sessions match the filters (single partition)."""
    return sessions.count_for_tenant(tenant_id, where, params)


def query(tenant_id: str, sql: str, params: dict[str, Any], *, limit: int | None = None) -> list[Document]:
    """A single-partition query over one tenant's sessions."""
    return sessions.query(sql, {"tenantId": tenant_id, **params}, tenant_id, limit=limit)


def page(tenant_id: str, sql: str, params: dict[str, Any], *, page_size: int, continuation: str | None) -> Page:
    """One page of a single-partition query over one tenant's sessions."""
    return sessions.page(
        sql, {"tenantId": tenant_id, **params}, tenant_id, page_size=page_size, continuation=continuation
    )


def expired_for_purge(now: str, limit: int) -> list[Document]:
    """Sessions whose retention ran out and that were not purged yet (the retention timer only)."""
    return sessions.expired_artifacts(now, limit)


def tenants_active_between(start: str, end: str) -> set[str]:
    """Tenants whose sessions were created, finalized or first confirmed in [start, end) (timers only)."""
    return sessions.tenants_active_between(start, end)
