"""Control-plane Tenants: super-admins only; patches validated and audited."""

from __future__ import annotations

import pytest

from tests.support.identity import new_tenant_id


@pytest.fixture
def tenant(client, tokens) -> str:
    tenant_id = new_tenant_id("dir")
    assert client.get("/api/cp/auth/session", headers=tokens.headers(tenant_id, "owner")).status_code == 200
    return tenant_id


def test_super_admin_lists_and_reads_tenants(client, tokens, tenant):
    listed = client.get("/api/cp/tenants", headers=tokens.super_admin()).json()["tenants"]
    assert tenant in {entry["tenantId"] for entry in listed}
    one = client.get(f"/api/cp/tenants/{tenant}", headers=tokens.super_admin()).json()["tenant"]
    assert one["tenantId"] == tenant


def test_a_tenant_owner_is_not_a_super_admin(client, tokens, tenant):
    for path in ("/api/cp/tenants", f"/api/cp/tenants/{tenant}"):
        response = client.get(path, headers=tokens.headers(tenant, "owner"))
        assert response.status_code == 403
    patched = client.patch(
        f"/api/cp/tenants/{tenant}", json={"plan": "growth"}, headers=tokens.headers(tenant, "owner")
    )
    assert patched.status_code == 403


def test_unknown_tenant_is_404(client, tokens):
    assert client.get("/api/cp/tenants/no-such-tenant", headers=tokens.super_admin()).status_code == 404
    response = client.patch("/api/cp/tenants/no-such-tenant", json={"plan": "growth"}, headers=tokens.super_admin())
    assert response.status_code == 404


def test_patch_changes_fields_and_is_audited(client, tokens, tenant):
    response = client.patch(
        f"/api/cp/tenants/{tenant}",
        json={"displayName": "Harbor Dental", "plan": "growth", "mrr": 1499, "status": "paused", "industry": "dental"},
        headers=tokens.super_admin(),
    )
    assert response.status_code == 200
    entry = response.json()["tenant"]
    assert (entry["displayName"], entry["plan"], entry["mrr"], entry["status"]) == (
        "Harbor Dental",
        "growth",
        1499,
        "paused",
    )
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    event = next(e for e in events if e["targetId"] == tenant and e["action"] == "tenant.updated")
    assert event["actorId"] == tokens.super_admin_user_id
    assert event["tenantId"] == tenant
    assert event["changes"]["plan"] == {"from": None, "to": "growth"}
    assert event["ip"].startswith("127.")


@pytest.mark.parametrize(
    "body",
    [
        {"plan": "platinum"},
        {"status": "deleted"},
        {"mrr": -5},
        {"mrr": "1499"},
        {"displayName": ""},
        {"displayName": None},
        {"tenantId": "hijack"},
        {"firstSeenAt": "2020-01-01T00:00:00Z"},
    ],
)
def test_invalid_patches_are_400_and_change_nothing(client, tokens, tenant, body):
    before = client.get(f"/api/cp/tenants/{tenant}", headers=tokens.super_admin()).json()["tenant"]
    response = client.patch(f"/api/cp/tenants/{tenant}", json=body, headers=tokens.super_admin())
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    after = client.get(f"/api/cp/tenants/{tenant}", headers=tokens.super_admin()).json()["tenant"]
    assert {k: v for k, v in after.items() if k != "lastActivityAt"} == {
        k: v for k, v in before.items() if k != "lastActivityAt"
    }


def test_a_non_json_patch_is_415_and_malformed_json_400(client, tokens, tenant):
    response = client.patch(
        f"/api/cp/tenants/{tenant}",
        content=b"plan=growth",
        headers={**tokens.super_admin(), "content-type": "text/plain"},
    )
    assert response.status_code == 415
    malformed = client.patch(
        f"/api/cp/tenants/{tenant}",
        content=b"{plan: growth}",
        headers={**tokens.super_admin(), "content-type": "application/json"},
    )
    assert (malformed.status_code, malformed.json()["error"]) == (400, "invalid_json")


def test_an_empty_patch_changes_nothing_and_writes_no_audit_event(client, tokens, tenant):
    response = client.patch(f"/api/cp/tenants/{tenant}", headers=tokens.super_admin())
    assert response.status_code == 200
    assert response.json()["tenant"]["tenantId"] == tenant
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    assert not [e for e in events if e["targetId"] == tenant]
