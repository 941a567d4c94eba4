"""Fixtures of the pilot tests: a controllable clock, a tenant, and pilot helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.support.identity import new_tenant_id


class FakeClock:
    """Replaces shared.platform.clock.utc_now, so sessions, bookings, snapshots and tokens see the scripted time."""

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
def tenant() -> str:
    return new_tenant_id("pilot")


def pilot_body(**overrides: Any) -> dict[str, Any]:
    """A createPilot body."""
    body: dict[str, Any] = {
        "organizationName": "Riverside Family Dental",
        "primaryContact": {"name": "Avery Champion", "email": "avery.champion@riverside-dental.test"},
        "verticalPack": "healthcare",
        "successCriteria": "Answer 95% of after-hours calls; book 20 appointments a week.",
        "pilotStartDate": "2026-03-02",
        "pilotEndDate": "2026-04-27",
    }
    body.update(overrides)
    return body


def create_pilot(client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """POST /api/cp/pilots and return the created pilot."""
    response = client.post("/api/cp/pilots", json=pilot_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
