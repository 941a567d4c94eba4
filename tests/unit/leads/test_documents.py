"""Request bodies into bounded submissions, the stored lead, and its contract view."""

from __future__ import annotations

import json

import pytest

from shared.leads import documents, scoring
from shared.platform.errors import ValidationFailed
from tests.unit.leads.support import NOW, assert_lead_object, contact_body, lead_body, mid_demo_body


def test_a_create_lead_body_becomes_a_submission_without_client_scores():
    submission = documents.to_submission("lead", lead_body(score=100, tier="hot", scoreLabel="Hot lead"))
    assert submission["kind"] == "lead" and submission["source"] == "demo-results"
    assert submission["contact"] == {
        "name": "Jane Smith",
        "email": "jane@acme.com",
        "company": "Acme Corp",
        "role": "VP of Operations",
        "phone": "+1-555-0100",
    }
    assert submission["attribution"]["utmCampaign"] == "insurance-fnol"
    assert submission["demo"] == {
        "scenarioId": "insurance-fnol",
        "scenarioTitle": "Insurance FNOL",
        "sessionDurationSeconds": 240,
        "toolsInvoked": ["lookup_policy", "create_claim"],
        "beatsCompleted": 4,
        "totalBeats": 5,
        "reachedResults": True,
    }
    assert submission["timeline"] == [{"title": "Policy found", "description": "Policy 123", "timestamp": "11:50"}]
    text = json.dumps(submission)
    assert "score" not in text and "tier" not in text and "Hot lead" not in text


def test_mid_demo_and_contact_bodies():
    mid = documents.to_submission("mid_demo", mid_demo_body(source="something-else"))
    assert mid["source"] == "mid-demo-capture" == mid["attribution"]["source"]
    assert mid["demo"] == {"scenarioId": "insurance-fnol", "sessionId": "s-123", "reachedResults": False}
    assert mid["contact"] == {"email": "jane@acme.com", "company": "Acme Corp", "role": "Operations Director"}

    contact = documents.to_submission("contact", contact_body())
    assert contact["source"] == "contact" and contact["demo"] == {} and contact["timeline"] == []
    assert contact["interest"] == {
        "primaryInterest": "Healthcare intake automation",
        "currentSystem": "Athenahealth + RingCentral",
        "implementationTimeline": "Within 30 days",
        "message": "I want a demo for my 200-person team.",
    }


def test_a_proven_session_wins_over_the_body_session_id():
    assert (
        documents.to_submission("mid_demo", mid_demo_body(), session_id="s-proven")["demo"]["sessionId"] == "s-proven"
    )


@pytest.mark.parametrize("email", [None, "", "plain", "a@b", "jane@acme.com\r\nBcc: x@evil.com", 42, ["a@b.co"]])
def test_a_missing_or_malformed_email_is_a_validation_error_naming_the_field(email):
    body = lead_body()
    if email is None:
        del body["email"]
    else:
        body["email"] = email
    with pytest.raises(ValidationFailed) as error:
        documents.to_submission("lead", body)
    assert error.value.status == 400 and error.value.message.startswith("email")
    assert "evil" not in error.value.message


def test_the_email_is_normalized_and_keyed_case_blind():
    submission = documents.to_submission("lead", lead_body(email="  Jane.Smith@ACME.com "))
    assert submission["contact"]["email"] == "Jane.Smith@acme.com"
    assert documents.email_key(submission["contact"]["email"]) == "jane.smith@acme.com"


def test_strings_are_single_line_and_bounded_numbers_finite_and_in_range():
    body = lead_body(
        name="Jane\r\nBcc: victim@example.com\x00",
        company="A" * 5000,
        sessionDuration=float("inf"),
        beatsCompleted=-1,
        totalBeats=True,
        toolsInvoked=["t" * 500, 42, None, *[f"tool{i}" for i in range(100)]],
        timelineEvents=[{"title": "x" * 1000}, "not an event", {"description": "no title"}] * 30,
    )
    submission = documents.to_submission("lead", body)
    assert submission["contact"]["name"] == "Jane Bcc: victim@example.com"
    assert len(submission["contact"]["company"]) == documents.CONTACT_LIMITS["company"]
    demo = submission["demo"]
    assert "sessionDurationSeconds" not in demo and "beatsCompleted" not in demo and "totalBeats" not in demo
    assert len(demo["toolsInvoked"]) == documents.MAX_TOOLS
    assert all(len(tool) <= documents.TOOL_NAME_LIMIT for tool in demo["toolsInvoked"])
    assert len(submission["timeline"]) == documents.MAX_TIMELINE_EVENTS
    assert all(len(event["title"]) == documents.TIMELINE_TITLE_LIMIT for event in submission["timeline"])


def test_the_contact_message_keeps_its_lines_but_no_control_characters():
    message = "Line one\r\nLine two\rLine three\x07" + "z" * 10_000
    interest = documents.to_submission("contact", contact_body(message=message))["interest"]
    assert interest["message"].startswith("Line one\nLine two\nLine three")
    assert "\r" not in interest["message"] and "\x07" not in interest["message"]
    assert len(interest["message"]) == documents.MESSAGE_LIMIT


def test_company_size_is_kept_as_text():
    assert documents.to_submission("lead", lead_body(companySize=250))["interest"] == {"companySize": "250"}
    assert documents.to_submission("contact", contact_body(companySize="51-200"))["interest"]["companySize"] == "51-200"
    assert "companySize" not in documents.to_submission("lead", lead_body(companySize=float("nan")))["interest"]


def test_unknown_kinds_are_a_programming_error():
    with pytest.raises(ValueError):
        documents.to_submission("webinar", lead_body())  # type: ignore[arg-type]


def test_a_new_lead_document_and_its_contract_view():
    submission = documents.to_submission("lead", lead_body())
    lead = documents.new_lead(submission, lead_id="LEAD-23456789", tenant_id="default-practice", now=NOW)
    assert lead["id"] == lead["leadId"] == "LEAD-23456789" and lead["tenantId"] == "default-practice"
    assert lead["type"] == "lead" and lead["schemaVersion"] == 1 and lead["status"] == "new"
    assert lead["emailKey"] == "jane@acme.com"
    assert lead["sources"] == ["demo-results"] and lead["scenarios"] == ["insurance-fnol"]
    assert lead["utmTouches"] == [{"utmSource": "google", "utmMedium": "cpc", "utmCampaign": "insurance-fnol"}]
    assert lead["submissionCount"] == 1 and lead["createdAt"] == lead["updatedAt"] == lead["lastSubmittedAt"] == NOW
    assert lead["history"] == [
        {
            "event": "created",
            "at": NOW,
            "kind": "lead",
            "source": "demo-results",
            "scenarioId": "insurance-fnol",
            "utm": {"utmSource": "google", "utmMedium": "cpc", "utmCampaign": "insurance-fnol"},
        }
    ]
    view = documents.contract_view(scoring.scored(lead))
    assert_lead_object(view)
    assert view["notes"] == [] and view["crm"] == {} and "previousMidDemoLeadId" not in view
    assert json.loads(json.dumps(view)) == view  # plain JSON, nothing the store could not hold


def test_contract_views_of_every_kind_with_notes_validate():
    for kind, body in (("lead", lead_body()), ("mid_demo", mid_demo_body()), ("contact", contact_body())):
        lead = documents.new_lead(documents.to_submission(kind, body), lead_id="LEAD-23456789", tenant_id="t", now=NOW)
        lead = {**scoring.scored(lead), "crm": {"hubspotContactId": "101", "internal": "x"}}
        lead["previousMidDemoLeadId"] = "LEAD-MMMMMMMM"
        notes = [
            {"id": "n1", "body": "Called, left a message", "createdAt": NOW, "authorUserId": "user_1", "tenantId": "t"},
            {"id": "n2", "body": "Pilot next week", "createdAt": NOW, "authorDisplayName": None},
        ]
        view = documents.contract_view(lead, notes)
        assert_lead_object(view)
        assert view["crm"] == {"hubspotContactId": "101"}
        assert view["notes"][0] == {
            "id": "n1",
            "body": "Called, left a message",
            "createdAt": NOW,
            "authorUserId": "user_1",
        }
