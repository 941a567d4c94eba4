"""Counting Cosmos round trips per request: the cost model of every operation.

When metering is on (the test suite and `make bench` turn it on; it is off in production), the Cosmos
client is built with a request hook in azure-core's CustomHookPolicy that counts every HTTP round
trip, retries and query pages included, into the counter of the request being served. Off, nothing
is installed and nothing is counted.

Calls made inside `amortized()` are counted apart: they fill a per-process cache or open a new
rate-limit window, so they happen once per cache lifetime or window, not once per request. So are
the SDK's own metadata reads (account, database, container, partition ranges), which it caches. The
budget table in docs/ARCHITECTURE.md is about the rest, the calls every request makes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class CallCount:
    """Round trips of one request: those on its own account and those amortized over many.

    `writes` counts the data the request changed (creates, replaces, patches, deletes), leaving out
    amortized bookkeeping such as rate-limit counters and directory caches.
    """

    calls: int = 0
    amortized: int = 0
    writes: int = 0
    _amortizing: int = field(default=0, repr=False)
    _bookkeeping: int = field(default=0, repr=False)


_enabled = False
_current: ContextVar[CallCount | None] = ContextVar("store_call_count", default=None)
_recorded: dict[str, tuple[str, CallCount]] = {}
_recorded_lock = threading.Lock()
MAX_RECORDED = 50_000


def enabled() -> bool:
    """Whether round trips are being counted in this process."""
    return _enabled


def enable(on: bool = True) -> None:
    """Turn metering on or off; the Cosmos client is rebuilt so the hook is (un)installed."""
    global _enabled
    from shared.platform.store import cosmos

    _enabled = on
    cosmos.reset()


def client_options() -> dict[str, Any]:
    """Extra CosmosClient options: the counting hook when metering is on, nothing otherwise."""
    return {"raw_request_hook": _count} if _enabled else {}


def _count(request: Any) -> None:
    counter = _current.get()
    if counter is None:
        return
    http_request = request.http_request
    # Account, database, container and partition-range reads are metadata the SDK caches per process.
    if counter._amortizing or "/docs" not in http_request.url:
        counter.amortized += 1
        return
    counter.calls += 1
    if http_request.method in ("PUT", "PATCH", "DELETE") or (
        http_request.method == "POST" and not http_request.headers.get("x-ms-documentdb-isquery")
    ):
        counter.writes += 0 if counter._bookkeeping else 1


@contextlib.contextmanager
def measure() -> Iterator[CallCount]:
    """Count the round trips made inside the block (in this thread's context)."""
    counter = CallCount()
    token = _current.set(counter)
    try:
        yield counter
    finally:
        _current.reset(token)


@contextlib.contextmanager
def amortized() -> Iterator[None]:
    """Round trips in this block fill a cache or open a window: counted apart from the request's own."""
    counter = _current.get()
    if counter is not None:
        counter._amortizing += 1
    try:
        yield
    finally:
        if counter is not None:
            counter._amortizing -= 1


@contextlib.contextmanager
def bookkeeping() -> Iterator[None]:
    """Round trips in this block count as calls but not as data writes (rate-limit counters)."""
    counter = _current.get()
    if counter is not None:
        counter._bookkeeping += 1
    try:
        yield
    finally:
        if counter is not None:
            counter._bookkeeping -= 1


def record(correlation_id: str, operation: str, count: CallCount) -> None:
    """Keep one request's count for the test client to look up by correlation id."""
    with _recorded_lock:
        if len(_recorded) >= MAX_RECORDED:
            _recorded.clear()
        _recorded[correlation_id] = (operation, count)


def recorded(correlation_id: str) -> tuple[str, CallCount] | None:
    """The operation and count recorded for a correlation id, if any."""
    with _recorded_lock:
        return _recorded.get(correlation_id)
