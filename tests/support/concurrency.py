"""Running one function in several threads at once, for tests of concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any


def run_in_threads(target: Callable[..., object], calls: Iterable[tuple], timeout: float | None = None) -> None:
    """Call target once per argument tuple, each call in its own thread, and wait for them all."""
    # Every thread starts before the first join, so the calls really overlap.
    threads = [threading.Thread(target=target, args=args) for args in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)


def race_statuses(asgi: object, requests: list[Callable[[Any], Any]]) -> list[int]:
    """Send each request from a contract client of its own, all released at once; their status codes."""
    from tests.support.client import ContractClient

    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []

    def send(request: Callable[[Any], Any]) -> None:
        with ContractClient(asgi) as http:
            http.check_budget = False  # racing writers retry, so their round trips vary
            barrier.wait()
            statuses.append(request(http).status_code)

    run_in_threads(send, [(request,) for request in requests])
    return statuses
