"""Tool policy: global rules by super-admins, tenant overrides, audited, enforced by is_allowed."""

from __future__ import annotations

import pytest

from shared.catalog import content
from shared.toolpolicy import service as policy
from tests.support.identity import new_tenant_id


def tool_with_access(access: str) -> str:
    return next(t["id"] for t in content.tools().values() if t["defaultAccess"] == access)


@pytest.fixture
def tenant(client, tokens) -> str:
    tenant_id = new_tenant_id("tp")
    client.get("/api/cp/auth/session", headers=tokens.headers(tenant_id, "admin"))
    return tenant_id


def test_every_registry_tool_has_a_rule(client, tokens):
    rules = client.get("/api/cp/tool-policy", headers=tokens.super_admin()).json()["rules"]
    assert {rule["toolId"] for rule in rules} == set(content.tools())


def test_a_super_admin_changes_a_rule_and_it_is_audited(client, tokens):
    tool_id = tool_with_access("global")
    response = client.patch(
        f"/api/cp/tool-policy/{tool_id}", json={"access": "tenant_optin"}, headers=tokens.super_admin()
    )
    assert response.status_code == 200
    assert response.json()["rule"]["access"] == "tenant_optin"
    assert response.json()["rule"]["updatedBy"] == tokens.super_admin_user_id
    rules = {r["toolId"]: r for r in client.get("/api/cp/tool-policy", headers=tokens.super_admin()).json()["rules"]}
    assert rules[tool_id]["access"] == "tenant_optin"
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    event = next(e for e in events if e["action"] == "tool_policy.updated" and e["targetId"] == tool_id)
    assert event["changes"]["access"] == {"from": "global", "to": "tenant_optin"}
    client.patch(f"/api/cp/tool-policy/{tool_id}", json={"access": "global"}, headers=tokens.super_admin())


def test_rule_changes_are_validated(client, tokens):
    tool_id = tool_with_access("global")
    for body in ({"access": "sometimes"}, {"hipaaImpact": "yes"}, {"description": "rewritten"}):
        response = client.patch(f"/api/cp/tool-policy/{tool_id}", json=body, headers=tokens.super_admin())
        assert response.status_code == 400, body
    assert (
        client.patch(
            "/api/cp/tool-policy/no_such_tool", json={"access": "blocked"}, headers=tokens.super_admin()
        ).status_code
        == 404
    )


def test_a_tenant_admin_opts_in_for_their_own_tenant_only(client, tokens, tenant):
    tool_id = tool_with_access("tenant_optin")
    assert policy.is_allowed(tenant, tool_id) is False
    url = f"/api/cp/tool-policy/tenants/{tenant}/overrides/{tool_id}"
    response = client.patch(url, json={"enabled": True, "reason": "pilot"}, headers=tokens.headers(tenant, "admin"))
    assert response.status_code == 200
    assert response.json()["override"]["enabled"] is True
    assert policy.is_allowed(tenant, tool_id) is True
    listed = client.get(f"/api/cp/tool-policy/tenants/{tenant}/overrides", headers=tokens.headers(tenant, "owner"))
    assert [o["toolId"] for o in listed.json()["overrides"]] == [tool_id]
    other = new_tenant_id("tp")
    assert (
        client.get(
            f"/api/cp/tool-policy/tenants/{tenant}/overrides", headers=tokens.headers(other, "admin")
        ).status_code
        == 404
    )
    assert client.patch(url, json={"enabled": False}, headers=tokens.headers(other, "owner")).status_code == 404
    assert client.patch(url, json={"enabled": False}, headers=tokens.headers(tenant, "operator")).status_code == 403


def test_a_global_tool_can_be_disabled_for_one_tenant(client, tokens, tenant):
    tool_id = tool_with_access("global")
    assert policy.is_allowed(tenant, tool_id) is True
    client.patch(
        f"/api/cp/tool-policy/tenants/{tenant}/overrides/{tool_id}",
        json={"enabled": False},
        headers=tokens.super_admin(),
    )
    assert policy.is_allowed(tenant, tool_id) is False


def test_a_blocked_tool_cannot_be_enabled_anywhere(client, tokens, tenant):
    tool_id = tool_with_access("blocked")
    response = client.patch(
        f"/api/cp/tool-policy/tenants/{tenant}/overrides/{tool_id}",
        json={"enabled": True},
        headers=tokens.super_admin(),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "tool_blocked"
    assert policy.is_allowed(tenant, tool_id) is False


def test_overrides_for_an_unknown_tenant_or_tool(client, tokens, tenant):
    listed = client.get("/api/cp/tool-policy/tenants/ghost-tenant/overrides", headers=tokens.super_admin())
    assert listed.json()["overrides"] == []
    ghost = client.patch(
        f"/api/cp/tool-policy/tenants/ghost-tenant/overrides/{tool_with_access('global')}",
        json={"enabled": False},
        headers=tokens.super_admin(),
    )
    assert ghost.status_code == 404
    response = client.patch(
        f"/api/cp/tool-policy/tenants/{tenant}/overrides/no_such_tool",
        json={"enabled": True},
        headers=tokens.super_admin(),
    )
    assert response.status_code == 404


def test_seeding_stores_every_default_once(emulators):
    policy.seed_rules()
    assert policy.seed_rules() == 0
    assert {doc["toolId"] for doc in policy.policies.rules()} == set(content.tools())


def test_an_empty_override_patch_reads_the_current_state(client, tokens, tenant):
    optin = tool_with_access("tenant_optin")
    response = client.patch(f"/api/cp/tool-policy/tenants/{tenant}/overrides/{optin}", headers=tokens.super_admin())
    assert response.json()["override"] == {"toolId": optin, "tenantId": tenant, "enabled": False}
    assert policy.list_overrides(tenant) == []
