"""Indexing a FunctionApp as the worker does, host.json options, and timers on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import azure.functions as func
import pytest

from devhost.host import DevHost
from devhost.invocation import FunctionIndexError
from devhost.queues import QueueOptions, parse_timespan
from devhost.routing import AmbiguousRoutesError
from devhost.timers import resolve_schedule


def http_app() -> func.FunctionApp:
    return func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


class TestIndexing:
    def test_a_python_parameter_without_a_binding_is_refused(self):
        app = http_app()

        @app.route(route="x/{id}", methods=["GET"])
        def get_x(req: func.HttpRequest, id: str) -> func.HttpResponse:
            return func.HttpResponse("")

        with pytest.raises(FunctionIndexError, match=r"get_x.*declared in Python.*'id'"):
            DevHost(app)

    def test_a_binding_without_a_python_parameter_is_refused(self):
        app = http_app()

        @app.route(route="x", methods=["GET"])
        def get_x() -> func.HttpResponse:
            return func.HttpResponse("")

        with pytest.raises(FunctionIndexError, match=r"declared in the function definition but not in Python.*'req'"):
            DevHost(app)

    def test_output_bindings_are_not_supported(self):
        app = http_app()

        @app.route(route="x", methods=["POST"])
        @app.queue_output(arg_name="out", queue_name="emails", connection="AzureWebJobsStorage")
        def post_x(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse:
            return func.HttpResponse("")

        with pytest.raises(FunctionIndexError, match="queue 'out'"):
            DevHost(app)

    def test_unsupported_triggers_are_refused(self):
        app = http_app()

        @app.blob_trigger(arg_name="blob", path="uploads/{name}", connection="AzureWebJobsStorage")
        def on_blob(blob: func.InputStream) -> None:
            return None

        with pytest.raises(FunctionIndexError, match="blobTrigger"):
            DevHost(app)

    def test_ambiguous_routes_are_refused(self):
        app = http_app()

        @app.route(route="api/cp/sessions/exceptions", methods=["GET"])
        def list_exceptions(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("")

        @app.route(route="api/cp/sessions/{id}", methods=["GET"])
        def get_session(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("")

        with pytest.raises(AmbiguousRoutesError, match="list_exceptions"):
            DevHost(app)

    def test_an_invalid_timer_schedule_is_refused(self):
        app = http_app()

        @app.timer_trigger(schedule="0 */5 * * *", arg_name="timer")
        def every_five(timer: func.TimerRequest) -> None:
            return None

        with pytest.raises(FunctionIndexError, match="every_five"):
            DevHost(app)

    def test_route_prefix_defaults_to_api_when_host_json_sets_none(self):
        def leads_app() -> func.FunctionApp:
            # get_functions() may be called once per app, as in the worker.
            app = http_app()

            @app.route(route="leads", methods=["GET"])
            def list_leads(req: func.HttpRequest) -> func.HttpResponse:
                return func.HttpResponse("")

            return app

        assert DevHost(leads_app(), host_json={}).route_table.routes[0].template.path == "/api/leads"
        assert DevHost(leads_app()).route_table.routes[0].template.path == "/leads"

    def test_fire_timer_by_unknown_name_is_a_key_error(self):
        with pytest.raises(KeyError, match="nope"):
            DevHost(http_app(), host_json={}).fire_timer("nope")


class TestQueueOptions:
    def test_host_json_values_and_overrides(self, tmp_path):
        host_json = tmp_path / "host.json"
        host_json.write_text(
            '{"extensions": {"queues": {"maxDequeueCount": 5, "visibilityTimeout": "00:00:30",'
            ' "maxPollingInterval": "00:00:02", "batchSize": 64}}}'
        )
        host = DevHost(http_app(), host_json=str(host_json), host_overrides={"maxDequeueCount": 2})
        assert host.queue_options == QueueOptions(
            max_dequeue_count=2,
            visibility_timeout=timedelta(seconds=30),
            max_polling_interval=timedelta(seconds=2),
            batch_size=32,
        )

    def test_platform_defaults(self):
        assert QueueOptions.from_host_json({}) == QueueOptions(5, timedelta(0), timedelta(minutes=1), 16)

    def test_timespans(self):
        assert parse_timespan("00:00:30") == timedelta(seconds=30)
        assert parse_timespan("01:02:03.5") == timedelta(hours=1, minutes=2, seconds=3.5)
        assert parse_timespan("1.00:00:00") == timedelta(days=1)
        assert parse_timespan("00:10") == timedelta(minutes=10)
        with pytest.raises(ValueError):
            parse_timespan("30s")
        with pytest.raises(ValueError, match="visibilityTimeout"):
            QueueOptions.from_host_json({"visibilityTimeout": "soon"})


class FakeTime:
    """A clock and a stop event in one: waiting advances the clock instantly."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.stopped = False

    def clock(self) -> datetime:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        self.now += timedelta(seconds=timeout or 0)
        return self.stopped

    def is_set(self) -> bool:
        return self.stopped


class TestTimerScheduling:
    def build(self, fake: FakeTime, calls: list, *, overrun_first: float = 0.0, run_on_startup: bool = False):
        app = http_app()

        @app.timer_trigger(schedule="*/5 * * * * *", arg_name="timer", run_on_startup=run_on_startup)
        def tick(timer: func.TimerRequest) -> None:
            calls.append((fake.now, timer.past_due))
            if len(calls) == 1:
                fake.now += timedelta(seconds=overrun_first)
            if len(calls) == 3:
                fake.stopped = True

        return DevHost(app).timers["tick"]

    def test_fires_on_schedule(self):
        start = datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)
        fake, calls = FakeTime(start), []
        self.build(fake, calls).run(fake, clock=fake.clock)
        assert calls == [
            (datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC), False),
            (datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC), False),
            (datetime(2026, 1, 1, 0, 0, 15, tzinfo=UTC), False),
        ]

    def test_a_run_that_overran_makes_the_next_one_past_due_and_skips_the_missed_ones(self):
        start = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
        fake, calls = FakeTime(start), []
        self.build(fake, calls, overrun_first=12).run(fake, clock=fake.clock)
        assert calls == [
            (datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC), False),
            # Due at :10, started at :17 when the first run ended; :15 collapses into it.
            (datetime(2026, 1, 1, 0, 0, 17, tzinfo=UTC), True),
            (datetime(2026, 1, 1, 0, 0, 20, tzinfo=UTC), False),
        ]

    def test_run_on_startup_fires_first_and_is_not_past_due(self):
        start = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
        fake, calls = FakeTime(start), []
        self.build(fake, calls, run_on_startup=True).run(fake, clock=fake.clock)
        assert calls[0] == (start, False)
        assert calls[1] == (datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC), False)

    def test_a_failing_run_does_not_stop_the_schedule(self):
        app = http_app()
        fake, calls = FakeTime(datetime(2026, 1, 1, tzinfo=UTC)), []

        @app.timer_trigger(schedule="0 * * * * *", arg_name="timer")
        def flaky(timer: func.TimerRequest) -> None:
            calls.append(fake.now)
            fake.stopped = len(calls) == 2
            raise RuntimeError("timer failure")

        DevHost(app).timers["flaky"].run(fake, clock=fake.clock)
        assert len(calls) == 2

    def test_schedule_from_an_app_setting(self):
        assert resolve_schedule("%PURGE_SCHEDULE%", {"PURGE_SCHEDULE": "0 0 3 * * *"}) == "0 0 3 * * *"
        assert resolve_schedule("0 0 3 * * *", {}) == "0 0 3 * * *"
        with pytest.raises(ValueError, match="PURGE_SCHEDULE"):
            resolve_schedule("%PURGE_SCHEDULE%", {})
