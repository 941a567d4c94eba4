"""Triggering a published workflow: validated in the request, run by the queue job, each step journaled."""

from __future__ import annotations

import copy

from tests.support.identity import new_tenant_id
from tests.support.integrations import WebhookReceiver, connect_webhook
from tests.support.leads import outbox_messages
from tests.support.onboarding import create_profile, workflow_graph

BASE = "/api/cp/workflows"


def published_profile(client, headers, graph: dict | None = None, **answers) -> dict:
    profile = create_profile(client, headers, **answers)
    saved = client.put(f"{BASE}/{profile['id']}/draft", json=graph or workflow_graph(), headers=headers)
    assert saved.status_code == 200, saved.text
    published = client.post(f"{BASE}/{profile['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return profile


def trigger(client, headers, **body):
    return client.post(f"{BASE}/trigger", json=body, headers=headers)


def execution(tenant: str, execution_id: str) -> tuple[dict, list[dict]]:
    from shared.workflows.repository import ExecutionRepository

    executions = ExecutionRepository()
    return executions.read(execution_id, tenant), executions.steps(tenant, execution_id)


def test_a_run_is_queued_then_journaled_step_by_step(client, tokens, devhost):
    from shared.integrations import demo_store

    tenant = new_tenant_id("wfx")
    admin = tokens.headers(tenant, "admin")
    profile = published_profile(client, admin)
    operator = tokens.headers(tenant, "operator")
    response = trigger(
        client, operator, profileId=profile["id"], action="run", payload={"name": "Rivera", "insurance": "Delta"}
    )
    assert response.status_code == 200
    execution_id = response.json()["executionId"]
    queued, steps = execution(tenant, execution_id)
    assert queued["status"] == "queued" and steps == []  # nothing runs inside the request
    devhost.drain_queues()
    done, steps = execution(tenant, execution_id)
    assert done["status"] == "succeeded" and done["outcome"] == "qualified" and done["stepCount"] == 4
    assert [(s["nodeId"], s["status"]) for s in steps] == [
        ("ask", "succeeded"),
        ("insured", "succeeded"),
        ("crm", "succeeded"),
        ("done", "succeeded"),
    ]
    assert steps[1]["summary"] == "insurance exists: true"
    record = demo_store.records.read(steps[2]["externalId"], tenant)
    assert record["params"] == {"lastName": "Rivera", "company": "Lakeside Family Dental"}
    log = client.get("/api/cp/integrations/activity-log", headers=operator).json()["entries"]
    assert [(e["providerId"], e["action"], e["success"]) for e in log] == [("salesforce_mock", "create_lead", True)]
    # The message delivered again changes nothing.
    from shared.workflows import engine

    assert engine.run_execution(tenant, execution_id).endswith("already succeeded")
    assert len(execution(tenant, execution_id)[1]) == 4


def test_a_handoff_reaches_the_escalation_contact_and_the_webhook(client, tokens, devhost, receiver):
    tenant = new_tenant_id("wfx")
    admin = tokens.headers(tenant, "admin")
    profile = published_profile(client, admin, webhook=receiver.webhook())
    response = trigger(client, admin, profileId=profile["id"], action="run", payload={"name": "Rivera"})
    execution_id = response.json()["executionId"]
    devhost.drain_queues()
    done, steps = execution(tenant, execution_id)
    assert done["status"] == "succeeded"
    assert [s["nodeId"] for s in steps] == ["ask", "insured", "human", "done"]
    assert steps[1]["summary"] == "insurance exists: false"
    (event,) = receiver.events("workflow.handoff")
    assert event["signatureOk"] and event["body"]["data"]["reason"] == "No insurance"
    (mail,) = outbox_messages(execution_id)
    assert mail["To"] == "office.manager@lakeside-dental.test" and "No insurance" in mail.get_content()


def test_missing_input_stops_the_run_as_needs_input(client, tokens, devhost):
    tenant = new_tenant_id("wfx")
    admin = tokens.headers(tenant, "admin")
    profile = published_profile(client, admin)
    execution_id = trigger(client, admin, profileId=profile["id"], action="run").json()["executionId"]
    devhost.drain_queues()
    done, steps = execution(tenant, execution_id)
    assert done["status"] == "needs_input" and [(s["nodeId"], s["summary"]) for s in steps] == [("ask", "missing name")]


def test_a_node_action_starts_there_and_a_session_feeds_the_context(client, tokens, devhost):
    tenant = new_tenant_id("wfx")
    admin = tokens.headers(tenant, "admin")
    profile = published_profile(client, admin)
    session = client.post(
        "/api/sessions",
        json={"scenarioId": "dental-recall-booking", "onboardingProfileId": profile["id"]},
        headers=admin,
    ).json()
    finalized = client.post(
        "/api/sessions/finalize",
        json={
            "sessionId": session["sessionId"],
            "scenarioId": "dental-recall-booking",
            "extractedData": {"name": "Okafor"},
            "interactionSummary": {"disposition": "booked"},
        },
        headers={"x-session-access": session["accessKey"]},
    )
    assert finalized.status_code == 200
    response = trigger(client, admin, sessionId=session["sessionId"], action="crm")
    assert response.status_code == 200
    execution_id = response.json()["executionId"]
    devhost.drain_queues()
    done, steps = execution(tenant, execution_id)
    assert done["sessionId"] == session["sessionId"] and done["profileId"] == profile["id"]
    assert [s["nodeId"] for s in steps] == ["crm", "done"] and done["status"] == "succeeded"


def test_a_failing_tool_retries_then_fails(client, tokens, devhost, loopback, httpserver):
    tenant = new_tenant_id("wfx")
    admin = tokens.headers(tenant, "admin")
    hook = WebhookReceiver(httpserver)
    assert connect_webhook(client, admin, hook.url).status_code == 200
    hook.status = 503
    graph = copy.deepcopy(workflow_graph())
    graph["nodes"][2]["data"] = {
        "connector": "webhook",
        "action": "send_event",
        "params": {"event": "lead.captured", "data": {"name": "{{name}}"}},
        "maxRetries": 1,
    }
    profile = published_profile(client, admin, graph)
    execution_id = trigger(
        client, admin, profileId=profile["id"], action="run", payload={"name": "Rivera", "insurance": "Delta"}
    ).json()["executionId"]
    devhost.drain_queues()
    done, steps = execution(tenant, execution_id)
    assert done["status"] == "failed" and "HTTP 503" in done["error"]
    crm = [s for s in steps if s["nodeId"] == "crm"]
    assert [(s["status"], s["attempt"]) for s in crm] == [("failed", 1), ("failed", 2)]
    keys = [event["idempotencyKey"] for event in hook.events("lead.captured")]
    assert keys == [f"workflow:{execution_id}:crm:1", f"workflow:{execution_id}:crm:2"]
    assert all(event["body"]["data"] == {"name": "Rivera"} for event in hook.events("lead.captured"))


def test_bad_triggers_are_400s_and_store_nothing(client, tokens):
    tenant = new_tenant_id("wfx")
    admin = tokens.headers(tenant, "admin")
    draft_only = create_profile(client, admin)
    client.put(f"{BASE}/{draft_only['id']}/draft", json=workflow_graph(), headers=admin)
    not_published = trigger(client, admin, profileId=draft_only["id"], action="run")
    assert not_published.status_code == 400 and not_published.json()["error"] == "workflow_not_published"
    profile = published_profile(client, admin)
    unknown = trigger(client, admin, profileId=profile["id"], action="teleport")
    assert unknown.status_code == 400 and unknown.json()["error"] == "unknown_action"
    assert unknown.json()["details"] == ["run", "ask", "crm", "human"]
    ending = trigger(client, admin, profileId=profile["id"], action="done")
    assert ending.status_code == 400
    missing = trigger(client, admin, profileId="fsp_000000000000000000000000", action="run")
    assert missing.status_code == 400 and missing.json()["error"] == "unknown_profile"
    nothing = trigger(client, admin, action="run")
    assert nothing.status_code == 400 and nothing.json()["error"] == "profile_required"
    no_session = trigger(client, admin, sessionId="0" * 32, action="run")
    assert no_session.status_code == 400 and no_session.json()["error"] == "unknown_session"
    other_tenant = trigger(client, tokens.headers(new_tenant_id("x"), "admin"), profileId=profile["id"], action="run")
    assert other_tenant.status_code == 400 and other_tenant.json()["error"] == "unknown_profile"
    too_big = trigger(client, admin, profileId=profile["id"], action="run", payload={"blob": "x" * 17_000})
    assert too_big.status_code == 400
    assert trigger(client, tokens.headers(tenant, "viewer"), profileId=profile["id"], action="run").status_code == 403
