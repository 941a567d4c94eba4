"""Compliance: items seeded from the catalog on first read, HIPAA for healthcare, audited, overdue by the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.compliance import catalog
from shared.compliance import service as compliance
from shared.platform import clock
from tests.support.identity import new_tenant_id


@pytest.fixture
def tenant(client, tokens) -> str:
    tenant_id = new_tenant_id("co")
    assert client.get("/api/cp/auth/session", headers=tokens.headers(tenant_id, "owner")).status_code == 200
    return tenant_id


def frameworks(items: list[dict]) -> set[str]:
    return {item["framework"] for item in items}


def test_a_tenant_gets_its_controls_on_first_read_once(client, tokens, tenant):
    first = client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin())
    assert first.status_code == 200, first.text
    items = first.json()["items"]
    assert first.json()["tenantId"] == tenant
    assert frameworks(items) == {"SOC2", "GDPR", "CCPA"}
    assert len(items) == len(catalog.applicable(None))
    assert {item["status"] for item in items} == {"pending"}
    again = client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin()).json()["items"]
    assert [i["id"] for i in again] == [i["id"] for i in items]
    assert len(compliance.items.for_tenant(tenant)) == len(items)


def test_a_healthcare_tenant_gets_the_hipaa_set(client, tokens, tenant):
    client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin())
    patched = client.patch(f"/api/cp/tenants/{tenant}", json={"industry": "Healthcare"}, headers=tokens.super_admin())
    assert patched.status_code == 200
    items = client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin()).json()["items"]
    assert frameworks(items) == {"HIPAA", "SOC2", "GDPR", "CCPA"}
    assert items[0]["framework"] == "HIPAA"
    assert len(items) == len(catalog.applicable("healthcare"))


def test_an_owner_reads_their_own_and_nobody_elses(client, tokens, tenant):
    assert client.get(f"/api/cp/compliance/{tenant}", headers=tokens.headers(tenant, "owner")).status_code == 200
    other = new_tenant_id("co")
    assert client.get(f"/api/cp/compliance/{tenant}", headers=tokens.headers(other, "owner")).status_code == 404
    assert client.get(f"/api/cp/compliance/{tenant}", headers=tokens.headers(tenant, "admin")).status_code == 403
    assert client.get("/api/cp/compliance", headers=tokens.headers(tenant, "owner")).status_code == 403
    item_id = client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin()).json()["items"][0]["id"]
    refused = client.patch(
        f"/api/cp/compliance/item/{item_id}", json={"status": "attested"}, headers=tokens.headers(tenant, "owner")
    )
    assert refused.status_code == 403


def test_a_tenant_not_in_the_directory_is_404(client, tokens):
    assert client.get(f"/api/cp/compliance/{new_tenant_id('nobody')}", headers=tokens.super_admin()).status_code == 404


def test_attesting_records_who_and_when_and_is_audited(client, tokens, tenant):
    items = client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin()).json()["items"]
    item_id = items[0]["id"]
    attested = client.patch(
        f"/api/cp/compliance/item/{item_id}",
        json={"status": "attested", "notes": "Reviewed with the practice manager.\nSigned copy on file."},
        headers=tokens.super_admin(),
    )
    assert attested.status_code == 200, attested.text
    item = attested.json()["item"]
    assert (item["status"], item["attestedBy"]) == ("attested", tokens.super_admin_user_id)
    assert abs(clock.parse_iso(item["attestedAt"]) - clock.utc_now()) < timedelta(minutes=1)
    assert item["notes"].endswith("Signed copy on file.")
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    event = next(e for e in events if e["action"] == "compliance.item_updated" and e["targetId"] == item_id)
    assert event["changes"]["status"] == {"from": "pending", "to": "attested"}
    assert event["tenantId"] == tenant
    back = client.patch(f"/api/cp/compliance/item/{item_id}", json={"status": "pending"}, headers=tokens.super_admin())
    assert "attestedBy" not in back.json()["item"] and back.json()["item"]["status"] == "pending"
    na = client.patch(
        f"/api/cp/compliance/item/{item_id}", json={"status": "not_applicable"}, headers=tokens.super_admin()
    )
    assert na.json()["item"]["status"] == "not_applicable"


def test_bad_changes_are_refused_and_unknown_items_are_404(client, tokens, tenant):
    item_id = client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin()).json()["items"][0]["id"]
    for body in (
        {"status": "overdue"},
        {"status": "done"},
        {"dueAt": "next tuesday"},
        {"dueAt": "3024-01-01T00:00:00Z"},
        {"notes": "x" * 2001},
        {"notes": "bell\u0007"},
        {"attestedBy": "someone"},
        {"status": None},
    ):
        response = client.patch(f"/api/cp/compliance/item/{item_id}", json=body, headers=tokens.super_admin())
        assert response.status_code == 400, body
    for missing in (f"{tenant}:no-such-control", "no-colon", f"{new_tenant_id('x')}:soc2-cc6-1"):
        response = client.patch(
            f"/api/cp/compliance/item/{missing}", json={"status": "attested"}, headers=tokens.super_admin()
        )
        assert response.status_code == 404, missing


def test_a_pending_item_turns_overdue_by_the_clock(client, tokens, tenant, monkeypatch):
    items = client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin()).json()["items"]
    soonest = min(items, key=lambda i: i["dueAt"])
    due = clock.parse_iso(soonest["dueAt"])
    real_now = clock.utc_now
    monkeypatch.setattr(clock, "utc_now", lambda: due + timedelta(seconds=1))
    later = {
        i["id"]: i for i in client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin()).json()["items"]
    }
    assert later[soonest["id"]]["status"] == "overdue"
    assert compliance.items.read(soonest["id"], tenant)["status"] == "pending"  # never stored stale
    overdue = client.get(
        "/api/cp/compliance", params={"tenantId": tenant, "status": "overdue"}, headers=tokens.super_admin()
    ).json()["items"]
    assert soonest["id"] in {i["id"] for i in overdue}
    attested = client.patch(
        f"/api/cp/compliance/item/{soonest['id']}", json={"status": "attested"}, headers=tokens.super_admin()
    )
    assert attested.json()["item"]["status"] == "attested"
    monkeypatch.setattr(clock, "utc_now", real_now)
    moved = client.patch(
        f"/api/cp/compliance/item/{soonest['id']}",
        json={"status": "pending", "dueAt": clock.iso(real_now() - timedelta(days=1))},
        headers=tokens.super_admin(),
    )
    assert moved.json()["item"]["status"] == "overdue"


def test_the_cross_tenant_list_pages_and_filters(client, tokens, tenant):
    client.get(f"/api/cp/compliance/{tenant}", headers=tokens.super_admin())
    first = client.get("/api/cp/compliance", params={"tenantId": tenant, "limit": 5}, headers=tokens.super_admin())
    assert first.status_code == 200
    assert len(first.json()["items"]) == 5
    after = first.headers["x-next-after"]
    rest = client.get(
        "/api/cp/compliance", params={"tenantId": tenant, "after": after, "limit": 500}, headers=tokens.super_admin()
    ).json()["items"]
    ids = [i["id"] for i in first.json()["items"]] + [i["id"] for i in rest]
    assert len(ids) == len(set(ids)) == len(catalog.applicable(None))
    gdpr = client.get(
        "/api/cp/compliance", params={"tenantId": tenant, "framework": "GDPR"}, headers=tokens.super_admin()
    ).json()["items"]
    assert gdpr and {i["framework"] for i in gdpr} == {"GDPR"}
    # The contract gives the list no parameters: a filter nothing matches is an empty page, never an error.
    unknown = client.get("/api/cp/compliance", params={"framework": "ISO", "limit": "x"}, headers=tokens.super_admin())
    assert unknown.status_code == 200 and unknown.json()["items"] == []


def test_the_daily_timer_seeds_every_tenant(client, tokens, devhost, tenant):
    assert compliance.items.for_tenant(tenant) == []
    devhost.fire_timer("seed_compliance_items")
    assert len(compliance.items.for_tenant(tenant)) == len(catalog.applicable(None))
