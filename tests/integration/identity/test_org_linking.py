"""Organizations are linked to tenants they own: never to an existing tenant by slug, never to a reserved one."""

from __future__ import annotations

import uuid

from shared.tenants import service as tenants
from tests.support.identity import new_tenant_id
from tests.support.sessions import start_session


def tenant_of(client, headers) -> str | None:
    response = client.get("/api/cp/auth/session", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["session"]["tenantId"]


def test_an_org_named_like_the_demo_tenant_cannot_read_anonymous_sessions(client, tokens):
    anonymous = start_session(client)
    org = f"org_{uuid.uuid4().hex[:10]}"
    attacker = tokens.headers("default-practice", "owner", o={"id": org, "rol": "owner", "slg": "default-practice"})
    claimed = tenant_of(client, attacker)
    assert claimed not in (None, "default-practice")
    listed = client.get("/api/sessions", headers=attacker).json()["sessions"]
    assert anonymous["sessionId"] not in {item["id"] for item in listed}
    read = client.get(f"/api/sessions/{anonymous['sessionId']}", headers=attacker)
    assert read.status_code == 404


def test_an_org_never_claims_an_existing_tenant_nobody_owns(client, tokens):
    unowned = new_tenant_id("unowned")
    tenants.ensure_tenant(unowned)
    org = f"org_{uuid.uuid4().hex[:10]}"
    headers = tokens.headers(unowned, "owner", o={"id": org, "rol": "owner", "slg": unowned})
    linked = tenant_of(client, headers)
    assert linked != unowned
    assert tenants.read_tenant(unowned).get("clerkOrgId") is None
    # The link is stable: the same organization always lands in the tenant it was given.
    assert tenant_of(client, headers) == linked


def test_an_org_never_claims_another_orgs_tenant(client, tokens):
    owner_tenant = new_tenant_id("owned")
    tenant_of(client, tokens.headers(owner_tenant, "owner"))
    intruder = tokens.headers(
        owner_tenant, "owner", o={"id": f"org_{uuid.uuid4().hex[:10]}", "rol": "owner", "slg": owner_tenant}
    )
    assert tenant_of(client, intruder) != owner_tenant


def test_a_brand_new_slug_becomes_the_orgs_tenant(client, tokens):
    fresh = new_tenant_id("fresh")
    assert tenant_of(client, tokens.headers(fresh, "admin")) == fresh
    assert tenants.read_tenant(fresh)["clerkOrgId"] == f"org_{fresh}"


def test_reserved_tenants_are_never_linked(client, tokens):
    for reserved in ("platform", "default-practice", "tellgence"):
        org = f"org_{uuid.uuid4().hex[:10]}"
        assert tenant_of(client, tokens.headers(reserved, "owner", o={"id": org, "rol": "owner", "slg": reserved})) != (
            reserved
        )
