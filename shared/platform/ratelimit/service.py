"""Fixed-window counters in Cosmos: every instance of the app sees the same count."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from shared.platform.errors import Conflict, NotFound, ServiceUnavailable, TooManyRequests
from shared.platform.settings import get_settings
from shared.platform.store import metering
from shared.platform.store.repository import Repository

logger = logging.getLogger("tellgence.ratelimit")

# Counters outlive their window a little so a late increment never recreates a stale count.
TTL_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `limit` requests per client per `window_seconds` for one operation."""

    limit: int
    window_seconds: int


class CounterRepository(Repository):
    """One counter document per (operation, client, window); partition = id."""

    container_name = "rate_limits"
    doc_type = "rateLimitCounter"


counters = CounterRepository()


def counter_id(operation: str, client: str, window_start: int) -> str:
    """A stable id that never contains characters Cosmos forbids in ids."""
    digest = hashlib.sha256(f"{operation}|{client}|{window_start}".encode()).hexdigest()[:40]
    return f"{operation}-{window_start}-{digest}"


def effective_limit(operation: str, default: RateLimit) -> RateLimit:
    """The operation's limit, overridden by RATE_LIMITS when configured."""
    override = get_settings().rate_limit_for(operation)
    return RateLimit(*override) if override else default


def _count(item_id: str, operation: str, window_start: int, ttl: int) -> int:
    """Add one to the window's counter: one server-side increment, plus a create when the window is new."""
    try:
        with metering.bookkeeping():
            return counters.increment(item_id, item_id, "count")["count"]
    except NotFound:
        pass
    # The first request of a window (one per client and window, so amortized over the window).
    with metering.amortized():
        try:
            return counters.create(
                {"id": item_id, "operation": operation, "windowStart": window_start, "count": 1, "ttl": ttl}
            )["count"]
        except Conflict:
            return counters.increment(item_id, item_id, "count")["count"]


def hit(operation: str, client: str, default: RateLimit, *, now: float | None = None) -> None:
    """Count one request; TooManyRequests with Retry-After once the window's budget is spent."""
    rule = effective_limit(operation, default)
    now = time.time() if now is None else now
    window_start = int(now // rule.window_seconds) * rule.window_seconds
    item_id = counter_id(operation, client, window_start)
    try:
        count = _count(item_id, operation, window_start, rule.window_seconds + TTL_MARGIN_SECONDS)
    except ServiceUnavailable:
        # Failing open: a limiter outage must not take the API down with it.
        logger.warning("rate limiter unavailable; allowing %s", operation)
        return
    if count > rule.limit:
        retry_after = max(1, int(window_start + rule.window_seconds - now))
        raise TooManyRequests(f"Too many requests; try again in {retry_after} seconds", retry_after=retry_after)
