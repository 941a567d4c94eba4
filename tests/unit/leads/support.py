"""Request bodies and contract schemas shared by the lead unit tests."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from tests.support.contract import load_contract

NOW = "2026-03-01T12:00:00.000Z"


def lead_body(**overrides: Any) -> dict[str, Any]:
    """A createLead body as the demo web app sends it."""
    body: dict[str, Any] = {
        "name": "Jane Smith",
        "email": "jane@acme.com",
        "company": "Acme Corp",
        "role": "VP of Operations",
        "phone": "+1-555-0100",
        "source": "demo-results",
        "sourcePath": "/demo/insurance-fnol/results",
        "referrer": "https://www.google.com/",
        "utmSource": "google",
        "utmMedium": "cpc",
        "utmCampaign": "insurance-fnol",
        "scenarioId": "insurance-fnol",
        "scenarioTitle": "Insurance FNOL",
        "timestamp": "2026-03-01T11:59:00.000Z",
        "sessionDuration": 240,
        "toolsInvoked": ["lookup_policy", "create_claim", "lookup_policy"],
        "beatsCompleted": 4,
        "totalBeats": 5,
        "timelineEvents": [{"title": "Policy found", "description": "Policy 123", "timestamp": "11:50"}],
    }
    return {**body, **overrides}


def mid_demo_body(**overrides: Any) -> dict[str, Any]:
    """A createMidDemoLead body."""
    body: dict[str, Any] = {
        "email": "jane@acme.com",
        "company": "Acme Corp",
        "role": "Operations Director",
        "scenario": "insurance-fnol",
        "sessionId": "s-123",
        "sourcePath": "/demo/insurance-fnol",
        "utmSource": "linkedin",
        "utmMedium": "paid-social",
        "utmCampaign": "demo-funnel",
        "source": "mid-demo-capture",
    }
    return {**body, **overrides}


def contact_body(**overrides: Any) -> dict[str, Any]:
    """A createContact body."""
    body: dict[str, Any] = {
        "name": "Jane Smith",
        "email": "jane@acme.com",
        "company": "Acme Corp",
        "role": "Practice Manager",
        "phone": "+1-555-0100",
        "primaryInterest": "Healthcare intake automation",
        "currentSystem": "Athenahealth + RingCentral",
        "implementationTimeline": "Within 30 days",
        "message": "I want a demo for my 200-person team.",
    }
    return {**body, **overrides}


def lead_object_schema() -> dict[str, Any]:
    """The contract's lead object (GET /api/cp/leads/{leadId} 200)."""
    operation = load_contract()["paths"]["/api/cp/leads/{leadId}"]["get"]
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


@cache
def _lead_validator() -> Draft202012Validator:
    schema = lead_object_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_lead_object(instance: Any) -> None:
    """Fail with every contract violation of a lead object."""
    errors = sorted(_lead_validator().iter_errors(instance), key=lambda error: list(error.absolute_path))
    assert not errors, [f"{list(error.absolute_path)}: {error.message}" for error in errors]
