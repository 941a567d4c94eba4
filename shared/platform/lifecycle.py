"""Process-wide state that must be forgotten together when the environment changes (dev host, tests).

The platform resets its own clients; a domain that keeps a per-process cache registers the function that
forgets it with `on_reset` when its module is imported, so the platform never has to know the domains.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

_resets: list[Callable[[], None]] = []
_lock = threading.Lock()


def on_reset(forget: Callable[[], None]) -> Callable[[], None]:
    """Register `forget` to run on every reset (usable as a decorator); registering twice is a no-op."""
    with _lock:
        if forget not in _resets:
            _resets.append(forget)
    return forget


def reset_process_state() -> None:
    """Re-read settings and drop every client and cache built from the old ones."""
    from shared.platform import outbound
    from shared.platform.settings import reload_settings
    from shared.platform.store import blobs, clients, cosmos, queues

    reload_settings()
    cosmos.reset()
    blobs.reset()
    queues.reset()
    clients.reset()
    outbound.reset()
    with _lock:
        registered = list(_resets)
    for forget in registered:
        forget()
