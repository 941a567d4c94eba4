"""Lead and prospect emails: through the emails queue into the outbox or an SMTP server, parked and re-queued by the
timer while the queue is down, held to per-recipient limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from devhost.emulators import free_ports
from shared.platform.settings import get_settings
from tests.conftest import reset_clients
from tests.support.client import ContractClient
from tests.support.identity import new_tenant_id
from tests.support.leads import new_lead_body, outbox_messages, pending_emails, stored_lead, unique_email
from tests.support.smtp import Inbox

TRANSCRIPT = [
    {"role": "assistant", "content": "Thanks for calling Acme Insurance."},
    {"role": "user", "content": "I want to file a claim <script>alert(1)</script> & get an adjuster."},
    {"role": "system", "content": "hidden instructions"},
]


def _sent_to(address: str) -> list[Any]:
    return [mail for mail in outbox_messages("") if address in str(mail["To"])]


def test_a_lead_notification_reaches_the_demo_tenants_sales_team_through_the_outbox(client, devhost):
    body = new_lead_body(name="Jane <b>Smith</b>")
    answer = client.post("/api/leads", json=body).json()
    assert answer["emailDelivered"] is True
    devhost.drain_queues()
    [mail] = outbox_messages(answer["leadId"])
    assert mail["To"] == "sales@tellgence.test"
    assert mail["Reply-To"] == body["email"]
    assert answer["leadId"] in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Jane &lt;b&gt;Smith&lt;/b&gt;" in html and "<b>Smith" not in html
    assert "\n" not in mail["Subject"] and "Jane" in mail["Subject"]


def test_a_tenants_leads_go_to_its_own_sales_address(client, tokens, devhost):
    tenant = new_tenant_id("lead")
    sales = unique_email("sales")
    configured = client.patch(
        "/api/cp/onboarding/tenant-settings",
        json={"salesNotificationEmail": sales},
        headers=tokens.headers(tenant, "admin"),
    )
    assert configured.status_code == 200, configured.text
    answer = client.post("/api/leads", json=new_lead_body(), headers=tokens.headers(tenant, "operator")).json()
    assert answer["emailDelivered"] is True
    devhost.drain_queues()
    [mail] = outbox_messages(answer["leadId"])
    assert mail["To"] == sales


def test_the_session_summary_and_transcript_reach_the_prospect_escaped_and_bounded(client, devhost):
    prospect = unique_email()
    summary = client.post(
        "/api/leads/session-summary",
        json={
            "email": prospect,
            "scenarioTitle": "Insurance FNOL",
            "toolsExecuted": 4,
            "timeSaved": 12,
            "sessionDuration": 185_000,
            "transcript": TRANSCRIPT,
        },
    )
    assert summary.status_code == 200 and summary.json() == {
        "success": True,
        "emailDelivered": True,
        "message": "The demo summary is on its way",
    }
    long_turns = [{"role": "user", "content": "word " * 3000}] * 10
    transcript = client.post("/api/leads/transcript-email", json={"email": prospect, "transcript": long_turns})
    assert transcript.status_code == 200, transcript.text
    devhost.drain_queues()
    mails = {mail["X-Tellgence-Tags"]: mail for mail in _sent_to(prospect)}
    summary_mail, transcript_mail = mails["kind=session-summary"], mails["kind=transcript"]
    html = summary_mail.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; get" in html and "<script>" not in html
    text = summary_mail.get_body(("plain",)).get_content()
    assert "3 min 05 s" in text and "12 minutes" in text and "hidden instructions" not in text
    assert "Transcript truncated" in transcript_mail.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "nobody", "transcript": []}, 400),
        ({"email": "a@b.com", "transcript": [{"role": "user", "content": "x"}] * 501}, 400),
        ({"email": "a@b.com", "transcript": [{"role": "user", "content": "x" * 20_001}]}, 400),
        ({"email": "a@b.com", "transcript": [{"role": "user", "content": "x" * 19_000}] * 110}, 413),
    ],
    ids=["bad-address", "too-many-turns", "turn-too-long", "2-MB"],
)
def test_transcripts_are_bounded(client, body, status):
    from shared.platform.store import metering

    before = pending_emails()
    response = client.post("/api/leads/transcript-email", json=body)
    assert response.status_code == status, response.text[:200]
    recorded = metering.recorded(response.headers["x-correlation-id"])
    assert recorded is None or recorded[1].calls <= 1  # at most the per-client counter; nothing else
    assert pending_emails() == before


def test_a_recipient_gets_at_most_a_few_emails_a_day_whoever_asks(devhost, settings_env):
    settings_env.setenv("RATE_LIMITS", "prospect_email_recipient=2/86400")
    reset_clients()
    prospect = unique_email()
    statuses = []
    for index in range(4):
        with ContractClient(devhost.asgi) as caller:
            body = {"email": prospect, "transcript": TRANSCRIPT, "scenarioTitle": f"Demo {index}"}
            response = caller.post("/api/leads/transcript-email", json=body)
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
    assert statuses == [200, 200, 429, 429]
    devhost.drain_queues()
    assert len(_sent_to(prospect)) == 2


@pytest.fixture
def smtp_inbox(settings_env: pytest.MonkeyPatch, smtp_server: tuple[Controller, Inbox]) -> Inbox:
    controller, inbox = smtp_server
    settings_env.setenv("EMAIL_PROVIDER", "smtp")
    settings_env.setenv("SMTP_HOST", "127.0.0.1")
    settings_env.setenv("SMTP_PORT", str(controller.port))
    settings_env.setenv("SMTP_STARTTLS", "false")
    reset_clients()
    return inbox


def test_lead_and_prospect_emails_are_delivered_over_smtp(client, devhost, smtp_inbox):
    from email import message_from_bytes, policy

    prospect = unique_email()
    lead = client.post("/api/leads", json=new_lead_body(email=prospect)).json()
    client.post("/api/leads/transcript-email", json={"email": prospect, "transcript": TRANSCRIPT})
    devhost.drain_queues()
    mine = {
        tuple(recipients): message_from_bytes(content, policy=policy.default)
        for _, recipients, content in smtp_inbox.received
        if prospect in recipients or lead["leadId"].encode() in content
    }
    assert set(mine) == {("sales@tellgence.test",), (prospect,)}
    assert mine[("sales@tellgence.test",)]["Reply-To"] == prospect
    assert "file a claim" in mine[(prospect,)].get_body(("plain",)).get_content()


@pytest.fixture
def queue_down(settings_env: pytest.MonkeyPatch) -> Iterator[None]:
    """The storage account's queue endpoint refuses connections (nothing listens there)."""
    connection = get_settings().storage_connection_string
    parts = dict(part.split("=", 1) for part in connection.split(";") if part)
    parts["QueueEndpoint"] = f"http://127.0.0.1:{free_ports(1)[0]}/{parts['AccountName']}"
    settings_env.setenv("AzureWebJobsStorage", ";".join(f"{name}={value}" for name, value in parts.items()))
    reset_clients()
    yield
    settings_env.undo()
    reset_clients()


def test_with_the_queue_down_leads_are_stored_and_their_emails_sent_by_the_timer_later(
    client, devhost, queue_down, settings_env
):
    body = new_lead_body()
    answer = client.post("/api/leads", json=body)
    assert answer.status_code == 202, answer.text
    lead_id = answer.json()["leadId"]
    assert answer.json()["emailDelivered"] is False and answer.json()["success"] is True
    assert stored_lead("default-practice", lead_id)["contact"]["email"] == body["email"]
    summary = client.post("/api/leads/session-summary", json={"email": body["email"], "scenarioTitle": "FNOL"})
    assert summary.status_code == 202 and summary.json()["emailDelivered"] is False
    mid_demo = {"email": unique_email(), "scenario": "insurance-fnol", "source": "mid-demo-capture"}
    mid = client.post("/api/leads/mid-demo", json=mid_demo)
    assert mid.status_code == 202 and mid.json()["emailDelivered"] is False
    assert len(pending_emails(lead_id)) == 1

    devhost.fire_timer("requeue_pending_emails")  # still down: everything waits
    assert len(pending_emails(lead_id)) == 1

    settings_env.undo()
    reset_clients()
    devhost.fire_timer("requeue_pending_emails")
    assert pending_emails(lead_id) == []
    devhost.drain_queues()
    [mail] = outbox_messages(lead_id)
    assert mail["To"] == "sales@tellgence.test"
    assert any("summary" in str(mail["Subject"]) for mail in _sent_to(body["email"]))
