"""Feedback: stored per tenant, joined to the proven session, bounded, limited."""

from __future__ import annotations

from shared.feedback.repository import FeedbackRepository
from shared.leads.ids import is_feedback_id
from tests.support.identity import new_tenant_id
from tests.support.sessions import key_headers, start_session


def test_feedback_joins_its_session_in_the_sessions_tenant(client, tokens):
    tenant = new_tenant_id("fb")
    session = start_session(client, headers=tokens.headers(tenant, "operator"))
    body = {
        "rating": 2,
        "comment": "Loved it\nreally",
        "scenarioId": "insurance-fnol",
        "sessionId": session["sessionId"],
    }
    response = client.post("/api/feedback", json=body, headers=key_headers(session))
    assert response.status_code == 201, response.text
    feedback_id = response.json()["id"]
    assert is_feedback_id(feedback_id) and response.json()["success"] is True
    stored = FeedbackRepository().read(feedback_id, tenant)
    assert stored["sessionId"] == session["sessionId"] and stored["rating"] == 2 and stored["sentiment"] == "up"
    assert stored["comment"] == "Loved it\nreally" and stored["sessionScenarioId"] == "insurance-fnol"


def test_anonymous_feedback_lands_in_the_demo_tenant(client):
    response = client.post("/api/feedback", json={"rating": 1, "scenarioId": "insurance-fnol"})
    assert response.status_code == 201, response.text
    stored = FeedbackRepository().read(response.json()["id"], "default-practice")
    assert stored["rating"] == 1 and "sessionId" not in stored


def test_bad_feedback_is_refused(client):
    session = start_session(client)
    cases = [
        ({"rating": 3, "scenarioId": "insurance-fnol"}, 400),
        ({"rating": 1, "scenarioId": "no-such-scenario"}, 400),
        ({"rating": 1, "scenarioId": "insurance-fnol", "comment": "x" * 2001}, 400),
        ({"rating": 1, "scenarioId": "insurance-fnol", "sessionId": session["sessionId"]}, 401),
    ]
    for body, status in cases:
        response = client.post("/api/feedback", json=body)
        assert response.status_code == status, (body, response.text)
    unknown = {"rating": 1, "scenarioId": "insurance-fnol", "sessionId": "f" * 32}
    response = client.post("/api/feedback", json=unknown, headers=key_headers(session))
    assert response.status_code == 400 and response.json()["error"] == "session_not_found"
