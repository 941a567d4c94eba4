"""From an empty profile to "ready for go-live": each checklist item is earned by a real fact, never a flag."""

from __future__ import annotations

import json

from tests.support.identity import new_tenant_id
from tests.support.leads import outbox_messages
from tests.support.onboarding import WEBHOOK_SECRET, answers, workflow_graph

BASE = "/api/cp/onboarding/fast-start"


def checklist(client, headers, profile_id: str) -> dict:
    return client.get(f"{BASE}/{profile_id}", headers=headers).json()["item"]["checklist"]


def finalize(client, session: dict, disposition: str) -> None:
    response = client.post(
        "/api/sessions/finalize",
        json={
            "sessionId": session["sessionId"],
            "scenarioId": "dental-recall-booking",
            "transcript": [
                {"role": "assistant", "text": "Thanks for calling Lakeside Family Dental!"},
                {"role": "user", "text": "I'd like to book a cleaning."},
            ],
            "interactionSummary": {"channel": "voice", "disposition": disposition},
        },
        headers={"x-session-access": session["accessKey"]},
    )
    assert response.status_code == 200, response.text


def test_a_practice_goes_live_only_after_real_tests(client, tokens, devhost, receiver):
    tenant = new_tenant_id("live")
    admin = tokens.headers(tenant, "admin")
    # 1. The bare answers: configured only once intake fields are given; no destination yet.
    bare = answers(intakeFields=None, summaryRecipients=None, faqs=None, escalationContact=None)
    bare.update(reviewedPersona=False, testCallPassed=True)  # a client's testCallPassed is never believed
    created = client.post(BASE, json=bare, headers=admin)
    profile_id = created.json()["item"]["id"]
    assert not any(created.json()["item"]["checklist"].values())
    # 2. The rest of the answers and the reviewed persona.
    patched = client.patch(
        f"{BASE}/{profile_id}",
        json={
            "intakeFields": ["name", "insurance"],
            "summaryRecipients": ["frontdesk@lakeside-dental.test"],
            "webhook": receiver.webhook(),
            "escalationContact": "office.manager@lakeside-dental.test",
            "reviewedPersona": True,
        },
        headers={**admin, "If-Match": created.headers["ETag"]},
    )
    assert patched.status_code == 200
    assert patched.json()["item"]["checklist"] == {
        "profileConfigured": True,
        "destinationsConfigured": True,
        "destinationsTested": False,
        "personaReviewed": True,
        "testCallPassed": False,
        "readyForGoLive": False,
    }
    # 3. The workflow is published.
    assert client.put(f"/api/cp/workflows/{profile_id}/draft", json=workflow_graph(), headers=admin).status_code == 200
    assert client.post(f"/api/cp/workflows/{profile_id}/publish", headers=admin).status_code == 200
    # 4. A failing webhook keeps the destinations untested; real deliveries to both destinations test them.
    receiver.status = 500
    email = client.post(f"{BASE}/{profile_id}/test-destination", json={"kind": "email"}, headers=admin).json()
    hook = client.post(f"{BASE}/{profile_id}/test-destination", json={"kind": "webhook"}, headers=admin).json()
    assert email["result"]["ok"] is True and hook["result"]["ok"] is False
    assert checklist(client, admin, profile_id)["destinationsTested"] is False
    receiver.status = 200
    hook = client.post(f"{BASE}/{profile_id}/test-destination", json={"kind": "webhook"}, headers=admin).json()
    assert hook["result"]["ok"] is True
    devhost.drain_queues()
    (mail,) = outbox_messages(profile_id)
    assert mail["To"] == "frontdesk@lakeside-dental.test"
    assert [e["signatureOk"] for e in receiver.events("onboarding.destination_test")] == [True, True]
    state = checklist(client, admin, profile_id)
    assert state["destinationsTested"] is True and state["readyForGoLive"] is False
    # 5. A test call that does not reach its goal is recorded, and does not pass.
    start = {"scenarioId": "dental-recall-booking", "onboardingProfileId": profile_id}
    abandoned = client.post("/api/sessions", json=start, headers=admin).json()
    finalize(client, abandoned, "abandoned")
    devhost.drain_queues()
    assert checklist(client, admin, profile_id)["testCallPassed"] is False
    # 6. A booked test call on the published workflow passes: the practice is ready.
    booked = client.post("/api/sessions", json=start, headers=admin).json()
    finalize(client, booked, "booked")
    devhost.drain_queues()
    item = client.get(f"{BASE}/{profile_id}", headers=admin).json()["item"]
    assert item["testCallPassed"] is True
    assert item["checklist"] == {
        "profileConfigured": True,
        "destinationsConfigured": True,
        "destinationsTested": True,
        "personaReviewed": True,
        "testCallPassed": True,
        "readyForGoLive": True,
    }
    assert WEBHOOK_SECRET not in json.dumps(item)
    # 7. Publishing a new version asks for a new test call on it.
    graph = workflow_graph()
    graph["nodes"][0]["data"]["label"] = "Welcome"
    etag = client.get(f"/api/cp/workflows/{profile_id}", headers=admin).headers["ETag"]
    client.put(f"/api/cp/workflows/{profile_id}/draft", json=graph, headers={**admin, "If-Match": etag})
    client.post(f"/api/cp/workflows/{profile_id}/publish", headers=admin)
    state = checklist(client, admin, profile_id)
    assert state["testCallPassed"] is False and state["readyForGoLive"] is False


def test_a_test_call_of_another_profile_or_an_unbound_session_counts_for_nothing(client, tokens, devhost):
    tenant = new_tenant_id("live")
    admin = tokens.headers(tenant, "admin")
    first = client.post(BASE, json=answers(), headers=admin).json()["item"]["id"]
    second = client.post(BASE, json=answers(), headers=admin).json()["item"]["id"]
    bound = client.post(
        "/api/sessions", json={"scenarioId": "dental-recall-booking", "onboardingProfileId": first}, headers=admin
    ).json()
    unbound = client.post("/api/sessions", json={"scenarioId": "dental-recall-booking"}, headers=admin).json()
    finalize(client, bound, "booked")
    finalize(client, unbound, "booked")
    devhost.drain_queues()
    assert checklist(client, admin, first)["testCallPassed"] is True
    assert checklist(client, admin, second)["testCallPassed"] is False
