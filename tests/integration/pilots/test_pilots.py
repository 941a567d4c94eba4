"""Pilots on the control plane: create, list, read, move, annotate, versioned terms, leads that follow, isolation."""

from __future__ import annotations

from shared.pilots.repository import PilotRepository, contract_id, roi_id, version_id
from shared.platform.store import metering
from tests.integration.pilots.conftest import create_pilot, pilot_body
from tests.support.identity import new_tenant_id
from tests.support.leads import new_lead_body, stored_lead


def audit_events(client, tokens, tenant: str, target: str) -> list[dict]:
    events = client.get("/api/cp/audit", headers=tokens.headers(tenant, "admin")).json()["events"]
    return [event for event in events if event["targetId"] == target]


def writes_of(response) -> int:
    return metering.recorded(response.headers["x-correlation-id"])[1].writes


def test_a_pilot_is_created_listed_and_read_in_the_callers_tenant(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator", user="user_pilot_creator")
    pilot = create_pilot(client, operator, tenantId="someone-else", status="setup")
    assert pilot["pilotId"].startswith("PILOT-") and len(pilot["pilotId"]) == 14
    assert (pilot["tenantId"], pilot["status"], pilot["notes"]) == (tenant, "setup", [])
    assert pilot["primaryContact"] == {"name": "Avery Champion", "email": "avery.champion@riverside-dental.test"}
    legal = create_pilot(client, operator, verticalPack="legal", organizationName="Hale & Hart LLP")
    assert legal["status"] == "invited"

    fetched = client.get(f"/api/cp/pilots/{pilot['pilotId']}", headers=operator)
    assert fetched.status_code == 200
    assert fetched.json() == {"pilot": pilot, "contract": None, "roi": None, "snapshots": []}

    def listed(**params) -> list[str]:
        response = client.get("/api/cp/pilots", params=params, headers=operator)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["tenantId"] == tenant and body["count"] == len(body["pilots"])
        return [item["pilotId"] for item in body["pilots"]]

    assert listed() == [legal["pilotId"], pilot["pilotId"]]
    assert listed(status="setup") == [pilot["pilotId"]]
    assert listed(verticalPack="legal") == [legal["pilotId"]]
    assert listed(status="active") == []
    for bad in ({"status": "won"}, {"verticalPack": "retail"}):
        assert client.get("/api/cp/pilots", params=bad, headers=operator).status_code == 400

    [created] = [e for e in audit_events(client, tokens, tenant, pilot["pilotId"]) if e["action"] == "pilot.created"]
    assert created["actorId"] == "user_pilot_creator"
    assert created["changes"]["status"] == {"from": None, "to": "setup"}


def test_bad_pilots_are_refused_and_write_nothing(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator")
    for bad in (
        pilot_body(pilotStartDate="2026-05-01", pilotEndDate="2026-04-01"),
        pilot_body(pilotStartDate="next monday"),
        pilot_body(status="converted"),
        pilot_body(status="lost"),
        pilot_body(organizationName="   "),
        pilot_body(organizationName="x" * 201),
        pilot_body(primaryContact={"name": "A", "email": "not-an-address"}),
        pilot_body(primaryContact={"name": "A"}),
        pilot_body(verticalPack="retail"),
        pilot_body(successCriteria="x" * 2001),
        pilot_body(sourceLeadId="LEAD-NOPE"),
        pilot_body(sourceLeadId="not a lead id"),
    ):
        response = client.post("/api/cp/pilots", json=bad, headers=operator)
        assert response.status_code == 400, (bad, response.text)
        assert writes_of(response) == 0
    assert client.get("/api/cp/pilots", headers=operator).json()["pilots"] == []


def test_status_moves_follow_the_lifecycle_are_audited_and_reach_the_metrics(client, tokens, tenant, devhost):
    operator = tokens.headers(tenant, "operator", user="user_pilot_mover")
    pilot = create_pilot(client, operator)
    url = f"/api/cp/pilots/{pilot['pilotId']}"
    skipped = client.patch(url, json={"status": "active"}, headers=operator)
    assert skipped.status_code == 400 and skipped.json()["error"] == "invalid_pilot_transition"
    assert writes_of(skipped) == 0
    for status in ("setup", "active"):
        moved = client.patch(url, json={"status": status}, headers=operator)
        assert moved.status_code == 200 and moved.json()["status"] == status
    again = client.patch(url, json={"status": "active"}, headers=operator)
    assert again.status_code == 200 and writes_of(again) == 0
    assert client.patch(url, json={"status": "invited"}, headers=operator).status_code == 400

    changed = client.patch(
        url,
        json={"organizationName": "Riverside Dental Group", "pilotEndDate": "2026-05-25", "successCriteria": ""},
        headers=operator,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["organizationName"], body["pilotEndDate"]) == ("Riverside Dental Group", "2026-05-25")
    assert "successCriteria" not in body
    for bad in (
        {"pilotEndDate": "2026-02-01"},
        {"status": None},
        {"notes": []},
        {"tenantId": "elsewhere"},
        {"primaryContact": {"name": "B"}},
        {"organizationName": 7},
    ):
        response = client.patch(url, json=bad, headers=operator)
        assert response.status_code == 400, (bad, response.text)
        assert writes_of(response) == 0

    stored = PilotRepository().read(pilot["pilotId"], tenant)
    assert [(entry["from"], entry["to"], entry["actor"]) for entry in stored["statusHistory"]] == [
        (None, "invited", "user_pilot_mover"),
        ("invited", "setup", "user_pilot_mover"),
        ("setup", "active", "user_pilot_mover"),
    ]
    updates = [e for e in audit_events(client, tokens, tenant, pilot["pilotId"]) if e["action"] == "pilot.updated"]
    assert {"from": "setup", "to": "active"} in [e["changes"].get("status") for e in updates]
    assert any(e["changes"].get("organizationName") for e in updates)

    devhost.drain_queues(timeout=60)
    pipeline = client.get("/api/cp/metrics/pipeline", headers=tokens.headers(tenant, "operator")).json()
    assert pipeline["pilots"]["total"] == 1
    assert pipeline["pilots"]["byStatus"]["active"] == 1
    assert pipeline["pilots"]["byStatus"]["invited"] == 0


def test_notes_are_append_only_items_with_the_author_from_the_token(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator", user="user_pilot_notes", name="Noa Writer")
    pilot = create_pilot(client, operator)
    url = f"/api/cp/pilots/{pilot['pilotId']}/notes"
    first = client.post(url, json={"body": "Kick-off call done.", "authorUserId": "forged"}, headers=operator)
    assert first.status_code == 201, first.text
    second = client.post(url, json={"body": "Phones forwarded\r\nafter 6 pm."}, headers=operator)
    notes = second.json()["notes"]
    assert [note["body"] for note in notes] == ["Kick-off call done.", "Phones forwarded\nafter 6 pm."]
    assert {(note["authorUserId"], note["authorDisplayName"]) for note in notes} == {("user_pilot_notes", "Noa Writer")}
    assert client.get(f"/api/cp/pilots/{pilot['pilotId']}", headers=operator).json()["pilot"]["notes"] == notes
    assert client.get("/api/cp/pilots", headers=operator).json()["pilots"][0]["notes"] == notes
    for bad in ("", "   ", "x" * 5001, "a\x00b"):
        response = client.post(url, json={"body": bad}, headers=operator)
        assert response.status_code == 400 and writes_of(response) == 0
    added = [e for e in audit_events(client, tokens, tenant, pilot["pilotId"]) if e["action"] == "pilot.note_added"]
    assert len(added) == 2


def test_contract_and_roi_are_versioned_documents_written_by_admins(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator")
    admin = tokens.headers(tenant, "admin", user="user_pilot_admin")
    pilot = create_pilot(client, operator)
    pilot_id = pilot["pilotId"]
    terms = {"setupFeeUsd": 1500, "monthlyFeeUsd": 900, "signedAt": "2026-03-01T10:00:00Z", "contractRef": "MSA-7"}
    assert client.put(f"/api/cp/pilots/{pilot_id}/contract", json=terms, headers=operator).status_code == 403
    first = client.put(f"/api/cp/pilots/{pilot_id}/contract", json=terms, headers=admin)
    assert first.status_code == 200, first.text
    assert first.json() == {"pilotId": pilot_id, "tenantId": tenant, "currency": "USD", **terms}
    same = client.put(f"/api/cp/pilots/{pilot_id}/contract", json=terms, headers=admin)
    assert same.status_code == 200 and writes_of(same) == 0
    second = client.put(
        f"/api/cp/pilots/{pilot_id}/contract",
        json={**terms, "monthlyFeeUsd": 1100, "paidAt": "2026-03-05"},
        headers=admin,
    )
    assert second.json()["monthlyFeeUsd"] == 1100

    roi = {"laborHourlyRateUsd": 32, "averageManualHandleTimeMinutes": 6, "appointmentValueUsd": 180}
    saved = client.put(f"/api/cp/pilots/{pilot_id}/roi", json=roi, headers=admin)
    assert saved.status_code == 200, saved.text
    assert saved.json()["updatedByUserId"] == "user_pilot_admin" and saved.json()["appointmentValueUsd"] == 180
    for bad in (
        {"averageManualHandleTimeMinutes": 6},
        {**roi, "laborHourlyRateUsd": -1},
        {**roi, "baselineMissedCallRatePct": 140},
        {**roi, "appointmentValueUsd": 1e12},
        {**roi, "notes": "x" * 2001},
    ):
        response = client.put(f"/api/cp/pilots/{pilot_id}/roi", json=bad, headers=admin)
        assert response.status_code == 400 and writes_of(response) == 0
    for bad in ({"setupFeeUsd": -5}, {"signedAt": "soon"}, {"contractRef": "x" * 201}):
        response = client.put(f"/api/cp/pilots/{pilot_id}/contract", json=bad, headers=admin)
        assert response.status_code == 400 and writes_of(response) == 0

    page = client.get(f"/api/cp/pilots/{pilot_id}", headers=operator).json()
    assert page["contract"]["monthlyFeeUsd"] == 1100 and page["contract"]["paidAt"] == "2026-03-05"
    assert page["roi"]["laborHourlyRateUsd"] == 32
    repository = PilotRepository()
    assert repository.read(contract_id(pilot_id), tenant)["version"] == 2
    assert repository.read(version_id(contract_id(pilot_id), 1), tenant)["monthlyFeeUsd"] == 900
    assert repository.read(version_id(contract_id(pilot_id), 2), tenant)["monthlyFeeUsd"] == 1100
    assert repository.read(version_id(roi_id(pilot_id), 1), tenant)["type"] == "pilotRoiVersion"
    actions = [e["action"] for e in audit_events(client, tokens, tenant, pilot_id)]
    assert actions.count("pilot.contract_updated") == 2 and actions.count("pilot.roi_updated") == 1


def test_a_pilot_created_from_a_lead_drags_the_lead_along_the_pipeline(client, tokens, tenant):
    operator = tokens.headers(tenant, "operator", user="user_pilot_seller")
    lead = client.post("/api/leads", json=new_lead_body(), headers=operator)
    assert lead.status_code == 200, lead.text
    lead_id = lead.json()["leadId"]
    pilot = create_pilot(client, operator, sourceLeadId=lead_id)
    assert pilot["sourceLeadId"] == lead_id
    stored = stored_lead(tenant, lead_id)
    assert stored["status"] == "pilot_requested"
    assert [(entry["from"], entry["to"]) for entry in stored["statusHistory"]] == [
        ("new", "contacted"),
        ("contacted", "pilot_requested"),
    ]
    url = f"/api/cp/pilots/{pilot['pilotId']}"
    client.patch(url, json={"status": "setup"}, headers=operator)
    assert stored_lead(tenant, lead_id)["status"] == "pilot_requested"
    client.patch(url, json={"status": "active"}, headers=operator)
    assert stored_lead(tenant, lead_id)["status"] == "pilot_active"
    client.patch(url, json={"status": "lost"}, headers=operator)
    assert stored_lead(tenant, lead_id)["status"] == "pilot_active"  # losing the pilot is not losing the lead
    moves = [e for e in audit_events(client, tokens, tenant, lead_id) if e["action"] == "lead.status_changed"]
    assert [e["changes"]["status"] for e in moves] == [
        {"from": "pilot_requested", "to": "pilot_active"},
        {"from": "new", "to": "pilot_requested"},
    ]
    lead_desk = client.get(f"/api/cp/leads/{lead_id}", headers=operator).json()
    assert lead_desk["status"] == "pilot_active"


def test_another_tenants_pilot_is_404_and_untouched(client, tokens, tenant):
    owner = tokens.headers(tenant, "owner")
    pilot = create_pilot(client, owner)
    pilot_id = pilot["pilotId"]
    stranger = tokens.headers(new_tenant_id("pilot"), "owner")
    for response in (
        client.get(f"/api/cp/pilots/{pilot_id}", headers=stranger),
        client.patch(f"/api/cp/pilots/{pilot_id}", json={"status": "setup"}, headers=stranger),
        client.post(f"/api/cp/pilots/{pilot_id}/notes", json={"body": "mine"}, headers=stranger),
        client.put(f"/api/cp/pilots/{pilot_id}/contract", json={"setupFeeUsd": 1}, headers=stranger),
        client.put(
            f"/api/cp/pilots/{pilot_id}/roi",
            json={"laborHourlyRateUsd": 1, "averageManualHandleTimeMinutes": 1},
            headers=stranger,
        ),
        client.get(f"/api/cp/pilots/{pilot_id}/snapshots", headers=stranger),
        client.post(f"/api/cp/pilots/{pilot_id}/snapshot/recompute", params={"weekId": "2026-W10"}, headers=stranger),
        client.get("/api/cp/pilots/PILOT-22222222", headers=owner),
        client.get("/api/cp/pilots/not-a-pilot", headers=owner),
    ):
        assert response.status_code == 404, response.text
        assert writes_of(response) == 0
    assert client.get("/api/cp/pilots", headers=stranger).json()["pilots"] == []
    assert client.get(f"/api/cp/pilots/{pilot_id}", headers=owner).json()["pilot"] == pilot
