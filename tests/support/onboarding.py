"""Helpers for onboarding and workflow tests: profile answers, a valid workflow graph, stored documents."""

from __future__ import annotations

from typing import Any

WEBHOOK_SECRET = "whsec-onboarding-test-secret-7c41d9"
PERSONA = "dental_front_desk"


def answers(**overrides: Any) -> dict[str, Any]:
    """A complete createFastStartProfile body for a dental practice."""
    body: dict[str, Any] = {
        "companyName": "Lakeside Family Dental",
        "businessDescription": "A two-chair family dental practice in Madison.",
        "primaryUseCase": "healthcare",
        "personaId": PERSONA,
        "greeting": "Thanks for calling Lakeside Family Dental!",
        "intakeFields": ["name", "dateOfBirth", "insurance"],
        "summaryRecipients": ["frontdesk@lakeside-dental.test"],
        "escalationContact": "office.manager@lakeside-dental.test",
        "faqs": [{"question": "Do you take Delta Dental?", "answer": "Yes, we are in network."}],
    }
    body.update(overrides)
    return {name: value for name, value in body.items() if value is not None}


def create_profile(client: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """POST a profile and return its item (asserting the 201)."""
    response = client.post("/api/cp/onboarding/fast-start", json=answers(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["item"]


def workflow_graph() -> dict[str, Any]:
    """A valid graph: intake → condition → demo CRM lead (retrying) or a hand-off → end."""
    nodes = [
        {"id": "ask", "type": "intake", "position": {"x": 0, "y": 0}, "data": {"label": "Ask", "fields": ["name"]}},
        {
            "id": "insured",
            "type": "condition",
            "position": {"x": 0, "y": 100},
            "data": {"field": "insurance", "operator": "exists"},
        },
        {
            "id": "crm",
            "type": "tool_call",
            "position": {"x": -100, "y": 200},
            "data": {
                "label": "Log the lead",
                "provider": "salesforce_mock",
                "action": "create_lead",
                "params": {"lastName": "{{name}}", "company": "Lakeside Family Dental"},
                "maxRetries": 1,
            },
        },
        {"id": "human", "type": "handoff", "position": {"x": 100, "y": 200}, "data": {"reason": "No insurance"}},
        {"id": "done", "type": "end", "position": {"x": 0, "y": 300}, "data": {"outcome": "qualified"}},
    ]
    edges = [
        {"id": "e1", "source": "ask", "target": "insured"},
        {"id": "e2", "source": "insured", "target": "crm", "sourceHandle": "true"},
        {"id": "e3", "source": "insured", "target": "human", "sourceHandle": "false"},
        {"id": "e4", "source": "crm", "target": "done"},
        {"id": "e5", "source": "human", "target": "done"},
        {"id": "r1", "source": "crm", "target": "crm", "sourceHandle": "retry"},
    ]
    return {"nodes": nodes, "edges": edges}


def stored_profile(tenant_id: str, profile_id: str) -> dict[str, Any]:
    """The stored profile document."""
    from shared.onboarding.repository import OnboardingProfileRepository

    doc = OnboardingProfileRepository().read(profile_id, tenant_id)
    assert doc is not None
    return doc


def audit_events(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's audit events, newest first."""
    from shared.audit.repository import AuditRepository

    return AuditRepository().newest_for_tenant(tenant_id, 100)
