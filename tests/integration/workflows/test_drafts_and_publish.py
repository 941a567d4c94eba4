"""Workflow drafts (validated, optimistic) and publishing (immutable versions, the runtime and call state follow)."""

from __future__ import annotations

import copy
from functools import partial

from tests.support.concurrency import race_statuses
from tests.support.identity import new_tenant_id
from tests.support.onboarding import PERSONA, audit_events, create_profile, stored_profile, workflow_graph

BASE = "/api/cp/workflows"


def save(client, headers, profile_id: str, graph: dict, etag: str | None = None):
    extra = {"If-Match": etag} if etag is not None else {}
    return client.put(f"{BASE}/{profile_id}/draft", json=graph, headers={**headers, **extra})


def publish(client, headers, profile_id: str):
    return client.post(f"{BASE}/{profile_id}/publish", headers=headers)


def relabelled(label: str) -> dict:
    graph = workflow_graph()
    graph["nodes"][0]["data"]["label"] = label
    return graph


def test_a_draft_is_validated_saved_and_read_back_with_its_etag(client, tokens):
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)
    empty = client.get(f"{BASE}/{profile['id']}", headers=tokens.headers(tenant, "operator"))
    assert empty.status_code == 200 and empty.headers["ETag"] == '"0"'
    assert empty.json()["workflow"] == {
        "id": f"{profile['id']}:draft",
        "profileId": profile["id"],
        "status": "draft",
        "nodes": [],
        "edges": [],
        "updatedAt": profile["createdAt"],
    }
    saved = save(client, admin, profile["id"], workflow_graph(), '"0"')
    assert saved.status_code == 200 and saved.headers["ETag"] == '"1"'
    workflow = saved.json()["workflow"]
    assert workflow["status"] == "draft" and [n["id"] for n in workflow["nodes"]][:2] == ["ask", "insured"]
    assert workflow["nodes"][2]["data"]["maxRetries"] == 1
    read = client.get(f"{BASE}/{profile['id']}", headers=admin)
    assert read.json()["workflow"] == workflow and read.headers["ETag"] == '"1"'
    assert stored_profile(tenant, profile["id"])["workflowDraftId"] == f"{profile['id']}:draft"
    assert (
        client.get(f"/api/cp/onboarding/fast-start/{profile['id']}", headers=admin).json()["item"]["workflowDraftId"]
        == f"{profile['id']}:draft"
    )
    (event,) = [e for e in audit_events(tenant) if e["action"] == "workflow.draft_saved"]
    assert event["changes"] == {
        "revision": {"from": 0, "to": 1},
        "nodes": {"from": 0, "to": 5},
        "edges": {"from": 0, "to": 6},
    }


def test_an_invalid_draft_is_refused_naming_every_problem(client, tokens):
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)
    graph = workflow_graph()
    graph["nodes"].append({"id": "stray", "type": "teleport", "position": {"x": 0, "y": 0}, "data": {}})
    graph["edges"].append({"id": "e9", "source": "done", "target": "ghost"})
    response = save(client, admin, profile["id"], graph)
    assert response.status_code == 400 and response.json()["error"] == "invalid_workflow"
    details = response.json()["details"]
    assert any(d.startswith("nodes[5] ('stray'): type must be one of") for d in details)
    assert "edges[6] ('e9'): target must name an existing node" in details
    assert client.get(f"{BASE}/{profile['id']}", headers=admin).headers["ETag"] == '"0"'


def test_stale_saves_are_409s_and_a_save_must_name_its_revision(client, tokens):
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)
    assert save(client, admin, profile["id"], workflow_graph()).status_code == 200  # first save: nothing to name
    second = save(client, admin, profile["id"], relabelled("Second"), '"1"')
    assert second.status_code == 200 and second.headers["ETag"] == '"2"'
    stale = save(client, admin, profile["id"], relabelled("Stale"), '"1"')
    assert stale.status_code == 409 and stale.json()["error"] == "stale_draft"
    unnamed = save(client, admin, profile["id"], relabelled("Blind"))
    assert unnamed.status_code == 400 and unnamed.json()["error"] == "precondition_required"
    by_body = client.put(f"{BASE}/{profile['id']}/draft", json={**relabelled("Body"), "revision": 2}, headers=admin)
    assert by_body.status_code == 200 and by_body.headers["ETag"] == '"3"'
    read = client.get(f"{BASE}/{profile['id']}", headers=admin).json()["workflow"]
    assert read["nodes"][0]["data"]["label"] == "Body"


def test_two_concurrent_saves_of_the_same_revision_give_one_409(devhost, tokens):
    from tests.support.client import ContractClient

    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    with ContractClient(devhost.asgi) as setup:
        profile = create_profile(setup, admin)
        assert save(setup, admin, profile["id"], workflow_graph()).status_code == 200
    for round_number in range(3):
        revision = f'"{round_number + 1}"'
        writers = [
            partial(
                save,
                headers=admin,
                profile_id=profile["id"],
                graph=relabelled(f"round {round_number} writer {i}"),
                etag=revision,
            )
            for i in range(2)
        ]
        statuses = race_statuses(devhost.asgi, writers)
        assert sorted(statuses) == [200, 409], statuses


def test_two_concurrent_first_saves_give_one_409(devhost, tokens):
    from tests.support.client import ContractClient

    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    with ContractClient(devhost.asgi) as setup:
        profile = create_profile(setup, admin)
    writers = [
        partial(save, headers=admin, profile_id=profile["id"], graph=relabelled(f"first {i}"), etag='"0"')
        for i in range(2)
    ]
    assert sorted(race_statuses(devhost.asgi, writers)) == [200, 409]


def test_roles_and_tenants(client, tokens):
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)
    operator = tokens.headers(tenant, "operator")
    assert save(client, operator, profile["id"], workflow_graph()).status_code == 403
    assert publish(client, operator, profile["id"]).status_code == 403
    stranger = tokens.headers(new_tenant_id("other"), "owner")
    assert client.get(f"{BASE}/{profile['id']}", headers=stranger).status_code == 404
    assert save(client, stranger, profile["id"], workflow_graph()).status_code == 404
    assert publish(client, stranger, profile["id"]).status_code == 404


def test_publishing_freezes_versions_that_stay_readable(client, tokens):
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)
    nothing = publish(client, admin, profile["id"])
    assert nothing.status_code == 400 and nothing.json()["error"] == "no_draft"
    save(client, admin, profile["id"], relabelled("Version one"))
    first = publish(client, admin, profile["id"])
    assert first.status_code == 200
    v1 = first.json()["workflow"]
    assert (v1["id"], v1["status"]) == (f"{profile['id']}:v1", "published") and v1["publishedAt"]
    state = client.get(f"{BASE}/{profile['id']}", headers=admin).json()["workflow"]
    assert state == v1
    item = client.get(f"/api/cp/onboarding/fast-start/{profile['id']}", headers=admin).json()["item"]
    assert (item["publishedWorkflowId"], item["publishedWorkflowVersion"]) == (v1["id"], 1)
    assert item["workflow"] == {"nodes": v1["nodes"], "edges": v1["edges"]}
    # Publishing the same content again changes nothing.
    again = publish(client, admin, profile["id"])
    assert again.json()["workflow"]["id"] == v1["id"]
    # A changed draft shows as the draft until it is published as version 2.
    save(client, admin, profile["id"], relabelled("Version two"), '"1"')
    assert client.get(f"{BASE}/{profile['id']}", headers=admin).json()["workflow"]["status"] == "draft"
    v2 = publish(client, admin, profile["id"]).json()["workflow"]
    assert v2["id"] == f"{profile['id']}:v2" and v2["nodes"][0]["data"]["label"] == "Version two"
    old = client.get(f"{BASE}/{profile['id']}", params={"version": 1}, headers=admin)
    assert old.status_code == 200 and "ETag" not in old.headers
    assert old.json()["workflow"]["status"] == "archived"
    assert old.json()["workflow"]["nodes"][0]["data"]["label"] == "Version one"
    assert client.get(f"{BASE}/{profile['id']}", params={"version": 2}, headers=admin).json()["workflow"] == v2
    assert client.get(f"{BASE}/{profile['id']}", params={"version": 3}, headers=admin).status_code == 404
    assert client.get(f"{BASE}/{profile['id']}", params={"version": "two"}, headers=admin).status_code == 400
    assert [e["action"] for e in audit_events(tenant)].count("workflow.published") == 2


def test_publishing_an_invalid_draft_names_each_problem(client, tokens):
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin, escalationContact="Dr. Reyes at the front desk")
    graph = copy.deepcopy(workflow_graph())
    graph["nodes"][2]["data"] = {"label": "Chart", "connector": "ehr", "action": "create_patient", "maxRetries": 1}
    graph["nodes"].insert(4, {"id": "book", "type": "booking", "position": {"x": 0, "y": 250}, "data": {}})
    graph["edges"][3] = {"id": "e4", "source": "crm", "target": "book"}
    graph["edges"].append({"id": "e6", "source": "book", "target": "done"})
    assert save(client, admin, profile["id"], graph).status_code == 200  # the draft itself is well formed
    response = publish(client, admin, profile["id"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_workflow"
    assert sorted(response.json()["details"]) == [
        "node 'book': a booking needs the profile's booking link",
        "node 'crm': no ehr connector is connected for this practice",
        "node 'human': a handoff needs the profile's escalation contact as an email address, or a webhook",
    ]
    assert "publishedWorkflowVersion" not in stored_profile(tenant, profile["id"])


def test_a_draft_saved_under_another_vocabulary_must_be_saved_again(client, tokens):
    from shared.workflows.repository import WorkflowRepository

    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)
    save(client, admin, profile["id"], workflow_graph())
    drafts = WorkflowRepository()
    doc = drafts.read(f"{profile['id']}:draft", tenant)
    drafts.replace({**doc, "vocabulary": "tellgence.workflow/v0"})
    response = publish(client, admin, profile["id"])
    assert response.status_code == 400
    assert response.json()["details"] == [
        "the draft was saved under the vocabulary 'tellgence.workflow/v0'; save it again under 'tellgence.workflow/v1'"
    ]


def test_the_persona_runtime_follows_the_published_version(client, tokens):
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)

    def runtime() -> dict:
        response = client.get(
            f"/api/personas/{PERSONA}/runtime", params={"onboardingProfileId": profile["id"]}, headers=admin
        )
        assert response.status_code == 200
        return response.json()

    before = runtime()
    assert "published workflow" not in before["instructions"] and before["workflowProfileId"] == "hc_dental_recall"
    save(client, admin, profile["id"], relabelled("Greet and identify"))
    assert runtime() == before  # a draft changes nothing
    publish(client, admin, profile["id"])
    after = runtime()
    assert after["workflowProfileId"] == f"{profile['id']}:v1"
    assert f"Follow the practice's published workflow {profile['id']}:v1 (version 1):" in after["instructions"]
    assert "1. Greet and identify: capture name." in after["instructions"]
    assert after["contextEnvelope"]["layers"]["tenantRuntimeHints"] in after["instructions"]
    assert (
        after["contextEnvelope"]["layers"]["policyFingerprint"]
        != before["contextEnvelope"]["layers"]["policyFingerprint"]
    )
    save(client, admin, profile["id"], relabelled("Say hello first"), '"1"')
    publish(client, admin, profile["id"])
    latest = runtime()
    assert latest["workflowProfileId"] == f"{profile['id']}:v2" and "1. Say hello first" in latest["instructions"]


def test_a_session_started_for_the_profile_runs_the_published_workflow(client, tokens):
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)
    save(client, admin, profile["id"], workflow_graph())
    publish(client, admin, profile["id"])
    started = client.post(
        "/api/sessions",
        json={"scenarioId": "dental-recall-booking", "onboardingProfileId": profile["id"]},
        headers=tokens.headers(tenant, "operator"),
    )
    assert started.status_code == 201
    session = started.json()
    state = client.get(
        f"/api/sessions/{session['sessionId']}/state", headers={"x-session-access": session["accessKey"]}
    )
    body = state.json()
    assert body["workflowId"] == f"{profile['id']}:v1"
    assert body["workflowDefinitionId"] == f"{profile['id']}/published/v1"
    assert body["pendingSteps"] == ["ask", "crm", "human"] and body["currentPersonaId"] == PERSONA
    anonymous = client.post(
        "/api/sessions", json={"scenarioId": "dental-recall-booking", "onboardingProfileId": profile["id"]}
    )
    assert anonymous.status_code == 401
    foreign = client.post(
        "/api/sessions",
        json={"scenarioId": "dental-recall-booking", "onboardingProfileId": profile["id"]},
        headers=tokens.headers(new_tenant_id("other"), "operator"),
    )
    assert foreign.status_code == 400 and foreign.json()["error"] == "unknown_onboarding_profile"


def test_the_realtime_credentials_of_a_profile_session_carry_the_published_workflow(
    client, tokens, httpserver, settings_env
):
    import json

    from tests.conftest import reset_clients

    settings_env.setenv("AZURE_OPENAI_ENDPOINT", httpserver.url_for("/").rstrip("/"))
    settings_env.setenv("AZURE_OPENAI_API_KEY", "integration-azure-openai-key")
    reset_clients()
    httpserver.expect_request("/openai/v1/realtime/client_secrets", method="POST").respond_with_json(
        {"value": "ek_test", "expires_at": 1767225600, "session": {"type": "realtime", "id": "sess_fake"}}
    )
    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    profile = create_profile(client, admin)
    save(client, admin, profile["id"], relabelled("Greet the caller by name"))
    publish(client, admin, profile["id"])
    session = client.post(
        "/api/sessions",
        json={"scenarioId": "dental-recall-booking", "onboardingProfileId": profile["id"]},
        headers=admin,
    ).json()
    response = client.post("/api/realtime/credentials", json={"sessionId": session["sessionId"]})
    assert response.status_code == 200, response.text
    (request, _) = httpserver.log[-1]
    instructions = json.loads(request.get_data())["session"]["instructions"]
    assert f"Follow the practice's published workflow {profile['id']}:v1 (version 1):" in instructions
    assert "1. Greet the caller by name: capture name." in instructions
    assert "Lakeside Family Dental" in instructions


def test_concurrent_publishes_make_one_version(devhost, tokens):
    from shared.workflows.repository import WorkflowRepository
    from tests.support.client import ContractClient

    tenant = new_tenant_id("wf")
    admin = tokens.headers(tenant, "admin")
    with ContractClient(devhost.asgi) as setup:
        profile = create_profile(setup, admin)
        assert save(setup, admin, profile["id"], workflow_graph()).status_code == 200
    statuses = race_statuses(devhost.asgi, [partial(publish, headers=admin, profile_id=profile["id"])] * 3)
    # A loser either collides on version 1 (409) or arrives after it and finds nothing new to publish (200).
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 409}
    assert stored_profile(tenant, profile["id"])["publishedWorkflowVersion"] == 1
    versions = WorkflowRepository().query(
        "SELECT c.id FROM c WHERE c.tenantId = @t AND c.profileId = @p AND c.status = 'published'",
        {"t": tenant, "p": profile["id"]},
        tenant,
    )
    assert [v["id"] for v in versions] == [f"{profile['id']}:v1"]
