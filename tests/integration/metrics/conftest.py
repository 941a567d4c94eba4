"""Fixtures of the metrics tests: a drain of the metrics queue (the clock is tests/integration/conftest.py's)."""

from __future__ import annotations

import pytest


@pytest.fixture
def drain(devhost: object):
    """Process the queued messages (the metrics events among them) now, as the host's queue trigger would."""

    def run() -> None:
        devhost.drain_queues(timeout=120)

    return run
