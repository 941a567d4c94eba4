"""Lead email templates: hostile input escaped and bounded, single-line subjects, transcript caps, queue fit."""

from __future__ import annotations

import email
import json
from email import policy
from html.parser import HTMLParser

import pytest

from shared.email.providers import build_mime
from shared.email.service import MAX_QUEUED_BYTES, serialize
from shared.leads import documents, emails, merge, scoring
from shared.platform.errors import ServiceUnavailable, ValidationFailed
from shared.platform.settings import Settings
from tests.unit.leads.support import NOW, contact_body, lead_body

SCRIPT = "<script>alert('x')</script>"
IMG = '"><img src=x onerror=alert(1)>'
CRLF = "Jane\r\nBcc: victim@example.com\r\nX-Injected: 1"
HOSTILE = f"{SCRIPT}{IMG}&amp;{CRLF}"
ALLOWED_TAGS = {"html", "head", "meta", "title", "body", "h1", "h2", "p", "table", "tr", "th", "td", "br", "hr"} | {
    "strong",
    "em",
}
ALLOWED_ATTRIBUTES = {"lang", "charset", "name", "content", "style"}


class Inspector(HTMLParser):
    """Collects the tags, attributes and text of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += attrs

    def handle_data(self, data):
        self.text.append(data)


def inspect(page: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(page)
    inspector.close()
    return inspector


def assert_safe_html(page: str, *hostile_fragments: str) -> str:
    """The page has only our tags and attributes (no attribute value from a client); returns its visible text."""
    inspector = inspect(page)
    assert inspector.tags <= ALLOWED_TAGS, inspector.tags - ALLOWED_TAGS
    assert {name for name, _ in inspector.attributes} <= ALLOWED_ATTRIBUTES
    for name, value in inspector.attributes:
        for fragment in hostile_fragments:
            assert fragment not in (value or ""), (name, value)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    return "".join(inspector.text)


def hostile_lead(**extra):
    body = lead_body(
        name=HOSTILE,
        company=HOSTILE,
        role=HOSTILE,
        phone=HOSTILE,
        source=HOSTILE,
        sourcePath=HOSTILE,
        referrer="javascript:alert(1)",
        utmSource=HOSTILE,
        utmCampaign=HOSTILE,
        scenarioId=HOSTILE,
        scenarioTitle=HOSTILE,
        toolsInvoked=[HOSTILE],
        timelineEvents=[{"title": HOSTILE, "description": HOSTILE, "timestamp": HOSTILE}],
        **extra,
    )
    lead = documents.new_lead(documents.to_submission("lead", body), lead_id="LEAD-23456789", tenant_id="t", now=NOW)
    contact = documents.to_submission("contact", contact_body(message=f"{SCRIPT}\n{CRLF}", currentSystem=HOSTILE))
    return scoring.scored(merge.merge_submission(lead, contact, now=NOW))


def queued_size(message) -> int:
    return len(serialize(message).encode("utf-8"))


def test_the_sales_notification_escapes_every_client_string():
    lead = hostile_lead()
    message = emails.sales_notification(lead, to=["sales@tellgence.local"], correlation_id="c-1")
    text = assert_safe_html(message.html, "alert", "javascript", "onerror")
    # The hostile text is shown as text (one line per field), not interpreted.
    assert SCRIPT in text and "onerror=alert(1)" in text and "javascript:alert(1)" in text
    assert "&amp;" in text, "an already escaped entity is escaped again, not trusted"
    assert message.to == ["sales@tellgence.local"] and message.reply_to == "jane@acme.com"
    assert message.tags == {"kind": "lead-notification", "lead": "LEAD-23456789"}
    assert message.idempotency_key == "lead-notification:LEAD-23456789:2"
    assert "Returning" in message.subject and "(submission 2)" in message.subject
    assert "Bcc: victim@example.com" in message.text  # visible in the body, harmless there
    assert "\r" not in message.text.replace("\r\n", "")


def test_subjects_are_one_bounded_line_and_the_mime_message_gains_no_headers():
    lead = hostile_lead()
    lead["contact"]["name"] = CRLF + "x" * 500
    message = emails.sales_notification(lead, to=["sales@tellgence.local"])
    assert "\r" not in message.subject and "\n" not in message.subject
    assert len(message.subject) <= 200
    parsed = email.message_from_bytes(
        build_mime(message, "Desk <desk@tellgence.local>").as_bytes(), policy=policy.default
    )
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert parsed["Subject"] == message.subject
    assert parsed.get_all("Subject") == [message.subject]


def test_the_notification_of_a_session_scored_lead_and_an_empty_one():
    session = {"id": "s-9", "results": {"leadScore": {"score": 81, "tier": "hot", "breakdown": {}}}}
    lead = scoring.scored(
        documents.new_lead(
            documents.to_submission("lead", lead_body()), lead_id="LEAD-23456789", tenant_id="t", now=NOW
        ),
        session=session,
    )
    message = emails.sales_notification(lead, to=["a@tellgence.local", "b@tellgence.local"])
    assert message.subject.startswith("[Tellgence] New hot lead: Jane Smith (Acme Corp)")
    assert "Score: 81 / 100" in message.text and "Tier: Hot lead" in message.text
    assert "the finalized demo session" in message.text

    bare = scoring.scored(
        documents.new_lead(
            documents.to_submission("mid_demo", {"email": "x@acme.com", "scenario": "s"}),
            lead_id="LEAD-33333333",
            tenant_id="t",
            now=NOW,
        )
    )
    message = emails.sales_notification(bare, to=["sales@tellgence.local"])
    assert "x@acme.com" in message.subject and "Name:" not in message.text
    assert_safe_html(message.html)


@pytest.mark.parametrize("recipients", [[], ["not an address"], [None], ["sales@tellgence.local", "a@b"]])
def test_bad_notification_recipients_are_a_configuration_error(recipients):
    lead = hostile_lead()
    with pytest.raises(ServiceUnavailable) as error:
        emails.sales_notification(lead, to=recipients)
    assert error.value.code == "email_not_configured"


def test_the_platform_recipient_comes_from_settings():
    assert emails.platform_sales_recipient(Settings()) is None
    assert (
        emails.platform_sales_recipient(Settings(leads_notify_email="Team@Tellgence.LOCAL")) == "Team@tellgence.local"
    )
    with pytest.raises(ServiceUnavailable) as error:
        emails.platform_sales_recipient(Settings(leads_notify_email="sales at tellgence"))
    assert "LEADS_NOTIFY_EMAIL" in error.value.message
    assert (
        Settings.from_env({"LEADS_NOTIFY_EMAIL": " sales@tellgence.local "}).leads_notify_email
        == "sales@tellgence.local"
    )


def test_a_huge_non_ascii_notification_still_fits_one_queue_message():
    lead = hostile_lead()
    wide = "営業" * 3000
    for block, names in (("contact", ("name", "company", "role")), ("interest", ("currentSystem", "primaryInterest"))):
        for name in names:
            lead[block][name] = wide[:500]
    lead["interest"]["message"] = wide[:5000]
    lead["timeline"] = [{"title": wide[:200], "description": wide[:500], "timestamp": "t"}] * 20
    message = emails.sales_notification(lead, to=["sales@tellgence.local"])
    assert queued_size(message) <= MAX_QUEUED_BYTES
    assert "営業" in message.text


def summary_body(**overrides):
    body = {
        "email": "jane@acme.com",
        "scenarioTitle": "Insurance FNOL",
        "scenarioSlug": "insurance-fnol",
        "toolsExecuted": 5,
        "systemsUpdated": 3,
        "timeSaved": 12.5,
        "sessionDuration": 245_000,
        "transcript": [
            {"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": "I had an accident."},
            {"role": "system", "content": "internal instructions"},
        ],
    }
    return {**body, **overrides}


def test_the_session_summary_shows_metrics_and_the_transcript():
    message = emails.session_summary("jane@acme.com", summary_body())
    assert message.to == ["jane@acme.com"] and message.subject == "Your Tellgence demo summary: Insurance FNOL"
    for line in (
        "Session length: 4 min 05 s",
        "Tools executed: 5",
        "Systems updated: 3",
        "Estimated time saved: 12.5 minutes",
        "Agent: Hello, how can I help?",
        "You: I had an accident.",
    ):
        assert line in message.text
    assert "internal instructions" not in message.text and "internal instructions" not in message.html
    assert "truncated" not in message.text
    assert_safe_html(message.html)


def test_metrics_out_of_range_are_left_out():
    body = summary_body(toolsExecuted=-1, systemsUpdated=float("inf"), timeSaved=True, sessionDuration=10**12)
    message = emails.session_summary("jane@acme.com", body)
    for label in ("Tools executed", "Systems updated", "Estimated time saved", "Session length"):
        assert label not in message.text


def test_prospect_emails_escape_hostile_transcripts_and_titles():
    transcript = [{"role": HOSTILE, "content": HOSTILE}, {"role": "user", "content": IMG}]
    for message in (
        emails.session_summary("jane@acme.com", summary_body(scenarioTitle=HOSTILE, transcript=transcript)),
        emails.transcript_email("jane@acme.com", transcript, scenario_title=HOSTILE),
    ):
        text = assert_safe_html(message.html, "alert", "onerror")
        assert SCRIPT in text
        assert "\r" not in message.subject and "\n" not in message.subject and len(message.subject) <= 200


@pytest.mark.parametrize("address", ["", "jane", "jane@acme.com\r\nBcc: x@evil.com", None, "a@b"])
def test_prospect_emails_need_a_valid_address(address):
    with pytest.raises(ValidationFailed) as error:
        emails.transcript_email(address, [])
    assert error.value.message.startswith("email")
    with pytest.raises(ValidationFailed):
        emails.session_summary(address, summary_body())


def test_the_transcript_is_capped_by_turns_with_a_note():
    transcript = [{"role": "user" if i % 2 else "assistant", "content": f"turn {i}"} for i in range(1000)]
    message = emails.transcript_email("jane@acme.com", transcript)
    assert "turn 199" in message.text and "turn 200" not in message.text
    note = "Transcript truncated: 200 of 1000 turns shown"
    assert note in message.text and note in message.html


def test_the_transcript_is_capped_by_characters():
    transcript = [{"role": "user", "content": "y" * 50_000}, {"role": "assistant", "content": "z" * 50_000}] * 5
    bounded = emails.bound_transcript(transcript)
    assert sum(len(text) for _, text in bounded.turns) <= emails.MAX_TRANSCRIPT_CHARS
    assert all(len(text) <= emails.MAX_TURN_CHARS for _, text in bounded.turns)
    assert bounded.truncated and bounded.total_turns == 10 and bounded.turns[0][1].endswith("…")
    message = emails.transcript_email("jane@acme.com", transcript)
    assert "Transcript truncated" in message.text and queued_size(message) <= MAX_QUEUED_BYTES


def test_a_non_ascii_transcript_is_shortened_until_it_fits_the_queue():
    transcript = [{"role": "user", "content": "مرحبا بكم " * 300} for _ in range(100)]
    message = emails.session_summary("jane@acme.com", summary_body(transcript=transcript))
    assert queued_size(message) <= MAX_QUEUED_BYTES
    assert "Transcript truncated" in message.text and "مرحبا" in message.text


def test_malformed_transcripts_are_tolerated():
    for transcript in (None, "text", [None, 1, "x", {"role": "user"}, {"content": "orphan"}], {"role": "user"}):
        message = emails.transcript_email("jane@acme.com", transcript)
        assert "Transcript" in message.text
    assert "Speaker: orphan" in emails.transcript_email("jane@acme.com", [{"content": "orphan"}]).text


def test_speakers():
    assert emails.speaker("user") == emails.speaker("Caller") == "You"
    assert emails.speaker("assistant") == emails.speaker("agent") == "Agent"
    assert emails.speaker("system") is None and emails.speaker("developer") is None
    assert emails.speaker("tool") == "Tool" and emails.speaker(None) == "Speaker"
    assert emails.speaker("x" * 100) == "X" + "x" * 31


def test_prospect_email_keys_are_stable_per_content_and_recipient():
    first = emails.session_summary("jane@acme.com", summary_body())
    again = emails.session_summary("Jane@ACME.com", summary_body())
    other = emails.session_summary("jane@acme.com", summary_body(timeSaved=13))
    assert first.idempotency_key == again.idempotency_key
    assert first.idempotency_key != other.idempotency_key
    assert first.idempotency_key.startswith("session-summary:")
    transcript = summary_body()["transcript"]
    assert (
        emails.transcript_email("jane@acme.com", transcript).idempotency_key
        != emails.transcript_email("jane@acme.com", transcript, scenario_title="Other").idempotency_key
    )


def test_every_message_is_queueable_json():
    message = emails.sales_notification(hostile_lead(), to=["sales@tellgence.local"])
    payload = json.loads(serialize(message))
    assert payload["html"].startswith("<!DOCTYPE html>") and payload["text"]
