"""POST /api/webhooks/clerk: Svix-verified directory sync, applied once per delivery."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from svix.webhooks import Webhook

from tests.conftest import TEST_ENVIRONMENT, reset_clients
from tests.support.identity import new_tenant_id

SECRET = TEST_ENVIRONMENT["CLERK_WEBHOOK_SIGNING_SECRET"]


def signed(event: dict, *, delivery_id: str | None = None, at: datetime | None = None) -> tuple[bytes, dict]:
    body = json.dumps(event).encode()
    delivery_id = delivery_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(SECRET).sign(delivery_id, at, body.decode())
    headers = {
        "svix-id": delivery_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": signature,
        "content-type": "application/json",
    }
    return body, headers


def deliver(client, event: dict, **kwargs):
    body, headers = signed(event, **kwargs)
    return client.post("/api/webhooks/clerk", content=body, headers=headers)


def org_event(kind: str, org_id: str, slug: str, name: str) -> dict:
    return {
        "type": kind,
        "object": "event",
        "data": {"id": org_id, "slug": slug, "name": name, "object": "organization"},
    }


def membership_event(kind: str, org_id: str, slug: str, user_id: str, role: str) -> dict:
    return {
        "type": kind,
        "object": "event",
        "data": {
            "object": "organization_membership",
            "role": role,
            "organization": {"id": org_id, "slug": slug, "name": slug.title()},
            "public_user_data": {"user_id": user_id, "identifier": f"{user_id}@example.test"},
        },
    }


def test_an_organization_event_creates_the_tenant_entry(client, tokens):
    slug = new_tenant_id("clinic")
    response = deliver(client, org_event("organization.created", f"org_{slug}", slug, "Bayside Clinic"))
    assert response.status_code == 200
    tenant = client.get(f"/api/cp/tenants/{slug}", headers=tokens.super_admin()).json()["tenant"]
    assert tenant["displayName"] == "Bayside Clinic"
    assert tenant["status"] == "active"


def test_the_same_body_with_one_byte_changed_is_refused(client):
    slug = new_tenant_id("clinic")
    body, headers = signed(org_event("organization.created", f"org_{slug}", slug, "Bayside Clinic"))
    tampered = body.replace(b"Bayside", b"Baysidf")
    response = client.post("/api/webhooks/clerk", content=tampered, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_signature"


@pytest.mark.parametrize("missing", ["svix-id", "svix-timestamp", "svix-signature"])
def test_missing_signature_headers_are_refused(client, missing):
    body, headers = signed(org_event("organization.created", "org_x", "x-org", "X"))
    del headers[missing]
    response = client.post("/api/webhooks/clerk", content=body, headers=headers)
    assert response.status_code == 400


def test_a_stale_signature_is_refused(client):
    response = deliver(
        client, org_event("organization.created", "org_y", "y-org", "Y"), at=datetime.now(UTC) - timedelta(hours=1)
    )
    assert response.status_code == 400


def test_without_a_signing_secret_the_webhook_is_unavailable(client, settings_env):
    settings_env.setenv("CLERK_WEBHOOK_SIGNING_SECRET", "")
    reset_clients()
    response = deliver(client, org_event("organization.created", "org_z", "z-org", "Z"))
    assert response.status_code == 503


def test_a_replayed_delivery_is_applied_once(client, tokens):
    slug = new_tenant_id("firm")
    delivery = f"msg_{uuid.uuid4().hex}"
    first = org_event("organization.created", f"org_{slug}", slug, "First Name")
    assert deliver(client, first, delivery_id=delivery).status_code == 200
    patched = client.patch(f"/api/cp/tenants/{slug}", json={"displayName": "Renamed"}, headers=tokens.super_admin())
    assert patched.status_code == 200
    assert deliver(client, first, delivery_id=delivery).status_code == 200
    tenant = client.get(f"/api/cp/tenants/{slug}", headers=tokens.super_admin()).json()["tenant"]
    assert tenant["displayName"] == "Renamed"


def test_membership_events_grant_and_revoke_access(client, tokens):
    slug = new_tenant_id("bank")
    user = f"user_{uuid.uuid4().hex[:8]}"
    assert (
        deliver(
            client, membership_event("organizationMembership.created", f"org_{slug}", slug, user, "org:admin")
        ).status_code
        == 200
    )
    headers = tokens.headers(slug, None, user=user, o={"id": f"org_{slug}", "slg": slug})
    assert client.get("/api/cp/auth/session", headers=headers).json()["session"]["role"] == "admin"
    assert (
        deliver(
            client, membership_event("organizationMembership.deleted", f"org_{slug}", slug, user, "org:admin")
        ).status_code
        == 200
    )
    session = client.get("/api/cp/auth/session", headers=tokens.headers(slug, "admin", user=user)).json()["session"]
    assert session["accessState"] == "no_membership"


def test_an_organization_deletion_archives_the_tenant(client, tokens):
    slug = new_tenant_id("ins")
    deliver(client, org_event("organization.created", f"org_{slug}", slug, "Insurer"))
    deliver(client, org_event("organization.deleted", f"org_{slug}", slug, "Insurer"))
    tenant = client.get(f"/api/cp/tenants/{slug}", headers=tokens.super_admin()).json()["tenant"]
    assert tenant["status"] == "archived"


def test_user_events_are_stored(client):
    from shared.identity import service as identity

    user = f"user_{uuid.uuid4().hex[:8]}"
    event = {
        "type": "user.created",
        "data": {
            "id": user,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "primary_email_address_id": "idn_2",
            "email_addresses": [
                {"id": "idn_1", "email_address": "old@example.test"},
                {"id": "idn_2", "email_address": "ada@example.test"},
            ],
        },
    }
    assert deliver(client, event).status_code == 200
    stored = identity.users.read(user, user)
    assert stored["email"] == "ada@example.test"
    assert stored["firstName"] == "Ada"


def test_other_event_types_are_accepted_and_ignored(client):
    assert deliver(client, {"type": "session.created", "data": {"id": "sess_1"}}).status_code == 200


def test_a_malformed_event_is_400(client):
    assert deliver(client, {"type": "organization.created", "data": {"name": "no id"}}).status_code == 400
