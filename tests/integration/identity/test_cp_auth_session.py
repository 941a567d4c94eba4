"""GET /api/cp/auth/session: the resolved session in every access state."""

from __future__ import annotations

import pytest

from devhost.emulators import free_ports
from shared.identity import service as identity
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id


def session_of(client, headers) -> dict:
    response = client.get("/api/cp/auth/session", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["session"]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize(
    ("role", "owner", "admin", "operate"),
    [
        ("owner", True, True, True),
        ("admin", False, True, True),
        ("operator", False, False, True),
        ("viewer", False, False, False),
    ],
)
def test_tenant_member_session_in_both_claim_versions(client, tokens, version, role, owner, admin, operate):
    tenant = new_tenant_id()
    session = session_of(client, tokens.headers(tenant, role, version=version))
    assert session["tenantId"] == tenant
    assert session["orgId"] == f"org_{tenant}"
    assert session["role"] == role
    assert (session["isOwner"], session["isAdmin"], session["canOperate"]) == (owner, admin, operate)
    assert session["hasTenantAccess"] is True
    assert session["accessState"] == "tenant_member"
    assert session["isSuperAdmin"] is False


def test_a_user_without_an_organization_has_no_tenant(client, tokens):
    session = session_of(client, tokens.headers(None, None))
    assert session["accessState"] == "no_tenant"
    assert session["tenantId"] is None and session["role"] is None
    assert session["hasTenantAccess"] is False


def test_a_super_admin_without_an_organization(client, tokens):
    session = session_of(client, tokens.super_admin())
    assert session["accessState"] == "super_admin"
    assert session["isSuperAdmin"] is True
    assert session["tenantId"] is None


def test_an_org_role_we_do_not_grant_is_no_membership(client, tokens):
    session = session_of(client, tokens.headers(new_tenant_id(), "billing"))
    assert session["accessState"] == "no_membership"
    assert session["tenantId"]
    assert session["hasTenantAccess"] is False


def test_a_removed_membership_stops_a_still_valid_token(client, tokens):
    tenant = new_tenant_id()
    headers = tokens.headers(tenant, "admin", user="user_leaver")
    assert session_of(client, headers)["accessState"] == "tenant_member"
    identity.remove_member(tenant, "user_leaver")
    assert session_of(client, headers)["accessState"] == "no_membership"


def test_first_activity_creates_the_tenant_entry(client, tokens):
    tenant = new_tenant_id()
    session_of(client, tokens.headers(tenant, "viewer"))
    entry = client.get(f"/api/cp/tenants/{tenant}", headers=tokens.super_admin()).json()["tenant"]
    assert entry["status"] == "active"
    assert entry["firstSeenAt"] and entry["lastActivityAt"]


def test_the_store_being_down_is_reported_as_db_unavailable(client, tokens, settings_env):
    port = free_ports(1)[0]
    settings_env.setenv("COSMOS_ENDPOINT", f"https://127.0.0.1:{port}")
    reset_clients()
    session = session_of(client, tokens.headers(new_tenant_id(), "admin"))
    assert session["accessState"] == "db_unavailable"
    assert session["hasTenantAccess"] is False


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer not.a.token", "Basic dXNlcjpwYXNz"],
)
def test_missing_or_garbage_bearer_is_401(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/api/cp/auth/session", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] in {"missing_token", "invalid_token"}


def test_a_forged_expired_or_foreign_token_is_401(client, tokens):
    from devhost.tokens import generate_private_key

    tenant = new_tenant_id()
    for token in (
        tokens.token(tenant, "owner", key=generate_private_key()),
        tokens.token(tenant, "owner", exp=1_000_000),
        tokens.token(tenant, "owner", iss="https://someone-else.example"),
    ):
        response = client.get("/api/cp/auth/session", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
