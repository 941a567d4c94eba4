"""The server's lead score: session results reused, otherwise the documented own-signal model."""

from __future__ import annotations

import copy
import random

import pytest

from shared.leads import documents, merge, scoring
from shared.results import scoring as session_scoring
from tests.unit.leads.support import NOW, contact_body, lead_body, mid_demo_body


def lead_of(kind, body):
    return documents.new_lead(documents.to_submission(kind, body), lead_id="LEAD-23456789", tenant_id="t", now=NOW)


def finalized_session(score=83, tier="hot"):
    return {
        "id": "s-123",
        "leadScore": 0,  # the pre-finalize placeholder on the session root is not the result
        "results": {"leadScore": {"score": score, "tier": tier, "breakdown": {"engagement": 25, "intent": 20}}},
    }


def test_the_full_lead_body_scores_by_the_documented_model():
    result = scoring.score_lead(lead_of("lead", lead_body()))
    # fit: VP 12 + size unknown 0; engagement: 240 s → 8, beats 4/5 → 8, tools 2/3 → 3.33, one scenario → 0 = 19.33;
    # intent: no timeline 0 + demo-results 6; reachability: name 3 + company 4 + phone 5 + work email 3.
    assert result.breakdown == {"fit": 12, "engagement": 19, "intent": 6, "reachability": 15}
    assert (result.score, result.tier, result.label, result.basis) == (52, "warm", "Warm lead", "lead")


def test_a_hot_contact_request():
    body = contact_body(role="Chief Operating Officer")
    result = scoring.score_lead(lead_of("contact", body))
    # fit 15 + 15 (200-person team); engagement 0 (no demo); intent 15 (30 days) + 10 (contact); reach 15.
    assert result.breakdown == {"fit": 30, "engagement": 0, "intent": 25, "reachability": 15}
    assert (result.score, result.tier) == (70, "hot")


def test_a_bare_mid_demo_capture_is_cold():
    result = scoring.score_lead(lead_of("mid_demo", mid_demo_body(email="jane@gmail.com", company="", role="")))
    assert result.breakdown == {"fit": 0, "engagement": 0, "intent": 8, "reachability": 0}
    assert (result.score, result.tier) == (8, "cold")


def test_client_sent_scores_are_ignored():
    honest = scoring.score_lead(lead_of("lead", lead_body()))
    forged = lead_of("lead", lead_body(score=100, tier="hot", scoreLabel="Hot lead"))
    assert scoring.score_lead(forged) == honest
    assert scoring.score_lead({**forged, "score": 100, "tier": "hot"}) == honest


def test_scoring_is_deterministic_and_pure():
    lead = merge.merge_submission(
        lead_of("mid_demo", mid_demo_body()), documents.to_submission("contact", contact_body()), now=NOW
    )
    before = copy.deepcopy(lead)
    results = [scoring.score_lead(lead) for _ in range(3)]
    assert results[0] == results[1] == results[2]
    assert lead == before
    shuffled = dict(random.Random(7).sample(list(lead.items()), len(lead)))
    assert scoring.score_lead(shuffled) == results[0]


def test_a_finalized_session_is_the_score():
    result = scoring.score_lead(lead_of("mid_demo", mid_demo_body()), session=finalized_session())
    assert (result.score, result.tier, result.basis, result.session_id) == (83, "hot", "session", "s-123")
    assert result.breakdown == {"engagement": 25, "intent": 20}
    fields = result.fields()
    assert fields["score"] == 83 and fields["tier"] == "hot" and fields["scoreLabel"] == "Hot lead"
    assert fields["scoring"] == {
        "basis": "session",
        "model": scoring.MODEL_VERSION,
        "breakdown": {"engagement": 25, "intent": 20},
        "sessionId": "s-123",
    }


def test_a_session_results_tier_that_is_missing_follows_the_score():
    session = finalized_session(score=45, tier=None)
    assert scoring.score_lead({}, session=session).tier == "warm"


@pytest.mark.parametrize(
    "session",
    [
        None,
        {},
        {"id": "s-1", "leadScore": 90, "leadTier": "hot"},  # not finalized: no results
        {"results": {"leadScore": {"score": "90", "tier": "hot"}}},
        {"results": {"leadScore": {"score": float("nan"), "tier": "hot"}}},
        {"results": {"leadScore": {"score": 140, "tier": "hot"}}},
        {"results": {"leadScore": {"score": True, "tier": "hot"}}},
        {"results": "broken"},
    ],
)
def test_without_trustworthy_session_results_the_leads_own_signals_apply(session):
    lead = lead_of("lead", lead_body())
    result = scoring.score_lead(lead, session=session)
    assert result.basis == "lead" and result == scoring.score_from_signals(lead)


def test_scored_sets_the_contract_fields_on_a_copy():
    lead = lead_of("lead", lead_body())
    result = scoring.scored(lead)
    assert "score" not in lead
    assert (result["score"], result["tier"], result["scoreLabel"]) == (52, "warm", "Warm lead")
    assert result["scoring"]["basis"] == "lead" and sum(result["scoring"]["breakdown"].values()) == 52


def test_components_stay_within_their_bounds_and_tiers_follow_the_thresholds():
    rng = random.Random(11)
    roles = ["", "CEO", "VP Sales", "Office Manager", "Nurse", "Head of Ops"]
    timelines = ["", "ASAP", "1-3 months", "6 months", "2 years", "not sure"]
    for _ in range(300):
        body = lead_body(
            role=rng.choice(roles),
            sessionDuration=rng.uniform(0, 5000),
            beatsCompleted=rng.randint(0, 9),
            totalBeats=rng.randint(0, 9),
            toolsInvoked=[f"t{i}" for i in range(rng.randint(0, 6))],
            companySize=rng.choice([None, 3, 30, 300, "51-200"]),
            phone=rng.choice(["", "+1 555"]),
        )
        lead = lead_of("lead", body)
        lead["interest"]["implementationTimeline"] = rng.choice(timelines)
        lead["scenarios"] = [f"s{i}" for i in range(rng.randint(1, 5))]
        result = scoring.score_from_signals(lead)
        assert 0 <= result.breakdown["fit"] <= scoring.FIT_MAX
        assert 0 <= result.breakdown["engagement"] <= scoring.ENGAGEMENT_MAX
        assert 0 <= result.breakdown["intent"] <= scoring.INTENT_MAX
        assert 0 <= result.breakdown["reachability"] <= scoring.REACHABILITY_MAX
        assert result.score == sum(result.breakdown.values()) and 0 <= result.score <= 100
        assert result.tier == session_scoring.tier_for(result.score)


def test_the_maximum_is_reachable():
    body = lead_body(
        role="Founder & CEO", companySize="500+", toolsInvoked=["a", "b", "c"], beatsCompleted=5, sessionDuration=600
    )
    lead = merge.merge_submission(
        lead_of("lead", body),
        documents.to_submission("contact", contact_body(role="Founder & CEO")),
        now=NOW,
    )
    lead["scenarios"] += ["dental-recall", "legal-intake"]
    result = scoring.score_from_signals(lead)
    assert result.breakdown == {"fit": 30, "engagement": 30, "intent": 25, "reachability": 15}
    assert (result.score, result.tier) == (100, "hot")


@pytest.mark.parametrize(
    ("role", "level"),
    [
        ("VP of Operations", "vp"),
        ("Vice-President, Sales", "vp"),
        ("Operations Director", "vp"),
        ("Head of Sales", "vp"),
        ("Managing Director", "executive"),
        ("Co-Founder & CEO", "executive"),
        ("Owner", "executive"),
        ("Partner", "executive"),
        ("Directora General", "executive"),
        ("Dueño", "executive"),
        ("Practice Manager", "manager"),
        ("Gerente de oficina", "manager"),
        ("Team Lead", "manager"),
        ("Nurse", "other"),
        ("Principal Engineer", "other"),
        ("", None),
        (None, None),
    ],
)
def test_seniority(role, level):
    assert scoring.seniority(role) == level


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Within 30 days", 30),
        ("ASAP", 0),
        ("Lo antes posible", 0),
        ("this month", 0),
        ("2 weeks", 14),
        ("1-3 months", 90),
        ("de 1 a 3 meses", 90),
        ("this quarter", 90),
        ("next month", 60),
        ("6 months", 180),
        ("12 months", 360),
        ("next year", 730),
        ("Right now we use Athena; next year maybe", 730),
        ("not now", None),
        ("Just exploring", None),
        ("Q3", None),
        ("", None),
        (None, None),
    ],
)
def test_timeline_days(text, days):
    assert scoring.timeline_days(text) == days


@pytest.mark.parametrize(
    ("interest", "people"),
    [
        ({"companySize": "51-200"}, 51),
        ({"companySize": "1,000+"}, 1000),
        ({"companySize": "250"}, 250),
        ({"companySize": 40}, 40),
        ({"companySize": 0}, None),
        ({"message": "I want a demo for my 200-person team."}, 200),
        ({"message": "We are a team of 12"}, 12),
        ({"primaryInterest": "Intake for 1,200 employees"}, 1200),
        ({"companySize": "small", "message": "we have 3 doctors"}, 3),
        ({"message": "call me at 555 1234"}, None),
        ({}, None),
    ],
)
def test_headcount(interest, people):
    assert scoring.headcount(interest) == people


def test_free_mail_is_not_a_work_email():
    work = scoring.reachability_points({"contact": {"email": "jane@acme.com"}})
    free = scoring.reachability_points({"contact": {"email": "jane@gmail.com"}})
    assert (work, free) == (3, 0)


def test_source_points_take_the_strongest_source():
    assert scoring.source_points(["demo-results", "contact"]) == 10
    assert scoring.source_points(["newsletter"]) == scoring.OTHER_SOURCE_POINTS
    assert scoring.source_points([]) == 0
