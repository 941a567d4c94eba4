"""Fixtures of the pilot tests: a tenant and pilot helpers (the clock is tests/integration/conftest.py's)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.identity import new_tenant_id


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
