"""Per-process caches for values that may be a little stale."""

from __future__ import annotations

import threading
import time
from typing import Any

MAX_ENTRIES = 10_000


class TtlCache:
    """A small, bounded, thread-safe per-process cache whose entries expire after a fixed time."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._items: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit and time.monotonic() - hit[0] < self._ttl:
                return hit[1]
            return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()
            self._items[key] = (time.monotonic(), value)

    def forget(self, key: Any) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
