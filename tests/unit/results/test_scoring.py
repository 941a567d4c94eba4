"""The lead-score model: components, tiers, monotonicity, determinism and the contract's leadScore shape."""

from __future__ import annotations

import copy
import itertools

import pytest

from shared.results import scoring
from shared.results.scoring import LeadSignals, lead_score, signals_from_session
from tests.support.schemas import assert_valid

SCENARIO = {
    "slug": "sales-inbound-lead-qualification",
    "industry": "sales",
    "tools": [{"name": f"t{i}"} for i in range(6)],
}


def turns(*texts: str, role: str = "user") -> list[dict]:
    return [{"role": role, "text": text, "timestamp": index} for index, text in enumerate(texts)]


def hot_session() -> dict:
    return {
        "scenarioId": "sales-inbound-lead-qualification",
        "transcript": [
            *turns("Hi, I run a 12-location clinic group", "What does the pricing look like?"),
            *turns("Happy to help. Tell me about your call volume.", role="assistant"),
            *turns("Could we start a pilot this quarter?", "How soon can we book a demo?", "Great", "Thanks", "Bye"),
        ],
        "duration": 420,
        "toolsUsed": ["lookup_crm_contact", "qualify_lead", "create_crm_lead", "book_sales_demo", "qualify_lead"],
        "extractedData": {"fullName": "Dana Ortiz", "email": "dana@example.com", "phone": "+15551234567"},
        "interactionSummary": {"disposition": "booked", "booking": {"requested": True, "status": "scheduled"}},
        "beatsCompleted": 5,
        "totalBeats": 6,
    }


def test_a_full_sales_conversation_is_a_hot_lead() -> None:
    signals = signals_from_session(hot_session(), scenario=SCENARIO)
    assert signals == LeadSignals(
        user_turns=7,
        duration_seconds=420.0,
        intent_groups=("pricing", "scheduling", "trial", "urgency"),
        contact_fields=("email", "name", "phone"),
        disposition="booked",
        booking="booked",
        escalated=False,
        distinct_tools=4,
        scenario_tool_count=6,
    )
    result = lead_score(signals)
    # engagement 15*7/8 + 10 = 23.1 -> 23; intent 4 groups * 3 = 12 + contact 10 = 22; action 25;
    # tools 4 of target ceil(0.75*6)=5 -> 20.
    assert result == {
        "score": 90,
        "tier": "hot",
        "breakdown": {"engagement": 23, "intent": 22, "action": 25, "toolUsage": 20},
    }
    assert_valid("lead_score_schema", result)


def test_an_empty_session_is_cold_and_valid() -> None:
    result = lead_score(signals_from_session({"scenarioId": "nope"}))
    assert result == {
        "score": 0,
        "tier": "cold",
        "breakdown": {"engagement": 0, "intent": 0, "action": 0, "toolUsage": 0},
    }
    assert_valid("lead_score_schema", result)


def test_signals_ignore_client_sent_scores() -> None:
    session = hot_session()
    tampered = {**session, "leadScore": 3, "leadTier": "cold", "results": {"leadScore": {"score": 1}}}
    assert signals_from_session(tampered, scenario=SCENARIO) == signals_from_session(session, scenario=SCENARIO)


def test_same_input_same_output_and_no_mutation() -> None:
    session = hot_session()
    before = copy.deepcopy(session)
    results = {repr(lead_score(signals_from_session(session, scenario=SCENARIO))) for _ in range(5)}
    assert len(results) == 1
    assert session == before


def test_the_catalog_scenario_is_used_when_none_is_given() -> None:
    # sales-inbound-lead-qualification offers 6 tools in the catalog.
    assert signals_from_session(hot_session()).scenario_tool_count == 6
    assert signals_from_session({"scenarioId": "unknown"}).scenario_tool_count == scoring.DEFAULT_SCENARIO_TOOL_COUNT


@pytest.mark.parametrize(
    ("score", "tier"),
    [(100, "hot"), (70, "hot"), (69, "warm"), (40, "warm"), (39, "cold"), (0, "cold")],
)
def test_tier_thresholds(score: int, tier: str) -> None:
    assert scoring.HOT_THRESHOLD == 70
    assert scoring.WARM_THRESHOLD == 40
    assert scoring.tier_for(score) == tier


def test_score_labels() -> None:
    assert [scoring.score_label(tier) for tier in ("hot", "warm", "cold", "?")] == [
        "Hot lead",
        "Warm lead",
        "Cold lead",
        "Cold lead",
    ]


def test_tier_follows_the_score_at_the_boundaries() -> None:
    # action 25 + tools 25 + engagement 20 (8 turns, 150 s) = 70 -> hot; one turn fewer -> 68 -> warm.
    hot = LeadSignals(user_turns=8, duration_seconds=150, disposition="booked", distinct_tools=5, scenario_tool_count=5)
    warm = LeadSignals(
        user_turns=7, duration_seconds=150, disposition="booked", distinct_tools=5, scenario_tool_count=5
    )
    assert lead_score(hot)["score"] == 70 and lead_score(hot)["tier"] == "hot"
    assert lead_score(warm)["score"] < 70 and lead_score(warm)["tier"] == "warm"


def test_engagement_saturates() -> None:
    assert scoring.engagement_points(LeadSignals(user_turns=8, duration_seconds=300)) == 25
    assert scoring.engagement_points(LeadSignals(user_turns=80, duration_seconds=30_000)) == 25
    assert scoring.engagement_points(LeadSignals(user_turns=4, duration_seconds=0)) == 8  # 7.5 rounds half up
    assert scoring.engagement_points(LeadSignals(user_turns=-3, duration_seconds=float("nan"))) == 0


def test_more_engagement_never_lowers_the_score() -> None:
    base = hot_session()
    base["interactionSummary"] = {"disposition": "qualified"}
    texts = ["ok", "What's the price?", "fine", "Can we book?", "sure"] * 3
    grid = {
        (count, duration): lead_score(
            signals_from_session({**base, "transcript": turns(*texts[:count]), "duration": duration}, scenario=SCENARIO)
        )["score"]
        for count in range(len(texts) + 1)
        for duration in (0, 30, 90, 180, 299, 300, 900)
    }
    for (count, duration), score in grid.items():
        for (more_count, more_duration), more_score in grid.items():
            if more_count >= count and more_duration >= duration:
                assert more_score >= score, ((count, duration), (more_count, more_duration))


def test_every_breakdown_is_within_bounds_and_sums_to_the_score() -> None:
    for turns_count, duration, groups, contacts, disposition, booking, escalated, tools, offered in itertools.product(
        (0, 3, 20),
        (0, 100, 1000),
        ((), ("pricing",), tuple(scoring.INTENT_GROUPS)),
        ((), ("email",), ("email", "name", "phone")),
        (None, "abandoned", "qualified", "booked"),
        (None, "requested", "booked"),
        (False, True),
        (0, 2, 9),
        (0, 6),
    ):
        signals = LeadSignals(turns_count, duration, groups, contacts, disposition, booking, escalated, tools, offered)
        result = lead_score(signals)
        assert all(0 <= value <= 25 and isinstance(value, int) for value in result["breakdown"].values())
        assert result["score"] == sum(result["breakdown"].values())
        assert result["tier"] == scoring.tier_for(result["score"])


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("What's the price for ten seats?", ("pricing",)),
        ("¿Cuánto cuesta el plan?", ("pricing",)),
        ("Can we run a pilot?", ("trial",)),
        ("Me gustaría una demostración", ("trial",)),
        ("I'd like to book a time", ("scheduling",)),
        ("Quiero agendar una cita", ("scheduling",)),
        ("Send me the contract and I'll sign up", ("commitment",)),
        ("Quiero contratar el servicio", ("commitment",)),
        ("How soon could we go live?", ("urgency",)),
        ("¿Qué tan pronto pueden empezar? Lo antes posible", ("urgency",)),
        ("I do my own bookkeeping on Facebook", ()),
        ("My hobby is demolition", ()),
        ("", ()),
    ],
)
def test_intent_keywords(text: str, groups: tuple[str, ...]) -> None:
    assert scoring.intent_groups_in([text]) == groups


def test_intent_reads_only_user_turns() -> None:
    session = {"transcript": turns("What's the price and can we book a demo?", role="assistant")}
    assert signals_from_session(session, scenario=SCENARIO).intent_groups == ()
    session = {"transcript": turns("What's the price?", role="User")}
    assert signals_from_session(session, scenario=SCENARIO).intent_groups == ("pricing",)


def test_intent_keyword_points_cap_at_fifteen_and_contact_adds_ten() -> None:
    all_groups = tuple(scoring.INTENT_GROUPS)
    assert scoring.intent_points(LeadSignals(intent_groups=all_groups)) == 15
    assert scoring.intent_points(LeadSignals(contact_fields=("email",))) == 4
    assert scoring.intent_points(LeadSignals(intent_groups=all_groups, contact_fields=("email", "name", "phone"))) == 25


def test_contact_fields_from_extracted_data_and_the_summary() -> None:
    session = {
        "extractedData": {"caller": {"firstName": "Ana"}, "emailAddress": " ", "notes": "call me", "companyName": "X"},
        "interactionSummary": {"contact": {"phoneNumber": "+34600000000"}},
    }
    assert signals_from_session(session, scenario=SCENARIO).contact_fields == ("name", "phone")
    assert signals_from_session({"extractedData": {"contact_email": "a@b.co"}}).contact_fields == ("email",)


@pytest.mark.parametrize(
    ("summary", "outcome", "points"),
    [
        ({"disposition": "booked"}, None, 25),
        ({"disposition": "qualified"}, None, 20),
        ({"disposition": "resolved"}, None, 15),
        ({"disposition": "escalated"}, None, 12),
        ({"disposition": "follow_up_required"}, None, 10),
        ({"disposition": "abandoned", "booking": {"requested": True, "status": "scheduled"}}, None, 0),
        ({"booking": {"requested": True}}, None, 12),
        ({"booking": {"requested": False, "status": "completed"}}, None, 25),
        ({}, {"status": "confirmed", "updatedAt": "x"}, 25),
        ({}, {"status": "slot_selected", "updatedAt": "x"}, 12),
        ({}, {"status": "cancelled", "updatedAt": "x"}, 0),
        ({"escalation": {"requested": True}}, None, 10),
        ({"telephony": {"requested": True, "mode": "callback"}}, None, 10),
        ({"disposition": "follow_up_required", "booking": {"requested": True}}, None, 12),
        ({}, None, 0),
    ],
)
def test_action_points(summary: dict, outcome: dict | None, points: int) -> None:
    session = {"interactionSummary": summary, "bookingOutcome": outcome}
    assert scoring.action_points(signals_from_session(session, scenario=SCENARIO)) == points


@pytest.mark.parametrize(
    ("used", "offered", "points"),
    [(0, 6, 0), (1, 6, 5), (5, 6, 25), (6, 6, 25), (9, 6, 25), (1, 1, 25), (1, 0, 25), (2, 4, 17)],
)
def test_tool_usage_points(used: int, offered: int, points: int) -> None:
    assert scoring.tool_usage_points(LeadSignals(distinct_tools=used, scenario_tool_count=offered)) == points


def test_distinct_tools_ignore_repeats_and_junk() -> None:
    session = {"toolsUsed": ["a", "a", "b", "", None, 3]}
    assert signals_from_session(session, scenario=SCENARIO).distinct_tools == 2


def test_malformed_sessions_do_not_raise() -> None:
    session = {
        "transcript": "nope",
        "duration": "long",
        "toolsUsed": {"a": 1},
        "extractedData": ["x"],
        "interactionSummary": None,
        "bookingOutcome": "confirmed",
    }
    result = lead_score(signals_from_session(session, scenario={"tools": None}))
    assert result["score"] == 0
    assert_valid("lead_score_schema", result)
