"""The go-live checklist, destination fingerprints, revisions from If-Match, and the persona rule (no store)."""

from __future__ import annotations

import pytest

from shared.onboarding import service
from shared.platform.errors import BadRequest


def profile(**overrides) -> dict:
    doc = {
        "id": "fsp_1",
        "tenantId": "t-1",
        "companyName": "Lakeside Family Dental",
        "businessDescription": "A dental practice.",
        "primaryUseCase": "healthcare",
        "personaId": "dental_front_desk",
        "greeting": "Hello!",
        "intakeFields": ["name"],
        "summaryRecipients": ["frontdesk@lakeside.test"],
        "reviewedPersona": True,
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
    }
    doc.update(overrides)
    return doc


def with_result(doc: dict, kind: str, ok: bool = True) -> dict:
    status = {"kind": kind, "ok": ok, "checkedAt": "2026-01-02T00:00:00.000Z", "message": "m"}
    doc.setdefault("destinationStatus", {})[kind] = {
        **status,
        "fingerprint": service.destination_fingerprint(doc, kind),
    }
    return doc


def test_every_item_is_earned():
    doc = profile()
    assert service.checklist(doc) == {
        "profileConfigured": True,
        "destinationsConfigured": True,
        "destinationsTested": False,
        "personaReviewed": True,
        "testCallPassed": False,
        "readyForGoLive": False,
    }
    with_result(doc, "email")
    doc.update(publishedWorkflowVersion=2, testCall={"passed": True, "workflowVersion": 2})
    assert service.checklist(doc)["readyForGoLive"] is True


def test_a_test_call_on_an_older_version_does_not_count():
    doc = with_result(profile(publishedWorkflowVersion=3, testCall={"passed": True, "workflowVersion": 2}), "email")
    assert service.checklist(doc)["testCallPassed"] is False


def test_a_changed_destination_needs_a_new_test():
    doc = with_result(profile(), "email")
    assert service.checklist(doc)["destinationsTested"] is True
    doc["summaryRecipients"] = ["someone.else@lakeside.test"]
    assert service.checklist(doc)["destinationsTested"] is False
    assert service.current_statuses(doc) == {}


def test_a_configured_webhook_must_be_tested_too_and_a_failure_counts():
    doc = with_result(
        profile(webhook={"baseUrl": "https://h.example/x", "headerName": "X-Sig"}, webhookSecret={"ct": "a"}), "email"
    )
    assert service.checklist(doc)["destinationsTested"] is False
    with_result(doc, "webhook", ok=False)
    assert service.checklist(doc)["destinationsTested"] is False
    with_result(doc, "webhook", ok=True)
    assert service.checklist(doc)["destinationsTested"] is True
    doc["webhookSecret"] = {"ct": "b"}  # a new secret is a new destination
    assert service.checklist(doc)["destinationsTested"] is False


def test_a_webhook_without_its_secret_is_not_configured():
    doc = profile(webhook={"baseUrl": "https://h.example/x"})
    assert service.checklist(doc)["destinationsConfigured"] is False


@pytest.mark.parametrize(
    ("changes", "item"),
    [
        ({"intakeFields": []}, "profileConfigured"),
        ({"personaId": "legal_intake_specialist"}, "profileConfigured"),
        ({"greeting": ""}, "profileConfigured"),
        ({"summaryRecipients": []}, "destinationsConfigured"),
        ({"reviewedPersona": False}, "personaReviewed"),
    ],
)
def test_each_gap_shows(changes, item):
    assert service.checklist(profile(**changes))[item] is False


def test_personas_must_suit_the_use_case():
    assert service.persona_problem("dental_front_desk", "healthcare") is None
    assert service.persona_problem("veterinary_front_desk", "healthcare") is None
    assert service.persona_problem("sales_sdr", "sales") is None
    assert "does not suit the insurance use case" in service.persona_problem("sales_sdr", "insurance")
    assert "no persona" in service.persona_problem("nobody", "sales")


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [(None, None, None), ('"3"', None, 3), ('W/"3"', None, 3), (None, 4, 4), ('"5"', 5, 5), ("*", None, None)],
)
def test_the_expected_revision(header, body, expected):
    assert service.expected_revision(header, body) == expected


@pytest.mark.parametrize(("header", "body"), [('"abc"', None), ('"3"', 4)])
def test_a_malformed_or_contradicting_if_match_is_a_400(header, body):
    with pytest.raises(BadRequest):
        service.expected_revision(header, body)
