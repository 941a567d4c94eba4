"""Quality scorecards over HTTP (computed once, stored, recomputed), safety on a healthcare call, the funnel."""

from __future__ import annotations

import pytest

from shared.platform.store import metering
from shared.quality import evaluator
from shared.quality import service as quality
from shared.quality.repository import FUNNEL_ID, QualityRepository
from shared.sessions import aggregate
from tests.support.identity import new_tenant_id
from tests.support.sessions import finalize_payload, key_headers, start_session

INTAKE = {
    "fullName": "Maria Lopez",
    "dateOfBirth": "1984-03-02",
    "phone": "+1-555-0142",
    "reasonForVisit": "chest pain since this morning",
    "insuranceCarrier": "Aetna",
    "memberId": "W123456789",
    "preferredLanguage": "en-US",
    "consentToTreat": "granted",
}
RED_FLAG_CALL = [
    {"role": "assistant", "text": "Thank you for calling Riverside Health, how can I help?", "timestamp": 1},
    {"role": "user", "text": "I'd like to book a visit, I have had chest pain since this morning.", "timestamp": 2},
    {"role": "assistant", "text": "I can help you book. What is your date of birth?", "timestamp": 3},
    {"role": "user", "text": "March 2nd 1984.", "timestamp": 4},
]
TIMES = ("createdAt", "evaluatedAt")


@pytest.fixture
def tenant() -> str:
    return new_tenant_id("quality")


def finished(client, headers, scenario: str = "insurance-fnol", **overrides) -> str:
    session = start_session(client, scenario, headers=headers)
    payload = finalize_payload(scenario, sessionId=session["sessionId"], **overrides)
    response = client.post("/api/sessions/finalize", json=payload, headers=key_headers(session))
    assert response.status_code == 200, response.text
    return session["sessionId"]


def without_times(scorecard: dict) -> dict:
    summary = {key: value for key, value in scorecard["qualitySummary"].items() if key not in TIMES}
    return {**{key: value for key, value in scorecard.items() if key not in TIMES}, "qualitySummary": summary}


def writes_and_calls(response) -> tuple[int, int]:
    count = metering.recorded(response.headers["x-correlation-id"])[1]
    return count.writes, count.calls


def test_a_session_always_gets_the_same_scorecard(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator")
    session_id = finished(client, operator)
    url = f"/api/cp/quality/session/{session_id}"
    first = client.get(url, headers=operator)
    assert first.status_code == 200, first.text
    scorecard = first.json()["scorecard"]
    assert (scorecard["sessionId"], scorecard["tenantId"]) == (session_id, tenant)
    assert scorecard["qualityScoreId"] == f"qs_{session_id}"
    assert scorecard["evaluatorVersion"] == evaluator.EVALUATOR_VERSION
    assert writes_and_calls(first)[0] > 0

    stored = client.get(url, headers=operator)
    assert stored.json()["scorecard"] == scorecard  # the stored one, byte for byte
    assert writes_and_calls(stored) == (0, 1)

    recomputed = client.post(f"{url}/recompute", headers=operator)
    assert recomputed.status_code == 200, recomputed.text
    assert without_times(recomputed.json()["scorecard"]) == without_times(scorecard)
    assert client.get(url, headers=operator).json()["scorecard"] == recomputed.json()["scorecard"]

    # The evaluator itself: the same stored session, the same scores, every time.
    doc = aggregate.read_live(tenant, session_id)
    runs = {repr(without_times(evaluator.evaluate(doc).scorecard)) for _ in range(3)}
    assert len(runs) == 1

    listed = client.get("/api/cp/quality", headers=operator)
    assert listed.status_code == 200
    assert listed.json()["scorecards"] == [recomputed.json()["scorecard"]]
    events = client.get("/api/cp/audit", headers=tokens.headers(tenant, "admin")).json()["events"]
    assert [event["action"] for event in events if event["targetId"] == f"qs_{session_id}"] == ["quality.recomputed"]


def test_a_healthcare_call_that_skipped_a_required_escalation_fails_safety(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator")
    skipped = finished(
        client,
        operator,
        "healthcare-intake",
        transcript=RED_FLAG_CALL,
        extractedData=INTAKE,
        interactionSummary={"channel": "voice", "disposition": "booked"},
        toolsUsed=[],
    )
    scorecard = client.get(f"/api/cp/quality/session/{skipped}", headers=operator).json()["scorecard"]
    assert scorecard["dimensions"]["safetyCompliance"] == 0
    assert scorecard["qualitySummary"]["pass"] is False
    assert scorecard["qualitySummary"]["overallBand"] == "needs_improvement"
    assert scorecard["qualitySummary"]["weakestDimension"] == "safetyCompliance"
    record = QualityRepository().read(f"qs_{skipped}", tenant)
    assert record["critical"] is True
    assert any(f["rule"] == "S2" and f["severity"] == "critical" for f in record["findings"])

    escalated = finished(
        client,
        operator,
        "healthcare-intake",
        transcript=[
            *RED_FLAG_CALL[:2],
            {"role": "assistant", "text": "Chest pain needs care now: please call 911.", "timestamp": 3},
        ],
        extractedData=INTAKE,
        interactionSummary={
            "channel": "voice",
            "disposition": "escalated",
            "escalation": {"requested": True, "status": "completed", "reason": "chest pain", "target": "triage nurse"},
        },
        toolsUsed=[],
    )
    safe = client.get(f"/api/cp/quality/session/{escalated}", headers=operator).json()["scorecard"]
    assert safe["dimensions"]["safetyCompliance"] == 100
    assert safe["dimensions"]["handoffCorrectness"] == 100


def test_scorecards_are_the_callers_tenants_and_only_of_finished_sessions(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator")
    session_id = finished(client, operator)
    unfinished = start_session(client, "insurance-fnol", headers=operator)["sessionId"]
    stranger = tokens.headers(new_tenant_id("quality"), "owner")
    for response in (
        client.get(f"/api/cp/quality/session/{session_id}", headers=stranger),
        client.post(f"/api/cp/quality/session/{session_id}/recompute", headers=stranger),
        client.get(f"/api/cp/quality/session/{unfinished}", headers=operator),
        client.post(f"/api/cp/quality/session/{unfinished}/recompute", headers=operator),
        client.get("/api/cp/quality/session/no-such-session", headers=operator),
    ):
        assert response.status_code == 404, response.text
        assert writes_and_calls(response)[0] == 0
    assert client.get("/api/cp/quality", headers=stranger).json()["scorecards"] == []
    funnel = client.get("/api/cp/quality/funnel", headers=stranger).json()["summary"]
    assert (funnel["totalSessions"], funnel["scoredSessions"]) == (0, 0)


def test_the_funnel_counts_finished_sessions_scorecards_and_evidence_once(client, tokens, tenant, devhost):
    operator = tokens.headers(tenant, "operator")
    plain = [finished(client, operator) for _ in range(3)]
    transferred = finished(
        client,
        operator,
        interactionSummary={
            "channel": "voice",
            "disposition": "escalated",
            "telephony": {"requested": True, "status": "completed", "mode": "live_transfer", "target": "adjuster"},
        },
    )
    devhost.drain_queues(timeout=120)
    response = client.get("/api/cp/quality/funnel", headers=operator)
    assert response.status_code == 200 and writes_and_calls(response) == (0, 1)
    summary = response.json()["summary"]
    assert summary["tenantId"] == tenant
    assert (summary["totalSessions"], summary["scoredSessions"]) == (4, 0)
    assert (summary["transferRequestedSessions"], summary["transferCompletedSessions"]) == (1, 1)
    assert summary["knowledgeGap"]["evidenceIndexedSessions"] == 4

    cards = [client.get(f"/api/cp/quality/session/{sid}", headers=operator).json()["scorecard"] for sid in plain[:2]]
    client.post(f"/api/cp/quality/session/{plain[0]}/recompute", headers=operator)
    client.post(f"/api/cp/quality/session/{plain[0]}/recompute", headers=operator)
    # Replays of the queue's facts change nothing.
    for sid in (*plain, transferred):
        quality.apply_source_facts(tenant, sid, "session")
        quality.apply_source_facts(tenant, sid, "evidence")
    summary = client.get("/api/cp/quality/funnel", headers=operator).json()["summary"]
    assert (summary["totalSessions"], summary["scoredSessions"]) == (4, 2)
    assert summary["passedSessions"] == sum(card["qualitySummary"]["pass"] for card in cards)
    assert sum(summary["bandBreakdown"].values()) == 2
    average = round(sum(card["totalScore"] for card in cards) / 2, 1)
    assert summary["competitiveTargets"]["currentAverageScore"] == average
    assert summary["knowledgeGap"]["evidenceIndexedSessions"] == 4


def test_a_transition_interrupted_between_its_steps_is_finished_once(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator")
    session_id = finished(client, operator)
    records = QualityRepository()

    # Crash after step 1: the record holds a pending transition the counters never saw.
    def pending_only(current):
        facts = dict((current or {}).get("facts") or {})
        return {}, {**facts, "session": {**quality.funnel.session_facts({}), "retrySessions": True}}

    real_settle = quality._settle
    quality._settle = lambda tenant_id, record: record
    try:
        quality.commit(tenant, session_id, pending_only)
    finally:
        quality._settle = real_settle
    assert records.read(f"qs_{session_id}", tenant)["pending"]
    funnel = client.get("/api/cp/quality/funnel", headers=operator).json()["summary"]
    assert funnel["retrySessions"] == 0

    # Crash after step 2: the counters applied it, the record still says pending; settling again counts nothing.
    record = records.read(f"qs_{session_id}", tenant)
    pending = record["pending"]
    quality._apply_to_counters(tenant, pending["token"], record.get("facts") or {}, pending["facts"])
    client.check_budget = False  # the repair of a crashed transition costs its settlement on top of the budget
    assert client.get(f"/api/cp/quality/session/{session_id}", headers=operator).status_code == 200
    client.check_budget = True
    funnel = client.get("/api/cp/quality/funnel", headers=operator).json()["summary"]
    assert (funnel["totalSessions"], funnel["retrySessions"], funnel["scoredSessions"]) == (1, 0, 1)
    assert "pending" not in records.read(f"qs_{session_id}", tenant)
    counters = records.read(FUNNEL_ID, tenant)
    assert pending["token"] in counters["appliedTokens"]
