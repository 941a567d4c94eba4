"""Running one function in several threads at once, for tests of concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


def run_in_threads(target: Callable[..., object], calls: Iterable[tuple], timeout: float | None = None) -> None:
    """Call target once per argument tuple, each call in its own thread, and wait for them all."""
    # Every thread starts before the first join, so the calls really overlap.
    threads = [threading.Thread(target=target, args=args) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
