"""The audit log: newest first, scoped by role, and immutable."""

from __future__ import annotations

import pytest

from shared.audit import service as audit
from shared.platform.principal import AccessState, Principal, Role
from tests.support.identity import new_tenant_id


def actor(tenant: str) -> Principal:
    return Principal("user_actor", f"org_{tenant}", tenant, Role.ADMIN, False, AccessState.TENANT_MEMBER)


@pytest.fixture
def two_tenants(emulators) -> tuple[str, str]:
    mine, theirs = new_tenant_id("aud"), new_tenant_id("aud")
    for index in range(3):
        audit.record(actor(mine), f"thing.changed.{index}", target_type="thing", target_id=f"x{index}", tenant_id=mine)
    audit.record(actor(theirs), "thing.changed.secret", target_type="thing", target_id="y", tenant_id=theirs)
    return mine, theirs


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_tenant_owners_and_admins_see_only_their_tenant_newest_first(client, tokens, two_tenants, role):
    mine, theirs = two_tenants
    response = client.get("/api/cp/audit", headers=tokens.headers(mine, role))
    assert theirs not in response.text
    assert response.status_code == 200
    events = response.json()["events"]
    assert {event["tenantId"] for event in events} == {mine}
    assert [event["action"] for event in events] == ["thing.changed.2", "thing.changed.1", "thing.changed.0"]


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_operators_and_viewers_may_not_read_the_audit_log(client, tokens, two_tenants, role):
    assert client.get("/api/cp/audit", headers=tokens.headers(two_tenants[0], role)).status_code == 403


def test_super_admins_see_every_tenant(client, tokens, two_tenants):
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    assert set(two_tenants) <= {event["tenantId"] for event in events}
    stamps = [event["createdAt"] for event in events]
    assert stamps == sorted(stamps, reverse=True)


def test_events_cannot_be_changed_or_deleted(two_tenants):
    event = audit.events.newest_for_tenant(two_tenants[0], 1)[0]
    with pytest.raises(PermissionError):
        audit.events.replace({**event, "action": "rewritten"})
    with pytest.raises(PermissionError):
        audit.events.upsert({**event, "action": "rewritten"})
    with pytest.raises(PermissionError):
        audit.events.delete(event["id"], event["tenantId"])
