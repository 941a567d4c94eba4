"""Fixtures of the metrics tests: a controllable clock, and a drain of the metrics queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest


class FakeClock:
    """Replaces shared.platform.clock.utc_now, so sessions, rollups and views all see the scripted time."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        """Move the clock (forwards or backwards)."""
        self.moment = moment


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """A clock the test moves; the real one is back after the test."""
    from shared.platform import clock

    fake = FakeClock(clock.utc_now())
    monkeypatch.setattr(clock, "utc_now", fake)
    yield fake


@pytest.fixture
def drain(devhost: object):
    """Process the queued messages (the metrics events among them) now, as the host's queue trigger would."""

    def run() -> None:
        devhost.drain_queues(timeout=120)

    return run
