"""Repeat submissions: same email and tenant within 24 h fold into one lead."""

from __future__ import annotations

import copy

import pytest

from shared.leads import documents, merge
from tests.unit.leads.support import NOW, contact_body, lead_body, mid_demo_body

LATER = "2026-03-01T18:00:00.000Z"


def lead_from(kind, body, now=NOW):
    return documents.new_lead(documents.to_submission(kind, body), lead_id="LEAD-23456789", tenant_id="t1", now=now)


@pytest.mark.parametrize(
    ("now", "repeat"),
    [
        ("2026-03-01T12:00:00.000Z", True),
        ("2026-03-02T12:00:00.000Z", True),  # exactly 24 h
        ("2026-03-02T12:00:00.001Z", False),
        ("2026-03-01T11:59:59.999Z", True),  # just before the last one: a concurrent submission merged first
        ("2026-02-28T11:59:59.999Z", False),
        ("not a time", False),
    ],
)
def test_the_window_is_24_hours_after_the_latest_submission(now, repeat):
    lead = lead_from("lead", lead_body())
    assert merge.is_repeat(lead, tenant_id="t1", email="jane@acme.com", now=now) is repeat


def test_the_window_slides_with_each_submission():
    lead = lead_from("lead", lead_body())
    merged = merge.merge_submission(lead, documents.to_submission("lead", lead_body()), now="2026-03-02T11:00:00.000Z")
    assert merge.is_repeat(merged, tenant_id="t1", email="jane@acme.com", now="2026-03-03T10:00:00.000Z")


def test_a_submission_timed_before_the_latest_never_moves_the_lead_back():
    lead = merge.merge_submission(
        lead_from("lead", lead_body()), documents.to_submission("lead", lead_body()), now=LATER
    )
    earlier = merge.merge_submission(lead, documents.to_submission("lead", lead_body()), now=NOW)
    assert earlier["lastSubmittedAt"] == earlier["updatedAt"] == LATER
    assert earlier["submissionCount"] == 3


def test_email_case_counts_as_the_same_person_but_tenants_and_other_addresses_do_not():
    lead = lead_from("lead", lead_body())
    assert merge.is_repeat(lead, tenant_id="t1", email="JANE@Acme.com", now=LATER)
    assert not merge.is_repeat(lead, tenant_id="t2", email="jane@acme.com", now=LATER)
    assert not merge.is_repeat(lead, tenant_id="t1", email="john@acme.com", now=LATER)


def test_a_mid_demo_capture_then_the_full_lead_merge_into_one():
    lead = lead_from("mid_demo", mid_demo_body())
    before = copy.deepcopy(lead)
    merged = merge.merge_submission(lead, documents.to_submission("lead", lead_body()), now=LATER)
    assert lead == before, "merge must not modify its input"

    assert merged["leadId"] == "LEAD-23456789" and merged["createdAt"] == NOW
    assert merged["updatedAt"] == merged["lastSubmittedAt"] == LATER
    assert merged["submissionCount"] == 2
    assert merged["sources"] == ["mid-demo-capture", "demo-results"]
    assert merged["scenarios"] == ["insurance-fnol"]
    assert merged["utmTouches"] == [
        {"utmSource": "linkedin", "utmMedium": "paid-social", "utmCampaign": "demo-funnel"},
        {"utmSource": "google", "utmMedium": "cpc", "utmCampaign": "insurance-fnol"},
    ]
    # First touch stays the attribution.
    assert merged["attribution"]["source"] == "mid-demo-capture"
    assert merged["attribution"]["utmSource"] == "linkedin"
    # Newer contact values win; nothing is erased.
    assert merged["contact"] == {
        "email": "jane@acme.com",
        "name": "Jane Smith",
        "company": "Acme Corp",
        "role": "VP of Operations",
        "phone": "+1-555-0100",
    }
    # Same scenario: the demo is completed field by field, the mid-demo session id kept.
    assert merged["demo"] == {
        "scenarioId": "insurance-fnol",
        "sessionId": "s-123",
        "reachedResults": True,
        "scenarioTitle": "Insurance FNOL",
        "sessionDurationSeconds": 240,
        "toolsInvoked": ["lookup_policy", "create_claim"],
        "beatsCompleted": 4,
        "totalBeats": 5,
    }
    assert merged["timeline"] == [{"title": "Policy found", "description": "Policy 123", "timestamp": "11:50"}]
    assert [entry["event"] for entry in merged["history"]] == ["created", "merged"]
    assert merged["history"][1] == {
        "event": "merged",
        "at": LATER,
        "kind": "lead",
        "source": "demo-results",
        "scenarioId": "insurance-fnol",
        "utm": {"utmSource": "google", "utmMedium": "cpc", "utmCampaign": "insurance-fnol"},
        "changed": ["contact.name", "contact.phone", "contact.role"],
    }


def test_blank_fields_never_erase_and_status_crm_survive():
    lead = {**lead_from("lead", lead_body()), "status": "contacted", "crm": {"hubspotContactId": "9"}}
    merged = merge.merge_submission(
        lead, documents.to_submission("mid_demo", mid_demo_body(company=" ", role="")), now=LATER
    )
    assert merged["contact"]["company"] == "Acme Corp" and merged["contact"]["role"] == "VP of Operations"
    assert merged["status"] == "contacted" and merged["crm"] == {"hubspotContactId": "9"}
    # The mid-demo capture of the same scenario never downgrades what the full lead recorded.
    assert merged["demo"]["reachedResults"] is True and merged["demo"]["sessionDurationSeconds"] == 240
    assert merged["timeline"] == lead["timeline"]


def test_another_scenario_becomes_the_demo_and_both_count_as_tried():
    lead = lead_from("lead", lead_body())
    other = lead_body(
        scenarioId="dental-recall", scenarioTitle="Dental recall", toolsInvoked=["book"], timelineEvents=[]
    )
    merged = merge.merge_submission(lead, documents.to_submission("lead", other), now=LATER)
    assert merged["scenarios"] == ["insurance-fnol", "dental-recall"]
    assert merged["demo"]["scenarioId"] == "dental-recall" and merged["demo"]["toolsInvoked"] == ["book"]
    assert merged["timeline"] == [], "the old scenario's timeline does not describe the new demo"


def test_a_contact_request_adds_interest_and_the_contact_source():
    lead = lead_from("lead", lead_body())
    merged = merge.merge_submission(lead, documents.to_submission("contact", contact_body(role="COO")), now=LATER)
    assert merged["sources"] == ["demo-results", "contact"]
    assert merged["interest"]["implementationTimeline"] == "Within 30 days"
    assert merged["contact"]["role"] == "COO"
    assert merged["demo"] == lead["demo"] and merged["scenarios"] == ["insurance-fnol"]
    assert "contact.role" in merged["history"][-1]["changed"]
    assert "interest.message" in merged["history"][-1]["changed"]


def test_the_same_utm_touch_and_source_are_kept_once():
    lead = lead_from("lead", lead_body())
    merged = merge.merge_submission(lead, documents.to_submission("lead", lead_body()), now=LATER)
    assert merged["sources"] == ["demo-results"] and len(merged["utmTouches"]) == 1
    assert "changed" not in merged["history"][-1]


def test_lists_and_history_are_capped():
    lead = lead_from("lead", lead_body())
    for i in range(120):
        body = lead_body(scenarioId=f"scenario-{i}", source=f"source-{i}", utmCampaign=f"campaign-{i}")
        lead = merge.merge_submission(lead, documents.to_submission("lead", body), now=LATER)
    assert lead["submissionCount"] == 121
    assert len(lead["sources"]) == merge.MAX_SOURCES and lead["sources"][0] == "demo-results"
    assert len(lead["scenarios"]) == merge.MAX_SCENARIOS and lead["scenarios"][0] == "insurance-fnol"
    assert len(lead["utmTouches"]) == merge.MAX_UTM_TOUCHES
    assert len(lead["history"]) == merge.MAX_HISTORY
    assert lead["history"][0]["event"] == "created"
    assert lead["history"][-1]["scenarioId"] == "scenario-119"
    assert lead["demo"]["scenarioId"] == "scenario-119"
