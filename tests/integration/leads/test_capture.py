"""Lead capture: tenant by session, the server's score, merging repeat submissions, bad input and floods."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.leads import scoring
from shared.leads.ids import is_lead_id
from tests.conftest import reset_clients
from tests.support.client import ContractClient
from tests.support.concurrency import race_statuses
from tests.support.identity import new_tenant_id
from tests.support.leads import new_lead_body, stored_lead, unique_email
from tests.support.sessions import finalize_payload, key_headers, start_session


def finished_demo(client, tokens, tenant: str) -> dict:
    """A session of `tenant` started by its operator and finalized by the prospect holding the key."""
    session = start_session(client, headers=tokens.headers(tenant, "operator"))
    payload = finalize_payload(sessionId=session["sessionId"])
    finalized = client.post("/api/sessions/finalize", json=payload, headers=key_headers(session))
    assert finalized.status_code == 200, finalized.text
    return {**session, "results": finalized.json()}


def test_a_lead_from_a_finished_demo_lands_in_its_tenant_with_the_sessions_score(client, tokens):
    tenant = new_tenant_id("lead")
    demo = finished_demo(client, tokens, tenant)
    body = new_lead_body(sessionId=demo["sessionId"], score=100, tier="hot", scoreLabel="Hot lead")
    response = client.post("/api/leads", json=body, headers=key_headers(demo))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert is_lead_id(answer["leadId"]) and answer["success"] and answer["emailDelivered"] is False
    assert "no sales notification recipient" in answer["message"]  # the new tenant has none configured

    stored = stored_lead(tenant, answer["leadId"])
    assert stored["scoring"]["basis"] == "session"
    session = client.get(f"/api/sessions/{demo['sessionId']}/results", headers=key_headers(demo)).json()
    assert (answer["score"], answer["tier"]) == (stored["score"], stored["tier"])
    expected = session["results"]["leadScore"]
    assert (stored["score"], stored["tier"]) == (round(expected["score"]), expected["tier"])
    assert stored["demo"]["sessionId"] == demo["sessionId"] and stored["tenantId"] == tenant

    view = client.get(f"/api/cp/leads/{answer['leadId']}", headers=tokens.headers(tenant, "operator"))
    assert view.status_code == 200 and view.json()["tenantId"] == tenant
    other = client.get(f"/api/cp/leads/{answer['leadId']}", headers=tokens.headers(new_tenant_id(), "owner"))
    assert other.status_code == 404


def test_without_a_session_the_lead_is_the_demo_tenants_and_client_scores_are_ignored(client):
    body = new_lead_body(score=100, tier="hot", scoreLabel="Hot lead", role="Intern")
    del body["company"]
    response = client.post("/api/leads", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    stored = stored_lead("default-practice", answer["leadId"])
    assert stored["scoring"]["basis"] == "lead"
    expected = scoring.score_lead(stored)
    assert (answer["score"], answer["tier"]) == (expected.score, expected.tier)
    assert answer["score"] < 100
    assert answer["emailDelivered"] is True  # LEADS_NOTIFY_EMAIL is the demo tenant's recipient


def test_an_operators_lead_without_a_session_lands_in_the_operators_tenant(client, tokens):
    tenant = new_tenant_id("lead")
    response = client.post("/api/leads", json=new_lead_body(), headers=tokens.headers(tenant, "operator"))
    assert response.status_code == 200, response.text
    assert stored_lead(tenant, response.json()["leadId"])["tenantId"] == tenant


def test_repeat_submissions_of_one_address_within_24_hours_merge_into_one_lead(client):
    email = unique_email()
    first = client.post(
        "/api/leads/mid-demo",
        json={"email": email, "scenario": "insurance-fnol", "source": "mid-demo-capture", "utmSource": "linkedin"},
    )
    assert first.status_code == 201, first.text
    assert first.json()["source"] == "mid-demo-capture" and first.json()["email"] == email
    second = client.post(
        "/api/leads", json=new_lead_body(email=email.upper(), scenarioId="healthcare-intake", utmSource="google")
    )
    third = client.post("/api/contact", json={"name": "Jane Smith", "email": email, "message": "Call me about a pilot"})
    assert second.status_code == 200 and third.status_code == 200, (second.text, third.text)
    assert second.json()["leadId"] == first.json()["leadId"]
    assert second.json()["message"].startswith("Lead updated")

    lead = stored_lead("default-practice", first.json()["leadId"])
    assert lead["submissionCount"] == 3
    assert lead["sources"] == ["mid-demo-capture", "demo-results", "contact"]
    assert lead["scenarios"] == ["insurance-fnol", "healthcare-intake"]
    assert [touch["utmSource"] for touch in lead["utmTouches"]] == ["linkedin", "google"]
    assert lead["interest"]["message"] == "Call me about a pilot"
    assert [entry["event"] for entry in lead["history"]] == ["created", "merged", "merged"]

    from shared.leads.repository import LeadRepository

    same = LeadRepository().query(
        "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = @t AND c.type = 'lead' AND c.emailKey = @k",
        {"k": email.lower(), "t": "default-practice"},
        "default-practice",
    )
    assert same == [1]


def test_simultaneous_first_submissions_of_one_address_make_one_lead(devhost):
    from shared.leads.repository import LeadRepository

    email = unique_email()
    statuses = race_statuses(
        devhost.asgi, [lambda http: http.post("/api/leads", json=new_lead_body(email=email)) for _ in range(6)]
    )
    assert statuses == [200] * 6
    stored = LeadRepository().query(
        "SELECT c.id, c.submissionCount FROM c WHERE c.tenantId = @t AND c.type = 'lead' AND c.emailKey = @k",
        {"k": email.lower(), "t": "default-practice"},
        "default-practice",
    )
    assert len(stored) == 1 and stored[0]["submissionCount"] == 6


def test_the_same_address_a_day_later_or_in_another_tenant_is_a_new_lead(client, tokens):
    from shared.leads.repository import LeadRepository
    from shared.platform import clock

    email = unique_email()
    first = client.post("/api/leads", json=new_lead_body(email=email)).json()["leadId"]
    elsewhere = client.post(
        "/api/leads", json=new_lead_body(email=email), headers=tokens.headers(new_tenant_id("lead"), "operator")
    ).json()["leadId"]
    assert elsewhere != first
    earlier = clock.iso(clock.utc_now() - timedelta(hours=25))
    LeadRepository().update_fields(first, "default-practice", {"lastSubmittedAt": earlier})
    later = client.post("/api/leads", json=new_lead_body(email=email)).json()["leadId"]
    assert later != first


def test_contact_requests_become_leads_with_source_contact(client):
    email = unique_email()
    response = client.post(
        "/api/contact",
        json={
            "name": "Sam Lee",
            "email": email,
            "company": "Lee Dental",
            "implementationTimeline": "next month",
            "primaryInterest": "After-hours booking for a 40 employees practice",
            "message": "We would like a pilot.\nThanks!",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    from shared.leads.repository import LeadRepository

    lead = LeadRepository().latest_for_email("default-practice", email.lower())
    assert lead["attribution"]["source"] == "contact" and lead["sources"] == ["contact"]
    assert lead["interest"]["message"] == "We would like a pilot.\nThanks!"
    assert lead["scoring"]["breakdown"]["intent"] == 20  # within 90 days (10) + contact (10)


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/api/leads", new_lead_body(email=None), "email"),
        ("/api/leads", new_lead_body(email="not-an-address"), "email"),
        ("/api/leads", new_lead_body(email="a@b.invalid"), "email"),
        ("/api/leads/mid-demo", {"scenario": "x", "source": "mid-demo-capture"}, "email"),
        ("/api/leads/mid-demo", {"email": unique_email(), "scenario": "x", "source": "elsewhere"}, "source"),
        ("/api/contact", {"name": "A", "email": "a@@b.com", "message": "hi"}, "email"),
        ("/api/contact", {"name": "A", "email": unique_email(), "message": "   "}, "message"),
        ("/api/leads", new_lead_body(name="x" * 201), "name"),
        ("/api/leads", new_lead_body(sessionDuration=-1), "sessionDuration"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(client, path, body, named):
    from shared.platform.store import metering

    if body.get("email") is None:
        body.pop("email", None)
    response = client.post(path, json=body)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]
    assert metering.recorded(response.headers["x-correlation-id"])[1].writes == 0


def test_a_named_session_must_be_proven(client, tokens):
    session = start_session(client)
    sid = session["sessionId"]
    body = new_lead_body(sessionId=sid)
    assert client.post("/api/leads", json=body).status_code == 401
    forged_key = {"x-session-access": "x" * 44 + ".default-practice"}
    assert client.post("/api/leads", json=body, headers=forged_key).status_code == 401
    unknown = client.post("/api/leads", json=new_lead_body(sessionId="a" * 32), headers=key_headers(session))
    assert unknown.status_code == 400 and unknown.json()["error"] == "session_not_found"
    other_operator = client.post("/api/leads", json=body, headers=tokens.headers(new_tenant_id(), "operator"))
    assert other_operator.status_code == 400  # another tenant's session is unknown to them
    viewer = client.post("/api/leads", json=body, headers=tokens.headers(new_tenant_id(), "viewer"))
    assert viewer.status_code == 403
    mid = client.post(
        "/api/leads/mid-demo",
        json={"email": unique_email(), "scenario": "insurance-fnol", "source": "mid-demo-capture", "sessionId": sid},
        headers=key_headers(session),
    )
    assert mid.status_code == 201, mid.text
    assert stored_lead("default-practice", mid.json()["leadId"])["demo"]["sessionId"] == sid


def test_a_body_over_the_size_cap_is_413(client):
    huge = new_lead_body(timelineEvents=[{"title": "x", "description": "y" * 400, "timestamp": "t"}] * 5000)
    response = client.post("/api/leads", json=huge)
    assert response.status_code == 413


def test_a_flood_from_one_client_is_429_and_stores_nothing_more(client):
    email = unique_email()
    answers = [client.post("/api/leads", json=new_lead_body(email=email)) for _ in range(12)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    lead = stored_lead("default-practice", answers[0].json()["leadId"])
    assert lead["submissionCount"] == 10


def test_a_flood_of_one_address_from_many_clients_is_429_and_stores_nothing_more(devhost, settings_env):
    settings_env.setenv("RATE_LIMITS", "lead_submission_address=3/86400")
    reset_clients()
    email = unique_email()
    answers = []
    for _ in range(5):
        with ContractClient(devhost.asgi) as other_client:
            answers.append(other_client.post("/api/leads", json=new_lead_body(email=email)))
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429]
    assert "retry-after" in answers[3].headers
    assert stored_lead("default-practice", answers[0].json()["leadId"])["submissionCount"] == 3
