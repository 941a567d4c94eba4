"""The .eml built for the outbox and SMTP, the outbox blob name and the ACS request body."""

from __future__ import annotations

from email import message_from_bytes, policy
from typing import Any

from shared.email.models import EmailMessage
from shared.email.providers import acs_payload, build_mime, message_id, outbox_blob_name

SENDER = "Tellgence Demo <demo@tellgence.test>"


def message(**overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": ["patient@example.com", "carer@example.org"],
        "subject": "Your appointment ✓",
        "text": "See you tomorrow at 9:00.\nReply to reschedule.",
        "idempotency_key": "reminder:s-1:2026-01-02T09:00:00Z",
        "created_at": "2026-01-01T18:30:00.000Z",
    }
    return EmailMessage(**{**fields, **overrides})


def parse(data: bytes) -> Any:
    return message_from_bytes(data, policy=policy.default)


def test_a_text_only_message_is_one_text_plain_part_with_the_headers():
    data = build_mime(message(), SENDER).as_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")  # RFC 5322 line ends
    parsed = parse(data)
    assert parsed["From"] == SENDER
    assert [str(address) for address in parsed["To"].addresses] == ["patient@example.com", "carer@example.org"]
    assert parsed["Subject"] == "Your appointment ✓"
    assert parsed["Date"].datetime.isoformat() == "2026-01-01T18:30:00+00:00"
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content().replace("\r\n", "\n") == "See you tomorrow at 9:00.\nReply to reschedule.\n"
    for absent in ("Reply-To", "X-Correlation-Id", "X-Tellgence-Tags"):
        assert parsed[absent] is None


def test_html_makes_a_multipart_alternative_and_optional_headers_are_set():
    email = message(html="<p>See you <b>tomorrow</b></p>", reply_to="desk@clinic.example", correlation_id="c-1")
    email = email.model_copy(update={"tags": {"kind": "reminder", "batch": "b1"}})
    parsed = parse(build_mime(email, SENDER).as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().startswith("See you tomorrow")
    assert "<b>tomorrow</b>" in parsed.get_body(("html",)).get_content()
    assert parsed["Reply-To"] == "desk@clinic.example"
    assert parsed["X-Correlation-Id"] == "c-1"
    assert parsed["X-Tellgence-Tags"] == "batch=b1; kind=reminder"


def test_the_message_id_is_derived_from_the_idempotency_key_without_revealing_it():
    first, again = message(), message(subject="Other subject", created_at="2026-01-03T00:00:00Z")
    other = message(idempotency_key="reminder:s-2:2026-01-02T09:00:00Z")
    assert message_id(first, SENDER) == message_id(again, SENDER)
    assert message_id(first, SENDER) != message_id(other, SENDER)
    assert message_id(first, SENDER).endswith("@tellgence.test>")
    assert "s-1" not in message_id(first, SENDER)
    assert parse(build_mime(first, SENDER).as_bytes())["Message-ID"] == message_id(first, SENDER)


def test_the_same_message_always_builds_the_same_bytes():
    assert build_mime(message(), SENDER).as_bytes() == build_mime(message(), SENDER).as_bytes()


def test_outbox_blob_names_are_dated_by_creation_sanitised_and_distinct():
    name = outbox_blob_name(message())
    assert name.startswith("2026/01/01/reminder_s-1_2026-01-02T09_00_00Z-") and name.endswith(".eml")
    assert outbox_blob_name(message(subject="retry")) == name
    colon = outbox_blob_name(message(idempotency_key="a:b"))
    slash = outbox_blob_name(message(idempotency_key="a/b"))
    assert colon != slash and "/" not in colon.removeprefix("2026/01/01/")
    hostile = outbox_blob_name(message(idempotency_key="../../etc/passwd"))
    assert ".." not in hostile and hostile.count("/") == 3
    assert outbox_blob_name(message(idempotency_key="é")).startswith("2026/01/01/email-")


def test_the_acs_request_body_carries_content_recipients_and_headers():
    email = message(html="<p>x</p>", reply_to="desk@clinic.example", correlation_id="c-1")
    payload = acs_payload(email, SENDER)
    assert payload["senderAddress"] == "demo@tellgence.test"
    assert payload["recipients"] == {"to": [{"address": "patient@example.com"}, {"address": "carer@example.org"}]}
    assert payload["content"] == {"subject": email.subject, "plainText": email.text, "html": "<p>x</p>"}
    assert payload["replyTo"] == [{"address": "desk@clinic.example"}]
    assert payload["headers"]["X-Correlation-Id"] == "c-1"
    assert payload["headers"]["X-Tellgence-Message-Key"] in message_id(email, SENDER)
