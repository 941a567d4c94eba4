"""How a session's facts move its tenant's funnel counters: by the difference, per source."""

from __future__ import annotations

from shared.quality import funnel
from shared.quality.service import apply_facts

SESSION = {"transferRequested": True, "transferCompleted": False, "fallbackSessions": False, "retrySessions": False}
CARD = {"score": 82.5, "passed": True, "band": "good"}
GAP = {
    "scenarioId": "legal-pi-intake",
    "citationBacked": False,
    "zeroCitation": True,
    "degradedIngestion": False,
    "retryableIngestion": False,
}


def test_first_facts_count_the_session_once_per_source():
    counters = apply_facts(None, {}, {"session": SESSION, "scorecard": CARD, "evidence": GAP})
    assert (counters["sessions"], counters["scored"], counters["evidenceIndexed"]) == (1, 1, 1)
    assert (counters["transferRequested"], counters["passed"], counters["bandGood"]) == (1, 1, 1)
    assert counters["gapScenarios"] == {"legal-pi-intake": 1}
    assert "appliedTokens" not in counters


def test_changed_facts_move_counters_by_the_difference_and_same_facts_move_nothing():
    facts = {"session": SESSION, "scorecard": CARD}
    counters = apply_facts(None, {}, facts)
    assert apply_facts(counters, facts, facts) == funnel.counters_of(counters)
    worse = {
        "session": {**SESSION, "transferCompleted": True},
        "scorecard": {"score": 55.0, "passed": False, "band": "fair"},
    }
    moved = apply_facts({**counters, "_etag": "x", "id": "funnel"}, facts, worse)
    assert (moved["sessions"], moved["scored"], moved["passed"]) == (1, 1, 0)
    assert (moved["bandGood"], moved["bandFair"], moved["transferCompleted"]) == (0, 1, 1)
    assert moved["scoreSum"] == 55.0
    assert "_etag" not in moved and "id" not in moved


def test_a_source_without_new_facts_is_left_as_it_was():
    counters = apply_facts(None, {}, {"evidence": GAP})
    assert apply_facts(counters, {"evidence": GAP}, {"evidence": GAP, "session": None}) == funnel.counters_of(counters)
