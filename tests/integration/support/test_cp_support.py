"""Support tickets: raised by tenant admins inside their tenant, worked by super-admins, critical ones announced."""

from __future__ import annotations

import pytest

from shared.platform.store import blobs, queues
from shared.platform.store.registry import EMAIL_OUTBOX_CONTAINER
from shared.support import service as support
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id


@pytest.fixture
def tenant(client, tokens) -> str:
    tenant_id = new_tenant_id("st")
    assert client.get("/api/cp/auth/session", headers=tokens.headers(tenant_id, "admin")).status_code == 200
    return tenant_id


def raise_ticket(client, headers, **body) -> dict:
    response = client.post(
        "/api/cp/support",
        json={"subject": "Calls drop after 30 seconds", "description": "Since Monday.", **body},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["ticket"]


def outbox_mail_for(ticket_id: str) -> list[str]:
    container = blobs.get_container(EMAIL_OUTBOX_CONTAINER)
    texts = []
    for blob in container.list_blobs():
        text = container.download_blob(blob.name).readall().decode("utf-8", "replace")
        if ticket_id in text:
            texts.append(text)
    return texts


def test_an_admin_raises_and_reads_their_own_tickets(client, tokens, tenant):
    admin = tokens.headers(tenant, "admin")
    ticket = raise_ticket(client, admin, priority="high")
    assert (ticket["tenantId"], ticket["status"], ticket["priority"]) == (tenant, "open", "high")
    assert ticket["id"].startswith(f"{tenant}:") and ticket["submittedBy"].startswith("user_")
    assert client.get(f"/api/cp/support/{ticket['id']}", headers=admin).json()["ticket"] == ticket
    listed = client.get("/api/cp/support", headers=admin).json()["tickets"]
    assert [t["id"] for t in listed] == [ticket["id"]]
    assert client.get("/api/cp/support", headers=tokens.headers(tenant, "operator")).status_code == 403


def test_tickets_stay_within_their_tenant(client, tokens, tenant):
    mine = raise_ticket(client, tokens.headers(tenant, "admin"))
    other = new_tenant_id("st")
    theirs_headers = tokens.headers(other, "admin")
    client.get("/api/cp/auth/session", headers=theirs_headers)
    theirs = raise_ticket(client, theirs_headers, subject="Another tenant's problem")
    assert client.get(f"/api/cp/support/{mine['id']}", headers=theirs_headers).status_code == 404
    assert client.get(f"/api/cp/support/{theirs['id']}", headers=tokens.headers(tenant, "owner")).status_code == 404
    # Naming another tenant in the query or the body does not reach it.
    listed = client.get("/api/cp/support", params={"tenantId": tenant}, headers=theirs_headers).json()["tickets"]
    assert [t["id"] for t in listed] == [theirs["id"]]
    refused = client.post(
        "/api/cp/support", json={"subject": "s", "description": "d", "tenantId": tenant}, headers=theirs_headers
    )
    assert refused.status_code == 400 and refused.json()["error"] == "unknown_tenant"
    assert client.get(f"/api/cp/support/{tenant}:nothing-here", headers=tokens.super_admin()).status_code == 404
    everything = client.get("/api/cp/support", headers=tokens.super_admin()).json()["tickets"]
    assert {mine["id"], theirs["id"]} <= {t["id"] for t in everything}
    one = client.get("/api/cp/support", params={"tenantId": tenant}, headers=tokens.super_admin()).json()["tickets"]
    assert {t["tenantId"] for t in one} == {tenant}


def test_the_platform_team_works_a_ticket_through_its_statuses(client, tokens, tenant):
    ticket = raise_ticket(client, tokens.headers(tenant, "admin"))
    url = f"/api/cp/support/{ticket['id']}"
    assert client.patch(url, json={"status": "in_progress"}, headers=tokens.headers(tenant, "owner")).status_code == 403
    taken = client.patch(url, json={"status": "in_progress"}, headers=tokens.super_admin()).json()["ticket"]
    assert (taken["status"], taken["assignee"]) == ("in_progress", tokens.super_admin_user_id)
    waiting = client.patch(
        url, json={"status": "waiting_on_tenant", "assignee": "user_support_2"}, headers=tokens.super_admin()
    )
    assert waiting.json()["ticket"]["assignee"] == "user_support_2"
    skipped = client.patch(url, json={"status": "open"}, headers=tokens.super_admin())
    assert skipped.status_code == 400 and skipped.json()["error"] == "invalid_transition"
    resolved = client.patch(url, json={"status": "resolved"}, headers=tokens.super_admin()).json()["ticket"]
    assert resolved["status"] == "resolved" and resolved["resolvedAt"] >= ticket["createdAt"]
    reopened = client.patch(url, json={"status": "open"}, headers=tokens.super_admin()).json()["ticket"]
    assert reopened["status"] == "open" and "resolvedAt" not in reopened
    events = client.get("/api/cp/audit", headers=tokens.super_admin()).json()["events"]
    moves = [
        e["changes"]["status"]
        for e in events
        if e["action"] == "support.ticket_updated" and e["targetId"] == ticket["id"]
    ]
    assert {"from": "in_progress", "to": "waiting_on_tenant"} in moves and len(moves) == 4


def test_text_is_bounded_and_kept_as_text(client, tokens, tenant):
    admin = tokens.headers(tenant, "admin")
    markup = raise_ticket(client, admin, subject="<script>alert(1)</script>", description="Line one\nLine <b>two</b>")
    assert markup["subject"] == "<script>alert(1)</script>" and markup["description"] == "Line one\nLine <b>two</b>"
    for body in (
        {"subject": "x" * 201, "description": "d"},
        {"subject": "s", "description": "d" * 5001},
        {"subject": "two\nlines", "description": "d"},
        {"subject": "s", "description": "bell\u0007"},
        {"subject": "", "description": "d"},
        {"subject": "s", "description": "d", "priority": "urgent"},
        {"subject": "s", "description": "d", "status": "resolved"},
        {"subject": 5, "description": "d"},
    ):
        assert client.post("/api/cp/support", json=body, headers=admin).status_code == 400, body
    ticket = raise_ticket(client, admin)
    for body in ({"status": "closed"}, {"assignee": "not an id"}, {"subject": "rewritten"}, {"priority": None}):
        response = client.patch(f"/api/cp/support/{ticket['id']}", json=body, headers=tokens.super_admin())
        assert response.status_code == 400, body


def test_a_critical_ticket_notifies_the_platform_team_through_the_emails_queue(client, tokens, tenant, devhost):
    ticket = raise_ticket(client, tokens.headers(tenant, "admin"), priority="critical", subject="All calls fail <now>")
    assert support.tickets.read(ticket["id"], tenant)["notification"]["status"] == "queued"
    devhost.drain_queues(timeout=30)
    [mail] = outbox_mail_for(ticket["id"])
    assert "platform-support@tellgence.test" in mail
    assert "All calls fail <now>" in mail  # plain text: the ticket's words are never markup
    normal = raise_ticket(client, tokens.headers(tenant, "admin"), priority="normal")
    assert "notification" not in support.tickets.read(normal["id"], tenant)
    raised = client.patch(
        f"/api/cp/support/{normal['id']}", json={"priority": "critical"}, headers=tokens.super_admin()
    )
    assert raised.status_code == 200
    devhost.drain_queues(timeout=30)
    assert len(outbox_mail_for(normal["id"])) == 1


def test_a_critical_ticket_without_a_recipient_or_a_queue_says_so_on_the_ticket(client, tokens, tenant, settings_env):
    settings_env.setenv("SUPPORT_NOTIFY_EMAIL", "")
    reset_clients()
    unconfigured = raise_ticket(client, tokens.headers(tenant, "admin"), priority="critical")
    assert support.tickets.read(unconfigured["id"], tenant)["notification"]["status"] == "not_configured"
    settings_env.setenv("SUPPORT_NOTIFY_EMAIL", "platform-support@tellgence.test")
    reset_clients()

    def queue_down(name, payload, **kwargs):
        raise ConnectionError("the queue service is unreachable")

    # The storage client's own retries take most of a minute against a dead port; fail the send at once.
    settings_env.setattr(queues, "enqueue", queue_down)
    unreachable = raise_ticket(client, tokens.headers(tenant, "admin"), priority="critical")
    assert support.tickets.read(unreachable["id"], tenant)["notification"]["status"] == "failed"


def test_a_super_admin_outside_the_tenant_names_it(client, tokens, tenant):
    outside = tokens.super_admin()
    assert client.post("/api/cp/support", json={"subject": "s", "description": "d"}, headers=outside).status_code == 400
    ticket = raise_ticket(client, outside, tenantId=tenant)
    assert ticket["tenantId"] == tenant
    missing = client.post(
        "/api/cp/support", json={"subject": "s", "description": "d", "tenantId": new_tenant_id("no")}, headers=outside
    )
    assert missing.status_code == 400 and missing.json()["error"] == "unknown_tenant"
