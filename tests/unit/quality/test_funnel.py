"""The quality funnel from rollup counters: facts, idempotent deltas and the contract's summary."""

from __future__ import annotations

import random

from shared.quality.evaluator import evaluate
from shared.quality.funnel import (
    COUNT_FIELDS,
    MAX_GAP_SCENARIOS,
    apply_evidence,
    apply_scorecard,
    apply_session,
    empty_counters,
    evidence_facts,
    funnel_response,
    scorecard_facts,
    session_facts,
    summarize,
)
from tests.unit.pilots.schemas import assert_valid, funnel_schema

TENANT = "clinic-north"
NOW = "2026-12-07T10:00:00.000Z"


def card(score: float, band: str, passed: bool) -> dict:
    return {"totalScore": score, "qualitySummary": {"overallBand": band, "pass": passed}}


def evidence(scenario: str, citations: int, status: str = "complete", health: str = "healthy", retry: int = 0) -> dict:
    return {
        "scenarioId": scenario,
        "ingestionSummary": {
            "ingestionStatus": status,
            "healthStatus": health,
            "citationCount": citations,
            "retryableChunkCount": retry,
        },
    }


SESSIONS = [
    {"interactionSummary": {"telephony": {"requested": True, "mode": "live_transfer", "status": "completed"}}},
    {"interactionSummary": {"escalation": {"requested": True, "status": "pending"}}},
    {"interactionSummary": {"escalation": {"requested": True, "status": "completed"}}},
    {"workflowPolicy": {"state": "fallback"}},
    {"workflowPolicy": {"state": "retry"}},
    {"transferHandoff": {"handoffId": "h"}},
    {},
    {"interactionSummary": {"telephony": {"requested": False, "status": "completed"}}},
]
CARDS = [
    card(95.0, "excellent", True),
    card(82.5, "good", True),
    card(70.0, "fair", False),
    card(40.0, "needs_improvement", False),
    card(88.0, "good", True),
]
EVIDENCE = [
    evidence("healthcare-intake", 4),
    evidence("healthcare-intake", 0),
    evidence("dental-recall-booking", 0, status="partial", retry=3),
    evidence("legal-pi-intake", 2, health="degraded"),
    evidence("healthcare-intake", 0, status="failed", health="unhealthy", retry=1),
]


def built() -> dict:
    counters = empty_counters()
    for session in SESSIONS:
        counters = apply_session(counters, session_facts(session))
    for scorecard in CARDS:
        counters = apply_scorecard(counters, scorecard_facts(scorecard))
    for entry in EVIDENCE:
        counters = apply_evidence(counters, evidence_facts(entry))
    return counters


def test_session_facts() -> None:
    assert [session_facts(s) for s in SESSIONS] == [
        {"transferRequested": True, "transferCompleted": True, "fallbackSessions": False, "retrySessions": False},
        {"transferRequested": True, "transferCompleted": False, "fallbackSessions": False, "retrySessions": False},
        {"transferRequested": True, "transferCompleted": True, "fallbackSessions": False, "retrySessions": False},
        {"transferRequested": False, "transferCompleted": False, "fallbackSessions": True, "retrySessions": False},
        {"transferRequested": False, "transferCompleted": False, "fallbackSessions": False, "retrySessions": True},
        {"transferRequested": True, "transferCompleted": True, "fallbackSessions": False, "retrySessions": False},
        {"transferRequested": False, "transferCompleted": False, "fallbackSessions": False, "retrySessions": False},
        {"transferRequested": False, "transferCompleted": False, "fallbackSessions": False, "retrySessions": False},
    ]


def test_the_summary_of_a_hand_built_rollup() -> None:
    summary = summarize(built(), tenant_id=TENANT, now=NOW)
    assert_valid(funnel_schema(), {"success": True, "summary": summary})
    assert summary["tenantId"] == TENANT and summary["generatedAt"] == NOW
    assert (summary["totalSessions"], summary["scoredSessions"], summary["passedSessions"]) == (8, 5, 3)
    assert summary["passRate"] == 0.6
    assert (summary["transferRequestedSessions"], summary["transferCompletedSessions"]) == (4, 3)
    assert summary["transferCompletionRate"] == 0.75
    assert (summary["fallbackSessions"], summary["retrySessions"]) == (1, 1)
    assert summary["bandBreakdown"] == {"excellent": 1, "good": 2, "fair": 1, "needsImprovement": 1}
    assert summary["knowledgeGap"] == {
        "evidenceIndexedSessions": 5,
        "citationBackedSessions": 2,
        "citationCoverageRate": 0.4,
        "degradedIngestionSessions": 3,
        "zeroCitationSessions": 3,
        "retryableIngestionSessions": 2,
        "topGapScenarios": [
            {"scenarioId": "healthcare-intake", "sessions": 2},
            {"scenarioId": "dental-recall-booking", "sessions": 1},
            {"scenarioId": "legal-pi-intake", "sessions": 1},
        ],
    }
    targets = summary["competitiveTargets"]
    assert targets["overallTargetScore"] == 80.0
    assert targets["currentAverageScore"] == 75.1  # (95 + 82.5 + 70 + 40 + 88) / 5 = 75.1
    assert targets["deltaToOverallTarget"] == -4.9
    metrics = {m["metricId"]: m for m in targets["metrics"]}
    assert [m["metricId"] for m in targets["metrics"]] == [
        "average_quality_score",
        "pass_rate",
        "transfer_completion_rate",
        "citation_coverage_rate",
    ]
    assert metrics["average_quality_score"] | {"label": ""} == {
        "metricId": "average_quality_score",
        "label": "",
        "currentValue": 75.1,
        "targetValue": 80.0,
        "deltaToTarget": -4.9,
        "status": "at_risk",  # within 10% of the target
    }
    assert (metrics["pass_rate"]["status"], metrics["pass_rate"]["deltaToTarget"]) == ("off_track", -0.25)
    assert metrics["transfer_completion_rate"]["status"] == "off_track"
    assert metrics["citation_coverage_rate"]["status"] == "off_track"
    differentiators = {d["id"]: d for d in summary["differentiatorPackaging"]["differentiators"]}
    assert differentiators["transport_continuity"]["currentValue"] == 0.875
    assert differentiators["transport_continuity"]["proof"] == "7 of 8 sessions finished without a transport fallback"
    assert differentiators["orchestration_resilience"]["currentValue"] == 0.875
    assert differentiators["trusted_grounding"]["currentValue"] == 0.4
    assert differentiators["handoff_execution"]["currentValue"] == 0.75
    assert summary["differentiatorPackaging"]["generatedAt"] == NOW


def test_replaying_the_same_facts_moves_nothing() -> None:
    counters = built()
    for session in SESSIONS:
        facts = session_facts(session)
        assert apply_session(counters, facts, previous=facts) == counters
    for scorecard in CARDS:
        facts = scorecard_facts(scorecard)
        assert apply_scorecard(counters, facts, previous=facts) == counters
    for entry in EVIDENCE:
        facts = evidence_facts(entry)
        assert apply_evidence(counters, facts, previous=facts) == counters


def test_a_recompute_moves_the_score_between_bands() -> None:
    counters = built()
    old, new = scorecard_facts(CARDS[2]), scorecard_facts(card(91.0, "excellent", True))
    after = apply_scorecard(counters, new, previous=old)
    assert (after["scored"], after["passed"]) == (5, 4)
    assert (after["bandFair"], after["bandExcellent"]) == (0, 2)
    assert after["scoreSum"] == counters["scoreSum"] - 70.0 + 91.0
    assert summarize(after, tenant_id=TENANT)["competitiveTargets"]["currentAverageScore"] == 79.3


def test_a_transfer_that_completes_later_moves_one_count() -> None:
    counters = built()
    pending = session_facts(SESSIONS[1])
    done = session_facts({"interactionSummary": {"escalation": {"requested": True, "status": "completed"}}})
    after = apply_session(counters, done, previous=pending)
    assert after["sessions"] == counters["sessions"]
    assert (after["transferRequested"], after["transferCompleted"]) == (4, 4)


def test_an_evidence_entry_that_recovers_leaves_the_gap_list() -> None:
    counters = built()
    failed = evidence_facts(EVIDENCE[2])
    healed = evidence_facts(evidence("dental-recall-booking", 3))
    after = apply_evidence(counters, healed, previous=failed)
    assert "dental-recall-booking" not in after["gapScenarios"]
    assert (after["evidenceIndexed"], after["citationBacked"], after["degradedIngestion"]) == (5, 3, 2)
    assert after["retryableIngestion"] == 1


def test_the_order_of_events_does_not_matter() -> None:
    generator = random.Random(3)
    events = (
        [("s", session_facts(s)) for s in SESSIONS]
        + [("c", scorecard_facts(c)) for c in CARDS]
        + [("e", evidence_facts(e)) for e in EVIDENCE]
    )
    for _ in range(5):
        counters = empty_counters()
        for kind, facts in generator.sample(events, len(events)):
            apply = {"s": apply_session, "c": apply_scorecard, "e": apply_evidence}[kind]
            counters = apply(counters, facts)
        assert counters == built()


def test_counters_never_go_negative_and_bad_values_read_as_zero() -> None:
    counters = apply_scorecard(empty_counters(), scorecard_facts(card(50, "fair", False)), previous={"band": "good"})
    assert all(counters[name] >= 0 for name in COUNT_FIELDS)
    assert counters["bandGood"] == 0
    junk = {"sessions": -4, "scored": "7", "passed": float("nan"), "scoreSum": float("inf"), "gapScenarios": [1]}
    summary = summarize(junk, tenant_id=TENANT, now=NOW)
    assert_valid(funnel_schema(), funnel_response(junk, tenant_id=TENANT, now=NOW))
    assert (summary["totalSessions"], summary["scoredSessions"], summary["passedSessions"]) == (0, 0, 0)


def test_an_empty_rollup_is_honest_about_having_no_sample() -> None:
    response = funnel_response(None, tenant_id=TENANT, now=NOW)
    assert_valid(funnel_schema(), response)
    summary = response["summary"]
    assert summary["passRate"] == 0.0 and summary["competitiveTargets"]["currentAverageScore"] == 0.0
    assert {m["status"] for m in summary["competitiveTargets"]["metrics"]} == {"at_risk"}
    for differentiator in summary["differentiatorPackaging"]["differentiators"]:
        assert differentiator["status"] == "at_risk"
        assert differentiator["proof"].startswith("no sample yet: ")
        assert differentiator["currentValue"] == 0.0


def test_the_gap_map_stays_bounded() -> None:
    counters = empty_counters()
    for index in range(MAX_GAP_SCENARIOS + 20):
        counters = apply_evidence(counters, evidence_facts(evidence(f"scenario-{index:03d}", 0)))
    assert len(counters["gapScenarios"]) == MAX_GAP_SCENARIOS
    assert counters["zeroCitation"] == MAX_GAP_SCENARIOS + 20
    top = summarize(counters, tenant_id=TENANT, now=NOW)["knowledgeGap"]["topGapScenarios"]
    assert [item["scenarioId"] for item in top] == [f"scenario-{index:03d}" for index in range(5)]


def test_evaluator_scorecards_feed_the_rollup() -> None:
    session = {"id": "s", "tenantId": TENANT, "scenarioId": "dental-recall-booking", "bookingOutcome": {"status": "x"}}
    scorecard = evaluate(session, now=NOW).scorecard
    counters = apply_scorecard(empty_counters(), scorecard_facts(scorecard))
    band = scorecard["qualitySummary"]["overallBand"]
    key = {"excellent": "bandExcellent", "good": "bandGood", "fair": "bandFair"}.get(band, "bandNeedsImprovement")
    assert counters[key] == 1 and counters["scoreSum"] == scorecard["totalScore"]


def test_the_overall_target_can_be_the_tenants_own() -> None:
    summary = summarize(built(), tenant_id=TENANT, now=NOW, target_score=70)
    targets = summary["competitiveTargets"]
    assert (targets["overallTargetScore"], targets["deltaToOverallTarget"]) == (70.0, 5.1)
    average = targets["metrics"][0]
    assert (average["targetValue"], average["deltaToTarget"], average["status"]) == (70.0, 5.1, "on_track")
