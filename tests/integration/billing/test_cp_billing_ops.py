"""Billing operations: records with this month's usage from the tenant's sessions, validated and audited changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.billing import usage
from shared.platform import clock
from tests.support.identity import new_tenant_id
from tests.support.sessions import finalize_payload, key_headers, start_session


@pytest.fixture
def tenant(client, tokens) -> str:
    tenant_id = new_tenant_id("bo")
    assert client.get("/api/cp/auth/session", headers=tokens.headers(tenant_id, "operator")).status_code == 200
    return tenant_id


def call(client, tokens, tenant: str, seconds: float | None) -> str:
    """A session in `tenant`; finalized with `seconds` of recorded duration unless None."""
    session = start_session(client, headers=tokens.headers(tenant, "operator"))
    if seconds is not None:
        payload = finalize_payload(sessionId=session["sessionId"], duration=seconds)
        assert client.post("/api/sessions/finalize", json=payload, headers=key_headers(session)).status_code == 200
    return session["sessionId"]


def record(client, tokens, tenant: str) -> dict:
    response = client.get(f"/api/cp/billing-ops/{tenant}", headers=tokens.super_admin())
    assert response.status_code == 200, response.text
    return response.json()["record"]


def test_minutes_and_calls_match_the_sessions_recorded_usage(client, tokens, tenant, monkeypatch):
    empty = record(client, tokens, tenant)
    assert (empty["callsThisMonth"], empty["minutesThisMonth"]) == (0, 0)
    assert (empty["plan"], empty["minutesLimit"], empty["invoiceStatus"]) == ("starter", 500, "current")
    assert clock.parse_iso(empty["nextBillingAt"]) == usage.next_month_start(clock.utc_now())
    call(client, tokens, tenant, 240)
    call(client, tokens, tenant, 95.5)
    call(client, tokens, tenant, None)  # started, never finalized: a call with no recorded minutes
    # A session from last month is not this month's usage.
    real_now = clock.utc_now
    monkeypatch.setattr(clock, "utc_now", lambda: usage.month_start(real_now()) - timedelta(hours=1))
    call(client, tokens, tenant, None)
    monkeypatch.setattr(clock, "utc_now", real_now)
    current = record(client, tokens, tenant)
    assert current["callsThisMonth"] == 3
    assert current["minutesThisMonth"] == round((240 + 95.5) / 60, 2) == 5.59
    assert current["displayName"] == tenant


def test_a_plan_change_is_validated_mirrored_and_audited(client, tokens, tenant):
    url = f"/api/cp/billing-ops/{tenant}"
    changed = client.patch(url, json={"plan": "growth", "mrr": 499.5}, headers=tokens.super_admin())
    assert changed.status_code == 200, changed.text
    assert (changed.json()["record"]["plan"], changed.json()["record"]["minutesLimit"]) == ("growth", 2500)
    assert record(client, tokens, tenant)["mrr"] == 499.5
    directory = client.get(f"/api/cp/tenants/{tenant}", headers=tokens.super_admin()).json()["tenant"]
    assert (directory["plan"], directory["mrr"]) == ("growth", 499.5)
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    event = next(e for e in events if e["action"] == "billing.updated" and e["targetId"] == tenant)
    assert event["changes"]["plan"] == {"from": "starter", "to": "growth"}
    assert event["changes"]["minutesLimit"] == {"from": 500, "to": 2500}


def test_invoice_status_moves_only_along_its_transitions(client, tokens, tenant):
    url = f"/api/cp/billing-ops/{tenant}"

    def patch(body):
        return client.patch(url, json=body, headers=tokens.super_admin())

    assert patch({"invoiceStatus": "overdue"}).json()["record"]["invoiceStatus"] == "overdue"
    assert patch({"invoiceStatus": "payment_failed"}).status_code == 200
    refused = patch({"invoiceStatus": "overdue"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_transition"
    locked = patch({"plan": "enterprise"})
    assert locked.status_code == 400 and "current" in locked.json()["message"]
    assert patch({"invoiceStatus": "current", "plan": "enterprise"}).json()["record"]["plan"] == "enterprise"
    assert record(client, tokens, tenant)["invoiceStatus"] == "current"


def test_bad_billing_changes_are_refused(client, tokens, tenant):
    url = f"/api/cp/billing-ops/{tenant}"
    past = clock.iso(clock.utc_now() - timedelta(days=1))
    for body in (
        {"plan": "platinum"},
        {"mrr": -1},
        {"mrr": 10.001},
        {"mrr": "100"},
        {"minutesLimit": 1.5},
        {"invoiceStatus": "paid"},
        {"nextBillingAt": past},
        {"trialEndsAt": "soon"},
        {"callsThisMonth": 0},
        {"plan": None},
    ):
        assert client.patch(url, json=body, headers=tokens.super_admin()).status_code == 400, body
    trial = clock.iso(clock.utc_now() + timedelta(days=14))
    ok = client.patch(url, json={"trialEndsAt": trial, "minutesLimit": 750}, headers=tokens.super_admin()).json()
    assert (ok["record"]["trialEndsAt"], ok["record"]["minutesLimit"]) == (trial, 750)


def test_super_admins_only_and_unknown_tenants_are_404(client, tokens, tenant):
    assert client.get(f"/api/cp/billing-ops/{tenant}", headers=tokens.headers(tenant, "owner")).status_code == 403
    assert client.get("/api/cp/billing-ops", headers=tokens.headers(tenant, "owner")).status_code == 403
    nobody = new_tenant_id("nobody")
    assert client.get(f"/api/cp/billing-ops/{nobody}", headers=tokens.super_admin()).status_code == 404
    assert (
        client.patch(f"/api/cp/billing-ops/{nobody}", json={"plan": "growth"}, headers=tokens.super_admin()).status_code
        == 404
    )


def test_the_cross_tenant_view_pages_with_totals(client, tokens, tenant):
    call(client, tokens, tenant, 120)
    pages, after, seen = 0, None, []
    while True:
        params = {"limit": 5, **({"after": after} if after else {})}
        response = client.get("/api/cp/billing-ops", params=params, headers=tokens.super_admin())
        assert response.status_code == 200
        body = response.json()
        records = body["records"]
        assert body["summary"]["tenantCount"] == len(records) <= 5
        assert body["summary"]["totalCallsThisMonth"] == sum(r["callsThisMonth"] for r in records)
        assert body["summary"]["totalMinutesThisMonth"] == pytest.approx(sum(r["minutesThisMonth"] for r in records))
        seen.extend(r["tenantId"] for r in records)
        pages += 1
        after = response.headers.get("x-next-after")
        if after is None or pages > 200:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert tenant in seen
    mine = client.get("/api/cp/billing-ops", params={"after": tenant[:-1], "limit": 25}, headers=tokens.super_admin())
    first = mine.json()["records"][0]
    assert (first["tenantId"], first["callsThisMonth"], first["minutesThisMonth"]) == (tenant, 1, 2)
