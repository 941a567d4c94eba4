"""The evidence index row: outcome, status, summary line, ingestion and citation summary, idempotent recomputation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.evidence import index
from tests.support.contract import load_contract, validate_schema
from tests.unit.evidence.conftest import stored_session

NOW = "2026-03-03T08:00:00.000Z"
LATER = "2026-03-04T09:30:00.000Z"


def row_schema() -> dict[str, Any]:
    operation = load_contract()["paths"]["/api/cp/evidence-packs/{id}"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return schema["properties"]["evidencePack"]


def compute(session: dict, executions: list | None = None, previous: dict | None = None, now: str = NOW) -> dict:
    return index.compute_row(session, tool_executions=executions or [], previous=previous, now=now)


def knowledge(status: str, *, collection: str | None = "faq", citations: list | None = None, **extra: Any) -> dict:
    execution: dict[str, Any] = {
        "id": f"exec-{status}-{collection}",
        "tool": "search_knowledge_base",
        "startedAt": "2026-03-02T10:13:00.000Z",
        "status": status,
        **extra,
    }
    if collection:
        execution["inputsPreview"] = {"query": "opening hours", "collection": collection}
    if citations is not None:
        execution["outputsPreview"] = {"citations": citations}
    return execution


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status": "active", "finalizedAt": None}, "unknown"),
        ({"bookingExceptions": [{"id": "x", "status": "open"}]}, "exception_open"),
        ({"bookingExceptions": [{"id": "x", "status": "resolved"}]}, "completed"),
        ({"bookingOutcome": {"status": "exception"}}, "exception_open"),
        ({"interactionSummary": {"escalation": {"requested": True}}}, "human_handoff"),
        ({"interactionSummary": {"telephony": {"requested": True, "mode": "live_transfer"}}}, "human_handoff"),
        ({"interactionSummary": {"telephony": {"requested": True, "mode": "callback"}}}, "completed"),
        ({"interactionSummary": {"disposition": "escalated"}}, "human_handoff"),
        ({"bookingOutcome": {"status": "confirmed"}}, "booking_confirmed"),
        ({"bookingOutcome": {"status": "slot_selected"}}, "booking_requested"),
        ({"bookingOutcome": {"status": "no_show_followup"}}, "booking_requested"),
        ({"interactionSummary": {"booking": {"requested": True}}}, "booking_requested"),
        (
            {"interactionSummary": {"booking": {"requested": True}}, "bookingOutcome": {"status": "cancelled"}},
            "completed",
        ),
        ({}, "completed"),
    ],
)
def test_the_outcome_follows_the_documented_order(changes, expected):
    assert index.outcome(stored_session(**changes)) == expected


def test_the_row_fits_the_contract_and_says_why_it_is_flagged_without_personal_data():
    session = stored_session(
        interactionSummary={"contact": {"displayName": "Ana Pérez", "phoneNumber": "+1-555-0100"}},
    )
    row = compute(session)
    validate_schema(row_schema(), index.view(row), "evidence index row")
    assert row["id"] == row["sessionId"] == session["id"] and row["tenantId"] == "clinic-north"
    assert row["evidenceIndexId"] == f"evidence:{session['id']}"
    # The fixture's webhook delivery failed: flagged, and the line says so.
    assert row["status"] == "flagged" and row["flags"] == ["1 failed integration delivery(ies)"]
    tier, score = session["results"]["leadScore"]["tier"], session["results"]["leadScore"]["score"]
    assert row["summaryLine"] == (
        f"Patient intake: completed · 3 min 05 s · {tier} lead ({score}) · "
        f"{len(session['results']['systemsUpdated'])} system(s) updated · flagged: 1 failed integration delivery(ies)"
    )
    text = json.dumps(index.view(row), ensure_ascii=False)
    for personal in ("Ana Pérez", "+1-555-0100", "Clínica Norte", "date of birth"):
        assert personal not in text
    assert "ttl" not in row
    # The row lives as long as its session.
    assert compute(stored_session(ttl=30 * 86400))["ttl"] == 30 * 86400


def test_a_clean_finished_session_is_complete_and_an_unfinished_one_a_draft():
    clean = stored_session(integrationOutcomes=[])
    assert compute(clean)["status"] == "complete"
    draft = compute(stored_session(status="active", finalizedAt=None, integrationOutcomes=[]))
    assert draft["status"] == "draft" and draft["outcome"] == "unknown"
    assert draft["summaryLine"] == "Patient intake: not finalized yet"


def test_failed_tools_and_open_exceptions_flag_the_row():
    session = stored_session(integrationOutcomes=[], bookingExceptions=[{"id": "e", "status": "open"}])
    executions = [{"id": "x", "tool": "lookup_patient", "startedAt": NOW, "status": "failed"}]
    row = compute(session, executions)
    assert row["status"] == "flagged"
    assert row["flags"] == ["1 open exception(s)", "1 failed tool call(s)"]


def test_no_knowledge_lookup_means_ingestion_not_started():
    summary = compute(stored_session())["ingestionSummary"]
    assert summary == {
        "ingestionStatus": "not_started",
        "healthStatus": "unknown",
        "sourceCount": 0,
        "indexedChunkCount": 0,
        "failedChunkCount": 0,
        "retryableChunkCount": 0,
        "citationCount": 0,
        "citationsBySource": [],
        "summary": "No knowledge source was consulted",
        "updatedAt": NOW,
    }


def test_lookups_and_citations_from_the_journal_and_knowledge_deliveries_are_counted_by_source():
    session = stored_session(
        integrationOutcomes=[
            {
                "id": "kb-1",
                "kind": "knowledge_source",
                "providerId": "sharepoint",
                "status": "sent",
                "payloadPreview": {"citations": [{"source": "handbook.pdf"}]},
            },
            {
                "id": "kb-2",
                "kind": "knowledge_source",
                "providerId": "sharepoint",
                "status": "failed",
                "retryable": True,
            },
        ]
    )
    executions = [
        knowledge("success", citations=[{"source": "faq/hours.md"}, {"source": "faq/hours.md"}, {"title": "x"}]),
        knowledge("success", collection="policies", citations=[{"collection": "policies"}]),
        knowledge("failed", collection="billing", retryable=False),
        {"id": "other", "tool": "lookup_patient", "startedAt": NOW, "status": "success"},
    ]
    summary = compute(session, executions)["ingestionSummary"]
    assert summary["ingestionStatus"] == "partial" and summary["healthStatus"] == "degraded"
    assert summary["sourceCount"] == 4  # faq, policies, billing, sharepoint
    assert (summary["indexedChunkCount"], summary["failedChunkCount"], summary["retryableChunkCount"]) == (3, 2, 1)
    assert summary["citationCount"] == 5
    assert summary["citationsBySource"] == [
        {"source": "faq/hours.md", "count": 2},
        {"source": "faq", "count": 1},
        {"source": "handbook.pdf", "count": 1},
        {"source": "policies", "count": 1},
    ]
    assert summary["summary"] == (
        "5 knowledge lookup(s) across 4 source(s): 3 succeeded, 2 failed (1 retryable), 0 pending; 5 citation(s)"
    )


@pytest.mark.parametrize(
    ("statuses", "ingestion", "health"),
    [
        (["success"], "complete", "healthy"),
        (["success", "pending"], "processing", "degraded"),
        (["failed", "failed"], "failed", "unhealthy"),
        (["success", "failed"], "partial", "degraded"),
    ],
)
def test_ingestion_status_and_health(statuses, ingestion, health):
    executions = [knowledge(status, collection=f"c{i}") for i, status in enumerate(statuses)]
    summary = compute(stored_session(integrationOutcomes=[]), executions)["ingestionSummary"]
    assert (summary["ingestionStatus"], summary["healthStatus"]) == (ingestion, health)
    row = compute(stored_session(integrationOutcomes=[]), executions)
    assert (row["status"] == "flagged") == (ingestion in ("failed", "partial"))


def test_recomputing_from_unchanged_sources_changes_nothing_and_a_change_moves_only_what_changed():
    session = stored_session()
    executions = [knowledge("success", citations=[{"source": "faq"}])]
    first = compute(session, executions, now=NOW)
    stored = {**first, "_etag": "x"}
    again = compute(session, executions, previous=stored, now=LATER)
    assert not index.changed(stored, again)
    assert again["createdAt"] == again["updatedAt"] == NOW
    assert again["ingestionSummary"]["updatedAt"] == NOW

    # The booking is confirmed: the row changes (outcome, line) but the ingestion summary keeps its instant.
    confirmed = compute({**session, "bookingOutcome": {"status": "confirmed"}}, executions, previous=stored, now=LATER)
    assert index.changed(stored, confirmed)
    assert confirmed["outcome"] == "booking_confirmed"
    assert confirmed["createdAt"] == NOW and confirmed["updatedAt"] == LATER
    assert confirmed["ingestionSummary"]["updatedAt"] == NOW

    more = compute(session, [*executions, knowledge("failed", collection="billing")], previous=stored, now=LATER)
    assert more["ingestionSummary"]["updatedAt"] == LATER and more["ingestionSummary"]["failedChunkCount"] == 1


def test_the_summary_line_is_bounded_and_a_strange_duration_is_not_trusted():
    long_title = stored_session(scenarioTitle="T" * 1000, duration=float("inf"))
    row = compute(long_title)
    assert len(row["summaryLine"]) == index.MAX_SUMMARY_CHARS
    assert "duration unknown" in compute(stored_session(duration="3 minutes"))["summaryLine"]
