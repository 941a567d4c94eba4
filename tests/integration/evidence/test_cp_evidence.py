"""The control-plane evidence index: rows follow finished sessions, tenant-scoped reads, idempotent audited reindex."""

from __future__ import annotations

from shared.audit.service import events
from shared.sessions import aggregate
from tests.integration.evidence.conftest import DEMO_TOOLS, finished_session
from tests.support.identity import new_tenant_id
from tests.support.sessions import key_headers, start_session


def reindex_events(tenant: str) -> list[dict]:
    return [event for event in events.newest_for_tenant(tenant, 100) if event["action"] == "evidence.reindex"]


def test_a_finished_session_is_indexed_by_the_queue_and_listed_for_its_tenant_only(client, tokens, devhost):
    tenant = new_tenant_id("evx")
    session = finished_session(client, headers=tokens.headers(tenant, "operator"))
    sid = session["sessionId"]
    viewer = tokens.headers(tenant, "viewer")
    devhost.drain_queues()

    listed = client.get("/api/cp/evidence-packs", headers=viewer)
    assert listed.status_code == 200
    body = listed.json()
    assert body["success"] is True and body["tenantId"] == tenant
    [row] = body["evidencePacks"]
    assert row["sessionId"] == sid and row["evidenceIndexId"] == f"evidence:{sid}"
    assert row["tenantId"] == tenant and row["scenarioId"] == "insurance-fnol"
    assert row["outcome"] == "completed" and row["status"] == "complete"
    title = aggregate.sessions.read(sid, tenant)["scenarioTitle"]
    assert row["summaryLine"].startswith(f"{title}: completed · 4 min 00 s · ")
    assert " lead (" in row["summaryLine"] and row["summaryLine"].endswith("system(s) updated")
    assert row["ingestionSummary"]["ingestionStatus"] == "not_started"
    assert row["ingestionSummary"]["healthStatus"] == "unknown"
    one = client.get(f"/api/cp/evidence-packs/{sid}", headers=viewer)
    assert one.status_code == 200 and one.json() == {"success": True, "evidencePack": row}

    other = new_tenant_id("evx-other")
    assert client.get("/api/cp/evidence-packs", headers=tokens.headers(other, "viewer")).json()["evidencePacks"] == []
    assert client.get(f"/api/cp/evidence-packs/{sid}", headers=tokens.headers(other, "owner")).status_code == 404
    reindex = client.post(f"/api/cp/evidence-packs/{sid}/reindex", headers=tokens.headers(other, "admin"))
    assert reindex.status_code == 404
    assert client.post(f"/api/cp/evidence-packs/{sid}/reindex", headers=viewer).status_code == 403


def test_reindex_recomputes_from_stored_sources_idempotently_and_audits_a_change(client, tokens, devhost):
    tenant = new_tenant_id("evr")
    admin = tokens.headers(tenant, "admin")
    session = finished_session(
        client,
        headers=tokens.headers(tenant, "operator"),
        toolsUsed=["search_knowledge_base", "lookup_policy"],
        tools=[("search_knowledge_base", {"query": "insurance claim"}), DEMO_TOOLS[0]],
    )
    sid = session["sessionId"]
    devhost.drain_queues()
    indexed = client.get(f"/api/cp/evidence-packs/{sid}", headers=admin).json()["evidencePack"]
    ingestion = indexed["ingestionSummary"]
    assert ingestion["ingestionStatus"] == "complete" and ingestion["healthStatus"] == "healthy"
    assert ingestion["sourceCount"] == 1 and ingestion["indexedChunkCount"] == 1
    # The knowledge lookup's citations (catalog entries matching the query) are counted from the journal.
    assert ingestion["citationCount"] >= 1 and ingestion["citationsBySource"]

    # Nothing changed since the queue indexed it: the same row, no audit event.
    same = client.post(f"/api/cp/evidence-packs/{sid}/reindex", headers=admin)
    assert same.status_code == 200 and same.json() == {"success": True, "evidencePack": indexed}
    assert reindex_events(tenant) == []

    # A failed EHR delivery and an open exception are stored on the session: the row is flagged.
    def fail(doc: dict) -> None:
        doc["integrationOutcomes"] = [
            {"id": "out-1", "kind": "ehr", "status": "failed", "retryable": True, "summary": "EHR down"}
        ]
        doc["bookingExceptions"] = [{"id": "exc-1", "status": "open", "reasonCode": "connector_unavailable"}]

    aggregate.update(tenant, sid, fail)
    first = client.post(f"/api/cp/evidence-packs/{sid}/reindex", headers=admin)
    assert first.status_code == 200, first.text
    row = first.json()["evidencePack"]
    assert row["outcome"] == "exception_open" and row["status"] == "flagged"
    assert "flagged: 1 open exception(s), 1 failed integration delivery(ies)" in row["summaryLine"]
    assert row["createdAt"] == indexed["createdAt"] and row["updatedAt"] >= indexed["updatedAt"]
    assert row["ingestionSummary"] == indexed["ingestionSummary"]
    [event] = reindex_events(tenant)
    assert event["targetId"] == sid and event["targetType"] == "evidenceIndex"
    assert event["changes"]["status"] == {"from": "complete", "to": "flagged"}

    again = client.post(f"/api/cp/evidence-packs/{sid}/reindex", headers=admin)
    assert again.json() == first.json()
    assert len(reindex_events(tenant)) == 1


def test_a_session_without_a_row_is_404_until_reindex_builds_it_and_an_unfinished_one_is_a_draft(client, tokens):
    tenant = new_tenant_id("evd")
    admin = tokens.headers(tenant, "admin")
    session = start_session(client, headers=tokens.headers(tenant, "operator"))
    sid = session["sessionId"]
    missing = client.get(f"/api/cp/evidence-packs/{sid}", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"] == "evidence_not_indexed"
    built = client.post(f"/api/cp/evidence-packs/{sid}/reindex", headers=admin)
    assert built.status_code == 200, built.text
    row = built.json()["evidencePack"]
    assert row["status"] == "draft" and row["outcome"] == "unknown"
    title = aggregate.sessions.read(sid, tenant)["scenarioTitle"]
    assert row["summaryLine"] == f"{title}: not finalized yet"
    assert client.get(f"/api/cp/evidence-packs/{sid}", headers=admin).json()["evidencePack"] == row
    unknown = client.post(f"/api/cp/evidence-packs/{'e' * 32}/reindex", headers=admin)
    assert unknown.status_code == 404


def test_a_booking_confirmed_later_reaches_the_row_through_the_next_pack(client, tokens, devhost):
    tenant = new_tenant_id("evb")
    operator = tokens.headers(tenant, "operator")
    booked = {
        "channel": "voice",
        "disposition": "booked",
        "booking": {"requested": True, "status": "pending", "scheduledFor": "2026-12-01T15:00:00Z"},
    }
    session = finished_session(client, headers=operator, interactionSummary=booked)
    sid = session["sessionId"]
    devhost.drain_queues()
    url = f"/api/cp/evidence-packs/{sid}"
    assert client.get(url, headers=operator).json()["evidencePack"]["outcome"] == "booking_requested"
    confirm = client.patch(
        f"/api/sessions/{sid}/booking-lifecycle",
        json={"action": "confirm", "scheduledFor": "2026-12-01T15:00:00Z"},
        headers=operator,
    )
    assert confirm.status_code == 200, confirm.text
    assert client.get(f"/api/sessions/{sid}/evidence-packs", headers=operator).status_code == 200
    devhost.drain_queues()
    assert client.get(url, headers=operator).json()["evidencePack"]["outcome"] == "booking_confirmed"


def test_anonymous_demos_in_the_platform_tenant_are_not_indexed(client, devhost):
    from shared.evidence.service import rows

    session = finished_session(client)
    assert (
        client.get(f"/api/sessions/{session['sessionId']}/evidence-packs", headers=key_headers(session)).status_code
        == 200
    )
    devhost.drain_queues()
    assert rows.read(session["sessionId"], "default-practice") is None
