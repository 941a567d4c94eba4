"""DevHost: indexes a FunctionApp like the worker and runs its HTTP, queue and timer triggers locally."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devhost.http import HttpBridge
from devhost.invocation import FunctionIndexError, IndexedFunction, index_functions
from devhost.queues import QueueOptions, QueuePump
from devhost.routing import RouteTable, routes_from_functions
from devhost.timers import TimerJob, start_timer_thread

logger = logging.getLogger("devhost.host")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STORAGE_SETTING = "AzureWebJobsStorage"
# The platform's default when host.json sets no extensions.http.routePrefix.
DEFAULT_ROUTE_PREFIX = "api"
_DRAIN_POLL_SECONDS = 0.05
_STOP_JOIN_SECONDS = 10.0


def load_host_json(host_json: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
    """host.json as a dict: given as a mapping, a path, or None for the project's own."""
    if host_json is None:
        host_json = PROJECT_ROOT / "host.json"
    if isinstance(host_json, Mapping):
        return json.loads(json.dumps(host_json))
    return json.loads(Path(host_json).read_text(encoding="utf-8"))


class DevHost:
    """The local stand-in for the Functions host: `.asgi` for HTTP, queue pumps and timers for the rest."""

    def __init__(
        self,
        app: Any,
        *,
        host_json: Mapping[str, Any] | str | Path | None = None,
        storage_connection_string: str | None = None,
        cors_origins: Sequence[str] | None = None,
        host_overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.host_json = load_host_json(host_json)
        extensions = self.host_json.get("extensions") or {}
        queue_settings = {**(extensions.get("queues") or {}), **(host_overrides or {})}
        self.queue_options = QueueOptions.from_host_json(queue_settings)
        http_settings = extensions.get("http") or {}
        self.route_prefix: str = http_settings.get("routePrefix", DEFAULT_ROUTE_PREFIX) or ""
        self.functions: dict[str, IndexedFunction] = index_functions(app.get_functions(), PROJECT_ROOT)
        http_functions = [entry.function for entry in self.functions.values() if entry.trigger_type == "httpTrigger"]
        self.route_table = RouteTable(routes_from_functions(http_functions, self.route_prefix))
        self.asgi = HttpBridge(self.route_table, cors_origins=cors_origins, functions=self.functions)
        self.timers: dict[str, TimerJob] = {}
        for entry in self.functions.values():
            if entry.trigger_type == "timerTrigger":
                try:
                    self.timers[entry.name] = TimerJob(entry)
                except ValueError as error:
                    raise FunctionIndexError(f"timer function {entry.name!r}: {error}") from error
        self._storage_connection_string = storage_connection_string
        self._pumps: list[QueuePump] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def queue_functions(self) -> list[IndexedFunction]:
        """The queue-triggered functions."""
        return [entry for entry in self.functions.values() if entry.trigger_type == "queueTrigger"]

    def drain_queues(self, timeout: float = 30.0) -> int:
        """Process every trigger queue until all are empty (retries waited for) or `timeout`; returns invocations."""
        pumps = self._queue_pumps()
        deadline = time.monotonic() + timeout
        invocations = 0
        while True:
            received = 0
            for pump in pumps:
                batch_received, batch_invocations = pump.process_batch()
                received += batch_received
                invocations += batch_invocations
            if not received and all(pump.pending() == 0 for pump in pumps):
                return invocations
            if time.monotonic() >= deadline:
                logger.warning("drain_queues gave up after %.1f s with messages still queued", timeout)
                return invocations
            if not received:
                time.sleep(_DRAIN_POLL_SECONDS)

    def fire_timer(self, name: str, *, past_due: bool = False) -> None:
        """Invoke a timer-triggered function now, by function name; its exception propagates."""
        job = self.timers.get(name)
        if job is None:
            raise KeyError(f"no timer-triggered function named {name!r} (timers: {', '.join(sorted(self.timers))})")
        job.fire(past_due=past_due)

    def start_background(self) -> None:
        """Start the queue pollers and the timer schedulers (runOnStartup timers fire now)."""
        if self._threads:
            raise RuntimeError("the dev host's background work is already running")
        self._stop = threading.Event()
        for pump in self._queue_pumps():
            thread = threading.Thread(
                target=pump.run, args=(self._stop,), name=f"devhost-queue-{pump.function.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        for job in self.timers.values():
            self._threads.append(start_timer_thread(job, self._stop))

    def stop(self) -> None:
        """Stop the background work, waiting for running invocations to finish."""
        self._stop.set()
        for thread in self._threads:
            thread.join(_STOP_JOIN_SECONDS)
            if thread.is_alive():
                logger.warning("%s is still running after %.0f s", thread.name, _STOP_JOIN_SECONDS)
        self._threads = []

    def __enter__(self) -> DevHost:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _queue_pumps(self) -> list[QueuePump]:
        if self._pumps is None:
            self._pumps = [
                QueuePump(entry, self._connection_string(entry), self.queue_options) for entry in self.queue_functions
            ]
        return self._pumps

    def _connection_string(self, entry: IndexedFunction) -> str:
        setting = getattr(entry.trigger, "connection", None) or STORAGE_SETTING
        if setting == STORAGE_SETTING and self._storage_connection_string:
            return self._storage_connection_string
        value = os.environ.get(setting, "")
        if not value:
            raise RuntimeError(f"queue function {entry.name!r}: connection setting {setting!r} is not set")
        return value
