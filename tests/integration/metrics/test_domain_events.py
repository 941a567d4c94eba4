"""Other domains' facts reach the metrics through domain events: leads, their moves, exceptions."""

from __future__ import annotations

from shared.exceptions import service as exceptions
from shared.sessions import aggregate
from tests.support.identity import new_tenant_id
from tests.support.leads import new_lead_body
from tests.support.sessions import start_session


def test_a_lead_and_its_status_move_are_counted_in_the_pipeline(client, tokens, devhost):
    tenant = new_tenant_id("evt")
    admin = tokens.headers(tenant, "admin")
    lead = client.post(
        "/api/leads",
        json=new_lead_body(),
        headers=admin,
    )
    assert lead.status_code in (200, 202), lead.text
    lead_id = lead.json()["leadId"]
    assert client.patch(f"/api/cp/leads/{lead_id}", json={"status": "contacted"}, headers=admin).status_code == 200
    devhost.drain_queues(timeout=20)
    pipeline = client.get("/api/cp/metrics/pipeline", headers=tokens.headers(tenant, "operator")).json()
    assert pipeline["leads"]["total"] == 1
    assert pipeline["leads"]["byStatus"].get("contacted") == 1 and not pipeline["leads"]["byStatus"].get("new")
    assert client.get("/api/cp/metrics", headers=tokens.headers(tenant, "operator")).json()["totalLeads"] == 1


def test_exceptions_opened_and_resolved_reach_the_session_feed(client, tokens, devhost):
    tenant = new_tenant_id("evt")
    operator = tokens.headers(tenant, "operator")
    session = start_session(client, headers=operator)
    stored_session = aggregate.read_live(tenant, session["sessionId"])
    opened = exceptions.open_exception(
        tenant,
        session["sessionId"],
        category="connector",
        error_type="connector_unavailable",
        title="EHR connector unavailable",
        message="The EHR did not answer",
        reason_group="connector",
        session=stored_session,
    )
    devhost.drain_queues(timeout=20)
    feed = client.get("/api/cp/metrics/sessions/events", headers=operator).json()["events"]
    assert [event["eventType"] for event in feed].count("session.exception") == 1
    assert (
        client.post(
            f"/api/cp/sessions/exceptions/{opened['id']}/action", json={"action": "resolve"}, headers=operator
        ).status_code
        == 200
    )
    devhost.drain_queues(timeout=20)
    overview = client.get("/api/cp/metrics/overview", headers=operator)
    assert overview.status_code == 200
