"""A scripted clock for tests that move time."""

from __future__ import annotations

from datetime import datetime


class FakeClock:
    """Replaces shared.platform.clock.utc_now, so everything that reads the time sees the scripted moment."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        """Move the clock (forwards or backwards)."""
        self.moment = moment
