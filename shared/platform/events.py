"""Domain events: a domain announces a fact it just stored; the domains that care hear of it.

A domain that changes something others count or react to (a session started, a booking confirmed, a
lead moved) calls `publish(topic, ...)` after its own write. Who hears what is declared in one place,
`shared/subscriptions.py`, as "module:function" references that are imported on the first publication
(the cold start imports none of them). So dependencies point one way: the metrics, evidence and
integrations domains know the sessions domain; the sessions domain knows none of them.

A subscriber that raises is logged and skipped — the publisher's fact is already stored, and each
subscriber repairs what it missed (reconciliation timers, reindexing). `publish(..., strict=True)` lets
a subscriber's failure stop the publisher instead, for steps that must happen before it goes on.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from shared.platform.references import resolve

logger = logging.getLogger("tellgence.events")

# The topics domains publish, and what they pass (documents as stored).
TOPICS = {
    "session.started": "the session document",
    "session.finalized": "the session document, the call's extracted data (kept even where retention drops it), "
    "and whether finalize created the session (it was never started on its own)",
    "session.purging": "the session about to be redacted by the retention purge (strict: a failure postpones it)",
    "session.purged": "the session after the retention purge redacted it",
    "booking.confirmed": "the session document after its booking's first confirmation",
    "lead.stored": "the lead document before (None when created) and after",
    "exception.opened": "the exception item",
    "exception.resolved": "the exception item after it was resolved or ignored",
    "realtime.stats": "the runtime session, the latency samples (ms) of one stats report, and the first sample's index",
    "tool.executed": "the tool execution journal item when it finished",
    "pilot.moved": "the pilot document before (None when created) and after",
    "evidence.indexed": "a session's evidence index row before (None when new) and after it was written",
}

_subscribers: dict[str, list[str]] = defaultdict(list)
_lock = threading.Lock()


def subscribe(topic: str, reference: str) -> None:
    """Deliver `topic` to the function named "module:function" (imported on first use); repeats are no-ops."""
    if topic not in TOPICS:
        raise KeyError(f"unknown event topic {topic!r}")
    with _lock:
        if reference not in _subscribers[topic]:
            _subscribers[topic].append(reference)


def publish(topic: str, *args: Any, strict: bool = False) -> None:
    """Tell every subscriber of `topic`; a failing subscriber is logged, or re-raised when `strict`."""
    if topic not in TOPICS:
        raise KeyError(f"unknown event topic {topic!r}")
    with _lock:
        references = list(_subscribers.get(topic, ()))
    for reference in references:
        try:
            resolve(reference)(*args)
        except Exception:
            if strict:
                raise
            logger.exception("event subscriber %s failed on %s", reference, topic)
