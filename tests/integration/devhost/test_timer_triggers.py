"""Timer triggers through the DevHost API: fire now, runOnStartup, unknown names."""

from __future__ import annotations

import threading
import time

import azure.functions as func
import pytest

from devhost.host import DevHost


def timer_host(calls: list[func.TimerRequest], fired: threading.Event, *, run_on_startup: bool) -> DevHost:
    app = func.FunctionApp()

    # Once a year: the scheduler never reaches it during a test.
    @app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=run_on_startup)
    def weekly_snapshot(timer: func.TimerRequest) -> None:
        calls.append(timer)
        fired.set()

    return DevHost(app, cors_origins=[])


def test_fire_timer_calls_the_function_with_a_timer_request():
    calls: list[func.TimerRequest] = []
    host = timer_host(calls, threading.Event(), run_on_startup=False)
    host.fire_timer("weekly_snapshot")
    host.fire_timer("weekly_snapshot", past_due=True)
    assert all(isinstance(call, func.TimerRequest) for call in calls)
    assert [call.past_due for call in calls] == [False, True]


def test_fire_timer_lets_the_function_error_through():
    app = func.FunctionApp()

    @app.timer_trigger(schedule="0 0 3 * * *", arg_name="timer")
    def nightly_purge(timer: func.TimerRequest) -> None:
        raise RuntimeError("purge failed")

    with pytest.raises(RuntimeError, match="purge failed"):
        DevHost(app, cors_origins=[]).fire_timer("nightly_purge")


def test_run_on_startup_fires_once_when_background_work_starts():
    calls: list[func.TimerRequest] = []
    fired = threading.Event()
    host = timer_host(calls, fired, run_on_startup=True)
    host.start_background()
    try:
        assert fired.wait(5)
        time.sleep(0.2)
    finally:
        host.stop()
    assert len(calls) == 1
    assert calls[0].past_due is False


def test_without_run_on_startup_nothing_fires_at_start():
    calls: list[func.TimerRequest] = []
    host = timer_host(calls, threading.Event(), run_on_startup=False)
    host.start_background()
    time.sleep(0.2)
    host.stop()
    assert calls == []


def test_an_unknown_timer_name_raises_key_error():
    host = timer_host([], threading.Event(), run_on_startup=False)
    with pytest.raises(KeyError):
        host.fire_timer("no_such_timer")
