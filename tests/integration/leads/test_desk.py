"""The lead desk: filters, newest first, continuation paging, audited status moves, notes, tenant isolation, CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from shared.leads import export
from tests.support.identity import new_tenant_id
from tests.support.leads import new_lead_body


def seed(client, tokens, tenant: str, count: int, **overrides) -> list[str]:
    """`count` leads of `tenant` (one address each), oldest first."""
    ids = []
    for _ in range(count):
        response = client.post(
            "/api/leads", json=new_lead_body(**overrides), headers=tokens.headers(tenant, "operator")
        )
        assert response.status_code == 200, response.text
        ids.append(response.json()["leadId"])
    return ids


@pytest.fixture
def tenant() -> str:
    return new_tenant_id("desk")


def test_the_list_is_newest_first_filtered_and_paged_with_continuation_tokens(client, tokens, tenant):
    ids = seed(client, tokens, tenant, 5)
    [claims] = seed(client, tokens, tenant, 1, scenarioId="healthcare-intake")
    operator = tokens.headers(tenant, "operator")
    admin = tokens.headers(tenant, "admin")
    assert client.patch(f"/api/cp/leads/{ids[0]}", json={"status": "contacted"}, headers=admin).status_code == 200

    everything = client.get("/api/cp/leads", headers=operator)
    assert everything.status_code == 200
    listing = everything.json()
    assert listing["tenantId"] == tenant and listing["count"] == 6
    assert [lead["leadId"] for lead in listing["leads"]] == [claims, *reversed(ids)]
    assert "x-continuation-token" not in everything.headers

    seen, token, pages = [], None, 0
    while True:
        params = {"limit": 4, **({"continuationToken": token} if token else {})}
        page = client.get("/api/cp/leads", params=params, headers=operator)
        assert page.status_code == 200, page.text
        seen += [lead["leadId"] for lead in page.json()["leads"]]
        pages += 1
        token = page.headers.get("x-continuation-token")
        if not token:
            break
    assert seen == [claims, *reversed(ids)] and pages == 2

    def listed(**params) -> list[str]:
        response = client.get("/api/cp/leads", params=params, headers=operator)
        assert response.status_code == 200, response.text
        return [lead["leadId"] for lead in response.json()["leads"]]

    assert listed(status="contacted") == [ids[0]]
    assert listed(status="new", scenarioId="healthcare-intake") == [claims]
    assert listed(scenarioId="insurance-fnol") == list(reversed(ids))
    assert set(listed(tier="warm")) | set(listed(tier="cold")) | set(listed(tier="hot")) == {claims, *ids}
    assert listed(since="2999-01-01") == []
    assert len(listed(since="2020-01-01T00:00:00Z")) == 6
    for bad in ({"status": "won"}, {"tier": "lukewarm"}, {"since": "yesterday"}, {"limit": 0}, {"limit": 500}):
        assert client.get("/api/cp/leads", params=bad, headers=operator).status_code == 400, bad
    forged = client.get("/api/cp/leads", params={"continuationToken": "%%%not-ours"}, headers=operator)
    assert forged.status_code == 400


def test_status_moves_follow_the_pipeline_and_are_audited_with_actor_and_time(client, tokens, tenant):
    [lead_id] = seed(client, tokens, tenant, 1)
    admin_user = "user_desk_admin"
    admin = tokens.headers(tenant, "admin", user=admin_user)
    moved = client.patch(f"/api/cp/leads/{lead_id}", json={"status": "contacted"}, headers=admin)
    assert moved.status_code == 200 and moved.json()["status"] == "contacted"
    again = client.patch(f"/api/cp/leads/{lead_id}", json={"status": "contacted"}, headers=admin)
    assert again.status_code == 200  # idempotent: no second change
    skipped = client.patch(f"/api/cp/leads/{lead_id}", json={"status": "paid"}, headers=admin)
    assert skipped.status_code == 400 and skipped.json()["error"] == "invalid_status_transition"
    assert client.patch(f"/api/cp/leads/{lead_id}", json={"status": "lost"}, headers=admin).status_code == 200
    final = client.patch(f"/api/cp/leads/{lead_id}", json={"status": "new"}, headers=admin)
    assert final.status_code == 400
    operator = client.patch(
        f"/api/cp/leads/{lead_id}", json={"status": "contacted"}, headers=tokens.headers(tenant, "operator")
    )
    assert operator.status_code == 403
    assert client.patch(f"/api/cp/leads/{lead_id}", json={"status": "bogus"}, headers=admin).status_code == 400

    from tests.support.leads import stored_lead

    history = stored_lead(tenant, lead_id)["statusHistory"]
    assert [(entry["from"], entry["to"], entry["actor"]) for entry in history] == [
        ("new", "contacted", admin_user),
        ("contacted", "lost", admin_user),
    ]
    events = client.get("/api/cp/audit", headers=admin).json()["events"]
    changes = [event for event in events if event["targetId"] == lead_id and event["action"] == "lead.status_changed"]
    assert len(changes) == 2
    assert all(event["actorId"] == admin_user and event["createdAt"] for event in changes)
    assert {"from": "new", "to": "contacted"} in [event["changes"]["status"] for event in changes]


def test_notes_are_appended_with_the_author_from_the_token(client, tokens, tenant):
    [lead_id] = seed(client, tokens, tenant, 1)
    admin = tokens.headers(tenant, "admin", user="user_note_writer", authorUserId="user_forged")
    first = client.post(f"/api/cp/leads/{lead_id}/notes", json={"body": "Called, left a voicemail."}, headers=admin)
    assert first.status_code == 201, first.text
    second = client.post(
        f"/api/cp/leads/{lead_id}/notes",
        json={"body": "Pilot call booked\nfor Tuesday", "authorUserId": "x"},
        headers=admin,
    )
    notes = second.json()["notes"]
    assert [note["body"] for note in notes] == ["Called, left a voicemail.", "Pilot call booked\nfor Tuesday"]
    assert {note["authorUserId"] for note in notes} == {"user_note_writer"}
    fetched = client.get(f"/api/cp/leads/{lead_id}", headers=tokens.headers(tenant, "operator")).json()
    assert fetched["notes"] == notes
    listed = client.get("/api/cp/leads", headers=tokens.headers(tenant, "operator")).json()["leads"][0]
    assert listed["notes"] == notes
    for bad in ("", "   ", "x" * 5001):
        assert client.post(f"/api/cp/leads/{lead_id}/notes", json={"body": bad}, headers=admin).status_code == 400
    viewer = client.post(
        f"/api/cp/leads/{lead_id}/notes", json={"body": "hi"}, headers=tokens.headers(tenant, "operator")
    )
    assert viewer.status_code == 403
    events = client.get("/api/cp/audit", headers=tokens.headers(tenant, "admin")).json()["events"]
    assert sum(event["action"] == "lead.note_added" for event in events) == 2


def test_another_tenants_lead_is_404_and_untouched(client, tokens, tenant):
    from shared.platform.store import metering

    [lead_id] = seed(client, tokens, tenant, 1)
    stranger = tokens.headers(new_tenant_id("desk"), "owner")
    for response in (
        client.get(f"/api/cp/leads/{lead_id}", headers=stranger),
        client.patch(f"/api/cp/leads/{lead_id}", json={"status": "contacted"}, headers=stranger),
        client.post(f"/api/cp/leads/{lead_id}/notes", json={"body": "mine now"}, headers=stranger),
        client.get("/api/cp/leads/LEAD-22222222", headers=tokens.headers(tenant, "owner")),
        client.get("/api/cp/leads/not-a-lead", headers=tokens.headers(tenant, "owner")),
    ):
        assert response.status_code == 404, response.text
        assert metering.recorded(response.headers["x-correlation-id"])[1].writes == 0
    assert client.get("/api/cp/leads", headers=stranger).json()["leads"] == []
    assert client.get(f"/api/cp/leads/{lead_id}", headers=tokens.headers(tenant, "viewer")).status_code == 403


def test_super_admins_outside_a_tenant_work_the_demo_tenants_leads(client, tokens):
    lead_id = client.post("/api/leads", json=new_lead_body()).json()["leadId"]
    response = client.get(f"/api/cp/leads/{lead_id}", headers=tokens.super_admin())
    assert response.status_code == 200 and response.json()["tenantId"] == "default-practice"


def test_the_csv_export_parses_back_with_every_lead_and_no_live_formulas(client, tokens, tenant, monkeypatch):
    from shared.leads import desk

    hostile = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "  =lead", 'Ann, "Q" Lee\nJr']
    ids = [
        seed(client, tokens, tenant, 1, name=name, company=f"=cmd|' /C calc'!A{index}")[0]
        for index, name in enumerate(hostile)
    ]
    monkeypatch.setattr(desk, "EXPORT_PAGE_SIZE", 3)  # several pages
    response = client.get("/api/cp/leads/export.csv", headers=tokens.headers(tenant, "operator"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(rf'attachment; filename="tellgence-leads-{tenant}-\d{{4}}-\d{{2}}-\d{{2}}\.csv"', disposition)
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == export.HEADER
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [record["leadId"] for record in records] == list(reversed(ids))
    by_id = {record["leadId"]: record for record in records}
    for lead_id, name in zip(ids, hostile, strict=True):
        if name.lstrip(" ")[:1] in ("=", "+", "-", "@"):
            assert by_id[lead_id]["name"] == "'" + name.strip(), by_id[lead_id]["name"]
        assert by_id[lead_id]["company"].startswith("'=")
    assert by_id[ids[-1]]["name"] == 'Ann, "Q" Lee Jr'  # one line: names are single-line fields
    for record in records:
        for value in record.values():
            assert value.lstrip(" ")[:1] not in ("=", "+", "-", "@", "\t", "\r"), value
    stranger = client.get("/api/cp/leads/export.csv", headers=tokens.headers(new_tenant_id("desk"), "owner"))
    assert stranger.content.decode("utf-8-sig").strip().splitlines() == [",".join(export.HEADER)]
