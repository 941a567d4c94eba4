"""Tool executions and approvals as a stored session records them, in the shape the bundle builder takes.

A server-side tool journal (one item per execution, with timings and previews) is the better source; the pack,
the index and the PDFs take `tool_executions` and `approvals` as arguments so such a journal can be passed in.
Without one, this module reads what finalize stored:

* tool executions: each name in `toolsUsed` (finalize keeps them unique, in the order reported) is one call that
  succeeded — finalize records only the tools a call used — dated at the session's `finalizedAt`, the moment the
  use was recorded (the exact start time is not known), with the id `<sessionId>:tool:<n>`;
* approvals: timeline events whose type starts with `approval` (`approval_requested`, `approval_granted`,
  `approval_rejected`, ...), in timeline order: requested at the event's timestamp; the decision from the type's
  last word (granted/approved → approved, rejected/denied/declined → rejected, anything else → pending); the
  event's `system` as the reviewer when given, its title and description as the note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

APPROVED_WORDS = frozenset({"approved", "granted", "accepted"})
REJECTED_WORDS = frozenset({"rejected", "denied", "declined"})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _event_type(event: Mapping[str, Any]) -> str:
    return re.sub(r"[\s-]+", "_", _text(event.get("type")).strip().lower())


def _recorded_at(session: Mapping[str, Any]) -> str:
    # Finalize always stores finalizedAt; an unfinished session has at least its creation time.
    return _text(session.get("finalizedAt") or session.get("createdAt")) or "unknown"


def tool_executions(session: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The session's `toolsUsed` as successful executions recorded at finalize."""
    recorded_at = _recorded_at(session)
    session_id = _text(session.get("id"))
    names = [name for name in session.get("toolsUsed") or [] if isinstance(name, str) and name]
    return [
        {"id": f"{session_id}:tool:{index + 1}", "tool": name, "startedAt": recorded_at, "status": "success"}
        for index, name in enumerate(names)
    ]


def _decision(event_type: str) -> str:
    last = event_type.rsplit("_", 1)[-1]
    if last in APPROVED_WORDS:
        return "approved"
    if last in REJECTED_WORDS:
        return "rejected"
    return "pending"


def approvals(session: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Approval events of the session's timeline as the bundle's approvals."""
    items = []
    for index, event in enumerate(session.get("timelineEvents") or []):
        if not isinstance(event, Mapping):
            continue
        event_type = _event_type(event)
        if not event_type.startswith("approval"):
            continue
        at = _text(event.get("timestamp")) or _recorded_at(session)
        item: dict[str, Any] = {
            "id": _text(event.get("id")) or f"evt-{index + 1}",
            "requestedAt": at,
            "decision": _decision(event_type),
        }
        if item["decision"] != "pending":
            item["decidedAt"] = at
        if _text(event.get("system")).strip():
            item["reviewer"] = _text(event["system"]).strip()
        note = " — ".join(
            part for part in (_text(event.get("title")).strip(), _text(event.get("description")).strip()) if part
        )
        if note:
            item["note"] = note
        items.append(item)
    return items
