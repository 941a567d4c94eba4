"""Timer triggers: NCRONTAB schedules in UTC, runOnStartup and past-due invocations."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

# The concrete class the worker builds; `func.TimerRequest` is its abstract base.
from azure.functions.timer import TimerRequest

from devhost import ncrontab
from devhost.invocation import IndexedFunction

logger = logging.getLogger("devhost.timers")

# An invocation that starts later than this after its scheduled time is past due.
PAST_DUE_AFTER = timedelta(seconds=1)


class Waiter(Protocol):
    """What the scheduler sleeps on: `threading.Event` (tests pass a fake that advances a fake clock)."""

    def wait(self, timeout: float | None = None) -> bool: ...

    def is_set(self) -> bool: ...


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def resolve_schedule(schedule: str, environ: dict[str, str] | None = None) -> str:
    """The NCRONTAB expression, resolving a `%SETTING%` app-setting reference as the host does."""
    text = schedule.strip()
    if len(text) > 2 and text.startswith("%") and text.endswith("%"):
        setting = text[1:-1]
        value = (environ if environ is not None else os.environ).get(setting)
        if not value:
            raise ValueError(f"timer schedule refers to app setting {setting!r}, which is not set")
        return value.strip()
    return text


class TimerJob:
    """One timer-triggered function and its schedule."""

    def __init__(self, function: IndexedFunction) -> None:
        self.function = function
        self.schedule = resolve_schedule(function.trigger.schedule)
        self._cron = ncrontab.parse(self.schedule)
        self.run_on_startup = bool(getattr(function.trigger, "run_on_startup", False))

    @property
    def name(self) -> str:
        """The function's name."""
        return self.function.name

    def fire(self, *, past_due: bool = False) -> None:
        """Invoke the function now with a TimerRequest; its exception propagates."""
        self.function.invoke(TimerRequest(past_due=past_due, schedule={"AdjustForDST": True}))

    def next_after(self, moment: datetime) -> datetime:
        """The first scheduled time strictly after `moment`."""
        return self._cron.next_after(moment)

    def run(self, stop: Waiter, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Fire on schedule until `stop` is set (runOnStartup first); failures are logged, never fatal."""
        if self.run_on_startup and not stop.is_set():
            self._fire_logged(past_due=False)
        scheduled = self.next_after(clock())
        while not stop.is_set():
            delay = (scheduled - clock()).total_seconds()
            if delay > 0 and stop.wait(delay):
                return
            if stop.is_set():
                return
            started = clock()
            self._fire_logged(past_due=started - scheduled > PAST_DUE_AFTER)
            # Occurrences missed while this run was late or overran collapse into the earliest one.
            scheduled = self.next_after(max(scheduled, started))

    def _fire_logged(self, *, past_due: bool) -> None:
        try:
            self.fire(past_due=past_due)
        except Exception:
            logger.exception("timer function %s failed", self.name)


def start_timer_thread(job: TimerJob, stop: threading.Event) -> threading.Thread:
    """Run a timer job on its own daemon thread."""
    thread = threading.Thread(target=job.run, args=(stop,), name=f"devhost-timer-{job.name}", daemon=True)
    thread.start()
    return thread
