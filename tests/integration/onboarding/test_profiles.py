"""Fast-start profiles: validated answers, the caller's tenant only, ETag-safe audited patches, a sealed secret."""

from __future__ import annotations

import json
import logging

import pytest

from tests.support.concurrency import race_statuses, run_in_threads
from tests.support.identity import new_tenant_id
from tests.support.onboarding import WEBHOOK_SECRET, answers, audit_events, create_profile, stored_profile

BASE = "/api/cp/onboarding/fast-start"
# A loopback URL (reachable only in tests that allow loopback): the sandbox resolves no public names.
LOOPBACK_HOOK = "http://127.0.0.1:9/hooks/tellgence"


def test_an_admin_creates_a_profile_and_operators_read_it(client, tokens):
    tenant = new_tenant_id("onb")
    admin = tokens.headers(tenant, "admin")
    created = client.post(BASE, json=answers(), headers=admin)
    assert created.status_code == 201
    item = created.json()["item"]
    assert item["tenantId"] == tenant and item["id"].startswith("fsp_")
    assert created.headers["ETag"] == '"1"'
    assert item["checklist"] == {
        "profileConfigured": True,
        "destinationsConfigured": True,
        "destinationsTested": False,
        "personaReviewed": False,
        "testCallPassed": False,
        "readyForGoLive": False,
    }
    assert item["destinationStatus"] == {} and item["testCallPassed"] is False
    operator = tokens.headers(tenant, "operator")
    listed = client.get(BASE, headers=operator).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == item["id"]
    one = client.get(f"{BASE}/{item['id']}", headers=operator)
    assert one.status_code == 200 and one.json()["item"] == item and one.headers["ETag"] == '"1"'
    assert client.post(BASE, json=answers(), headers=operator).status_code == 403
    assert client.get(BASE, headers=tokens.headers(tenant, "viewer")).status_code == 403
    (event,) = [e for e in audit_events(tenant) if e["action"] == "onboarding.profile_created"]
    assert event["targetId"] == item["id"] and event["changes"]["companyName"]["to"] == "Lakeside Family Dental"


def test_the_tenant_comes_from_the_token_and_other_tenants_see_nothing(client, tokens):
    tenant = new_tenant_id("onb")
    item = create_profile(client, tokens.headers(tenant, "admin"), tenantId="someone-else")
    assert item["tenantId"] == tenant
    stranger = tokens.headers(new_tenant_id("other"), "owner")
    assert client.get(f"{BASE}/{item['id']}", headers=stranger).status_code == 404
    assert client.patch(f"{BASE}/{item['id']}", json={"notes": "x"}, headers=stranger).status_code == 404
    missing = client.post(f"{BASE}/{item['id']}/test-destination", json={"kind": "email"}, headers=stranger)
    assert missing.status_code == 404 and missing.json()["error"] == "profile_not_found"
    assert client.get(BASE, headers=stranger).json() == {"success": True, "items": [], "count": 0}


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"personaId": "no_such_persona"}, "personaId: no persona in the catalog has this id"),
        ({"personaId": "legal_intake_specialist"}, "personaId: the persona does not suit the healthcare use case"),
        ({"primaryUseCase": "banking"}, "body.primaryUseCase"),
        ({"summaryRecipients": ["not-an-address"]}, "body.summaryRecipients.0"),
        ({"summaryRecipients": [f"r{i}@lakeside-dental.test" for i in range(11)]}, "body.summaryRecipients"),
        ({"bookingLink": "ftp://lakeside.test/book"}, "body.bookingLink"),
        ({"bookingLink": "https://127.0.0.1/book"}, "bookingLink: The destination resolves to a private address"),
        ({"webhook": {"baseUrl": "https://10.0.0.8/hook", "secret": WEBHOOK_SECRET}}, "webhook.baseUrl"),
        ({"webhook": {"baseUrl": "https://no-such-host.invalid/hook", "secret": WEBHOOK_SECRET}}, "does not resolve"),
        ({"webhook": {"baseUrl": LOOPBACK_HOOK}}, "webhook.secret: is required"),
        ({"webhook": {"baseUrl": LOOPBACK_HOOK, "secret": "short"}}, "webhook.secret: must be at least"),
        ({"webhook": {"baseUrl": LOOPBACK_HOOK, "secret": WEBHOOK_SECRET, "headerName": "Host"}}, "webhook.headerName"),
        ({"faqs": [{"question": "q", "answer": "a" * 2001}]}, "body.faqs.0.answer"),
        ({"faqs": [{"question": "q", "answer": "a"}] * 26}, "body.faqs"),
        ({"greeting": "Hello\nthere"}, "body.greeting"),
        ({"intakeFields": ["name", "Name"]}, "body.intakeFields"),
        ({"companyName": "x" * 201}, "body.companyName"),
    ],
)
def test_bad_answers_are_refused_naming_the_field(client, tokens, overrides, problem, request):
    if overrides.get("webhook", {}).get("baseUrl") == LOOPBACK_HOOK:
        request.getfixturevalue("loopback")
    tenant = new_tenant_id("onb")
    response = client.post(BASE, json=answers(**overrides), headers=tokens.headers(tenant, "admin"))
    assert response.status_code == 400, response.text
    assert problem in response.json()["message"]
    assert client.get(BASE, headers=tokens.headers(tenant, "admin")).json()["count"] == 0


def test_the_webhook_secret_is_sealed_masked_and_never_logged(client, tokens, caplog, loopback):
    caplog.set_level(logging.DEBUG)
    tenant = new_tenant_id("onb")
    admin = tokens.headers(tenant, "admin")
    webhook = {"baseUrl": LOOPBACK_HOOK, "secret": WEBHOOK_SECRET, "headerName": "X-Lakeside-Sig"}
    created = client.post(BASE, json=answers(webhook=webhook), headers=admin)
    item = created.json()["item"]
    assert item["webhook"] == {
        "baseUrl": LOOPBACK_HOOK,
        "headerName": "X-Lakeside-Sig",
        "secret": "********",
    }
    stored = stored_profile(tenant, item["id"])
    assert WEBHOOK_SECRET not in json.dumps(stored)
    assert stored["webhookSecret"]["enc"] == "tellgence.aes256gcm.v1"
    # Sent back masked, the secret is kept; a new URL without it is refused.
    same = client.patch(f"{BASE}/{item['id']}", json={"webhook": {**webhook, "secret": "********"}}, headers=admin)
    assert same.status_code == 200 and same.headers["ETag"] == '"1"'  # nothing changed, nothing written
    moved = client.patch(f"{BASE}/{item['id']}", json={"webhook": {"baseUrl": "http://127.0.0.1:10/h"}}, headers=admin)
    assert moved.status_code == 400
    assert moved.json()["details"] == ["webhook.secret: enter it again, because baseUrl changed"]
    rotated = client.patch(
        f"{BASE}/{item['id']}", json={"webhook": {**webhook, "secret": WEBHOOK_SECRET + "-2"}}, headers=admin
    )
    assert rotated.status_code == 200 and rotated.json()["item"]["webhook"]["secret"] == "********"
    responses = [
        created,
        same,
        moved,
        rotated,
        client.get(f"{BASE}/{item['id']}", headers=admin),
        client.get(BASE, headers=admin),
    ]
    for response in responses:
        assert WEBHOOK_SECRET not in response.text
    events = audit_events(tenant)
    assert WEBHOOK_SECRET not in json.dumps(events)
    (update,) = [e for e in events if e["action"] == "onboarding.profile_updated"]
    assert update["changes"]["webhookSecret"] == {"from": "[redacted]", "to": "[redacted]"}
    assert WEBHOOK_SECRET not in caplog.text


def test_a_patch_changes_only_what_it_sends_and_is_audited(client, tokens, loopback):
    tenant = new_tenant_id("onb")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin, reviewedPersona=True, bookingLink="http://127.0.0.1:9/book")
    assert item["checklist"]["personaReviewed"] is True
    response = client.patch(
        f"{BASE}/{item['id']}",
        json={"greeting": "Lakeside Family Dental, how can we help?", "bookingLink": "", "testCallPassed": True},
        headers=admin,
    )
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    after = response.json()["item"]
    assert after["greeting"] == "Lakeside Family Dental, how can we help?"
    assert "bookingLink" not in after and after["companyName"] == item["companyName"]
    # A new greeting needs a new review; a client's testCallPassed is never read.
    assert after["reviewedPersona"] is False and after["testCallPassed"] is False
    (event,) = [e for e in audit_events(tenant) if e["action"] == "onboarding.profile_updated"]
    assert set(event["changes"]) == {"greeting", "bookingLink", "reviewedPersona"}
    assert event["changes"]["bookingLink"] == {"from": "http://127.0.0.1:9/book", "to": None}
    refused = client.patch(f"{BASE}/{item['id']}", json={"unknownField": 1}, headers=admin)
    assert refused.status_code == 400
    assert (
        client.patch(
            f"{BASE}/{item['id']}", json={"notes": "x"}, headers=tokens.headers(tenant, "operator")
        ).status_code
        == 403
    )


def test_a_stale_if_match_or_revision_is_a_409_and_writes_nothing(client, tokens):
    tenant = new_tenant_id("onb")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin)
    url = f"{BASE}/{item['id']}"
    first = client.patch(url, json={"notes": "first"}, headers={**admin, "If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    stale = client.patch(url, json={"notes": "second"}, headers={**admin, "If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["error"] == "stale_profile"
    stale_body = client.patch(url, json={"notes": "second", "revision": 1}, headers=admin)
    assert stale_body.status_code == 409
    assert stored_profile(tenant, item["id"])["notes"] == "first"
    current = client.patch(url, json={"notes": "second", "revision": 2}, headers={**admin, "If-Match": 'W/"2"'})
    assert current.status_code == 200 and current.json()["item"]["notes"] == "second"
    mismatch = client.patch(url, json={"notes": "third", "revision": 3}, headers={**admin, "If-Match": '"2"'})
    assert mismatch.status_code == 400 and mismatch.json()["error"] == "invalid_if_match"


def test_concurrent_patches_with_the_same_if_match_give_one_winner(devhost, tokens):
    from tests.support.client import ContractClient

    tenant = new_tenant_id("onb")
    admin = tokens.headers(tenant, "admin")
    with ContractClient(devhost.asgi) as setup:
        item = create_profile(setup, admin)
    stale = {**admin, "If-Match": '"1"'}
    writers = [
        lambda http, body={"notes": f"writer {index}"}: http.patch(f"{BASE}/{item['id']}", json=body, headers=stale)
        for index in range(4)
    ]
    assert sorted(race_statuses(devhost.asgi, writers)) == [200, 409, 409, 409]
    assert stored_profile(tenant, item["id"])["revision"] == 2


def test_patches_without_if_match_all_land(devhost, tokens):
    from tests.support.client import ContractClient

    tenant = new_tenant_id("onb")
    admin = tokens.headers(tenant, "admin")
    with ContractClient(devhost.asgi) as setup:
        item = create_profile(setup, admin)
    fields = ["notes", "escalationContact", "bookingLink"]
    values = ["A note", "frontdesk@lakeside-dental.test", "Front desk, extension 4"]
    fields[2] = "greeting"

    def write(name: str, value: str) -> None:
        with ContractClient(devhost.asgi) as http:
            http.check_budget = False
            assert http.patch(f"{BASE}/{item['id']}", json={name: value}, headers=admin).status_code == 200

    run_in_threads(write, zip(fields, values, strict=True))
    stored = stored_profile(tenant, item["id"])
    assert [stored[name] for name in fields] == values and stored["revision"] == 4


def test_a_tenant_has_at_most_fifty_profiles(client, tokens, monkeypatch):
    from shared.onboarding import service

    monkeypatch.setattr(service, "MAX_PROFILES", 2)
    admin = tokens.headers(new_tenant_id("onb"), "admin")
    create_profile(client, admin)
    create_profile(client, admin)
    refused = client.post(BASE, json=answers(), headers=admin)
    assert refused.status_code == 400 and refused.json()["error"] == "too_many_profiles"


def test_a_loopback_booking_link_passes_only_where_loopback_is_allowed(client, tokens, loopback):
    admin = tokens.headers(new_tenant_id("onb"), "admin")
    item = create_profile(client, admin, bookingLink="http://127.0.0.1:9/book")
    assert item["bookingLink"] == "http://127.0.0.1:9/book"


def test_an_empty_base_url_removes_the_webhook_and_its_secret(client, tokens, loopback):
    tenant = new_tenant_id("onb")
    admin = tokens.headers(tenant, "admin")
    item = create_profile(client, admin, webhook={"baseUrl": LOOPBACK_HOOK, "secret": WEBHOOK_SECRET})
    assert item["webhook"]["headerName"] == "X-Tellgence-Signature"
    removed = client.patch(f"{BASE}/{item['id']}", json={"webhook": {"baseUrl": ""}}, headers=admin)
    assert removed.status_code == 200 and "webhook" not in removed.json()["item"]
    stored = stored_profile(tenant, item["id"])
    assert stored.get("webhook") is None and stored.get("webhookSecret") is None
    assert removed.json()["item"]["checklist"]["destinationsConfigured"] is True
