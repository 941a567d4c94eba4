"""Exceptions: what went wrong around a session and needs an operator, as first-class items.

Every domain opens its exceptions here (`open_exception`): bookings (no slot, a reminder that could
not be delivered, an unresponsive customer), connector deliveries that failed (intake automation,
retries), tool executions and telephony. Each is an item of `session_exceptions` (partition =
tenantId) with a type, a message, its session, a status (open / resolved / ignored) and resolution
notes, so the desk lists a tenant's exceptions with one single-partition query.

The session's `bookingExceptions` (contract) stays on the session document as a compact copy of the
exceptions whose type is a booking reason code (the contract's enum), written through
`shared.sessions.aggregate` whenever such an exception opens or changes status, so reading a
session still costs one point read. Tool and telephony failures with their own types live only on
the desk. On the copy an ignored exception reads `resolved` with a note saying it was ignored (the
session's enum has no `ignored`). A session keeps at most MAX_SESSION_COPIES copies (the oldest
closed ones go first). An exception is stored on the desk first and then copied; an action changes
the session copy before the item, so repeating an action that failed half-way repairs the copy.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from shared.exceptions.repository import SessionExceptionRepository
from shared.platform import clock, events
from shared.platform.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from shared.platform.principal import Principal
from shared.platform.store.repository import Document

logger = logging.getLogger("tellgence.exceptions")

CATEGORIES = ("booking", "connector", "reminder", "tool", "telephony")
# The session contract's bookingExceptions enums: only these types are copied onto the session.
SESSION_REASON_CODES = frozenset(
    {
        "no_slot",
        "missing_qualifier",
        "connector_unavailable",
        "customer_unresponsive",
        "booking_writeback_failed",
        "reminder_delivery_failed",
        "auth_verification_failed",
        "core_banking_timeout",
        "complaint_system_degraded",
        "ambiguous_multilingual_transcript",
        "ambiguous_urdu_english",
        "digital_handoff_failed",
    }
)
SESSION_REASON_GROUPS = frozenset(
    {"scheduling", "qualification", "reminder_follow_up", "connector", "customer_responsiveness"}
)
SUGGESTED_ACTIONS = frozenset(
    {"retry", "retry_all_safe", "override_slot", "mark_resolved", "request_callback", "assign_escalate"}
)
CONNECTOR_KINDS = frozenset({"calendar", "telephony", "ehr", "erp", "webhook"})
STATUSES = ("open", "resolved", "ignored")
DESK_LIMIT = 200
MAX_SESSION_COPIES = 50
MAX_MESSAGE_CHARS = 1000
MAX_TITLE_CHARS = 200
MAX_UPDATE_ATTEMPTS = 10

exceptions = SessionExceptionRepository()

Mutation = Callable[[Document], Document | None]


def new_exception_id() -> str:
    """A fresh exception id (32 hex characters)."""
    return uuid.uuid4().hex


def build(
    tenant_id: str,
    session_id: str,
    *,
    category: str,
    error_type: str,
    title: str,
    message: str,
    reason_group: str | None = None,
    connector_kind: str | None = None,
    provider_id: str | None = None,
    suggested_actions: Sequence[str] = ("assign_escalate", "mark_resolved"),
    delivery: Document | None = None,
    exception_id: str | None = None,
    now: str | None = None,
    scenario_id: str | None = None,
) -> Document:
    """A new open exception item (not stored yet): for writers that store it with other work."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown exception category {category!r}")
    unknown = set(suggested_actions) - SUGGESTED_ACTIONS
    if unknown:
        raise ValueError(f"unknown suggested actions {sorted(unknown)}")
    now = now or clock.now_iso()
    doc: Document = {
        "id": exception_id or new_exception_id(),
        "tenantId": tenant_id,
        "sessionId": session_id,
        "category": category,
        "errorType": error_type,
        "title": title[:MAX_TITLE_CHARS],
        "errorMessage": message[:MAX_MESSAGE_CHARS],
        "status": "open",
        "createdAt": now,
        "updatedAt": now,
        "suggestedActions": list(dict.fromkeys(suggested_actions)),
    }
    if reason_group:
        doc["reasonGroup"] = reason_group
    if connector_kind:
        doc["connectorKind"] = connector_kind
    if provider_id:
        doc["providerId"] = provider_id
    if delivery is not None:
        doc["delivery"] = delivery
    if scenario_id:
        doc["scenarioId"] = scenario_id
    doc["onSession"] = is_session_copy_type(doc)
    return doc


def is_session_copy_type(doc: Document) -> bool:
    """Whether the exception is a booking exception the session's contract object carries."""
    return doc.get("errorType") in SESSION_REASON_CODES and doc.get("reasonGroup") in SESSION_REASON_GROUPS


def store(doc: Document) -> Document:
    """Create the item (announced as `exception.opened`); an id that exists already answers the stored one."""
    try:
        stored = exceptions.create(doc)
        events.publish("exception.opened", stored)
        return stored
    except Conflict:
        existing = exceptions.read(doc["id"], doc["tenantId"])
        if existing is None:
            raise
        return existing


def open_exception(
    tenant_id: str,
    session_id: str,
    *,
    category: str,
    error_type: str,
    title: str,
    message: str,
    reason_group: str | None = None,
    connector_kind: str | None = None,
    provider_id: str | None = None,
    suggested_actions: Sequence[str] = ("assign_escalate", "mark_resolved"),
    exception_id: str | None = None,
    session: Document | None = None,
) -> Document:
    """Open an exception on the desk (and its copy on the session when it is a booking exception).

    `session`, when the caller already read the session in this request, saves a read. A session
    that is gone (expired, purged) keeps nothing; the desk item is still stored.
    """
    doc = build(
        tenant_id,
        session_id,
        category=category,
        error_type=error_type,
        title=title,
        message=message,
        reason_group=reason_group,
        connector_kind=connector_kind,
        provider_id=provider_id,
        suggested_actions=suggested_actions,
        exception_id=exception_id,
        scenario_id=(session or {}).get("scenarioId"),
    )
    stored = store(doc)
    if stored["onSession"]:
        sync_session_copies(tenant_id, session_id, [stored], loaded=session)
    logger.info(
        "exception %s opened: %s (%s) for session %s tenant %s",
        stored["id"],
        error_type,
        category,
        session_id,
        tenant_id,
    )
    return stored


def session_copy(doc: Document) -> Document:
    """The contract's bookingExceptions item for an exception (an ignored one reads resolved)."""
    status = "open" if doc["status"] == "open" else "resolved"
    item: Document = {
        "id": doc["id"],
        "reasonCode": doc["errorType"],
        "reasonGroup": doc["reasonGroup"],
        "status": status,
        "title": doc["title"],
        "message": doc["errorMessage"],
        "sessionId": doc["sessionId"],
        "tenantId": doc["tenantId"],
        "createdAt": doc["createdAt"],
        "updatedAt": doc["updatedAt"],
        "suggestedActions": list(doc.get("suggestedActions") or []),
    }
    if doc.get("connectorKind") in CONNECTOR_KINDS:
        item["connectorKind"] = doc["connectorKind"]
    if doc.get("providerId"):
        item["connectorProviderId"] = doc["providerId"]
    if doc["status"] != "open":
        if doc.get("resolvedAt"):
            item["resolvedAt"] = doc["resolvedAt"]
        note = doc.get("resolutionNotes") or ""
        if doc["status"] == "ignored":
            note = f"Ignored by an operator{': ' + note if note else ''}"
        if note:
            item["resolutionNote"] = note[:MAX_MESSAGE_CHARS]
        if doc.get("lastAction") in SUGGESTED_ACTIONS:
            item["lastAction"] = doc["lastAction"]
    return item


def merge_copies(session: Document, docs: Iterable[Document]) -> None:
    """Put the copies of these exceptions on a session document (in place): replace by id, append new, cap."""
    current = [dict(item) for item in session.get("bookingExceptions") or [] if isinstance(item, dict)]
    by_id = {item.get("id"): index for index, item in enumerate(current)}
    for doc in docs:
        if not is_session_copy_type(doc):
            continue
        item = session_copy(doc)
        if item["id"] in by_id:
            current[by_id[item["id"]]] = item
        else:
            by_id[item["id"]] = len(current)
            current.append(item)
    while len(current) > MAX_SESSION_COPIES:
        closed = next((index for index, item in enumerate(current) if item.get("status") != "open"), 0)
        current.pop(closed)
    session["bookingExceptions"] = current


def sync_session_copies(
    tenant_id: str, session_id: str, docs: Sequence[Document], *, loaded: Document | None = None
) -> Document | None:
    """Write the copies onto the session (ETag-safe); None when the session is gone."""
    from shared.sessions import aggregate

    wanted = [doc for doc in docs if is_session_copy_type(doc)]
    if not wanted:
        return loaded
    try:
        return aggregate.update(tenant_id, session_id, lambda session: merge_copies(session, wanted), loaded=loaded)
    except NotFound:
        logger.info("session %s is gone; exception copies kept on the desk only", session_id)
        return None


def update(tenant_id: str, exception_id: str, mutate: Mutation, *, loaded: Document | None = None) -> Document:
    """Apply `mutate` to an exception with ETag safety, reusing a copy read in this request first."""
    if loaded is not None and loaded.get("_etag"):
        candidate = copy.deepcopy(loaded)
        changed = mutate(candidate)
        result = candidate if changed is None else changed
        result["_etag"] = loaded["_etag"]
        with contextlib.suppress(PreconditionFailed):
            return exceptions.replace(result)
    return exceptions.update(exception_id, tenant_id, mutate, what="Exception")


def desk_view(doc: Document) -> dict[str, Any]:
    """The contract's exception object of the desk."""
    view = {
        "id": doc["id"],
        "sessionId": doc["sessionId"],
        "errorType": doc["errorType"],
        "errorMessage": doc["errorMessage"],
        "timestamp": doc["createdAt"],
        "status": doc["status"],
    }
    if doc.get("resolutionNotes"):
        view["resolutionNotes"] = doc["resolutionNotes"]
    return view


def list_exceptions(tenant_id: str, limit: int = DESK_LIMIT) -> list[dict[str, Any]]:
    """The tenant's most recent exceptions, newest first (one single-partition query)."""
    return [desk_view(doc) for doc in exceptions.newest(tenant_id, limit)]


def touching_window(tenant_id: str, start: str, end: str) -> list[Document]:
    """The tenant's exceptions that were open at some moment of [start, end) (ISO instants), for period counts."""
    return exceptions.touching(tenant_id, start, end)


def read(tenant_id: str, exception_id: str) -> Document:
    """One of the tenant's exceptions; NotFound for an unknown id or another tenant's."""
    doc = exceptions.read(exception_id, tenant_id)
    if doc is None:
        raise NotFound("Exception not found", code="exception_not_found")
    return doc


def for_session(tenant_id: str, session_id: str) -> list[Document]:
    """Every exception of one session, oldest first (one single-partition query)."""
    return exceptions.for_session(tenant_id, session_id)


def get_exception(tenant_id: str, exception_id: str) -> dict[str, Any]:
    """One exception's desk view."""
    return desk_view(read(tenant_id, exception_id))


ACTION_STATUS = {"resolve": "resolved", "ignore": "ignored"}


def act(
    principal: Principal, exception_id: str, action: str, notes: str | None, *, ip: str | None = None
) -> dict[str, Any]:
    """Resolve or ignore an open exception; audited. The same action again is a no-op.

    A closed exception cannot take the other action (400): ignoring what was resolved would rewrite
    the record. Closing drops the failed delivery's payload (a retry needs an open exception).
    """
    from shared.audit import service as audit

    tenant_id = principal.tenant_id
    target = ACTION_STATUS[action]
    doc = read(tenant_id, exception_id)
    if doc["status"] == target:
        return desk_view(doc)
    if doc["status"] != "open":
        raise BadRequest(f"The exception was already {doc['status']}", code="exception_closed")
    now = clock.now_iso()
    note = (notes or "").strip()

    def close(current: Document) -> None:
        if current["status"] != "open" and current["status"] != target:
            raise BadRequest(f"The exception was already {current['status']}", code="exception_closed")
        current.update(status=target, updatedAt=now, resolvedAt=now, resolvedBy=principal.user_id)
        current["lastAction"] = "mark_resolved"
        if note:
            current["resolutionNotes"] = note
        delivery = current.get("delivery")
        if isinstance(delivery, dict) and delivery.get("status") == "failed":
            delivery["status"] = "closed"
            delivery.pop("params", None)

    preview = copy.deepcopy(doc)
    close(preview)
    # The session copy first: if the item's write fails, repeating the action repairs both.
    if doc.get("onSession"):
        sync_session_copies(tenant_id, doc["sessionId"], [preview])
    stored = update(tenant_id, exception_id, close, loaded=doc)
    events.publish("exception.resolved", stored)
    changes: dict[str, Any] = {"status": {"from": doc["status"], "to": stored["status"]}}
    if note:
        changes["resolutionNotes"] = {"from": doc.get("resolutionNotes"), "to": note}
    audit.record(
        principal,
        f"session_exception.{action}",
        target_type="sessionException",
        target_id=exception_id,
        tenant_id=tenant_id,
        changes=changes,
        ip=ip,
    )
    return desk_view(stored)
