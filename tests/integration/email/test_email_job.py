"""The emails job end to end on Azurite: enqueue → send_email → outbox blob / SMTP server / emails-poison."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import azure.functions as func
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from azure.storage.queue import QueueClient, TextBase64DecodePolicy

from blueprints.jobs import emails
from devhost.emulators import free_ports
from devhost.host import DevHost
from shared.email import service
from shared.email.models import EmailMessage
from shared.email.providers import message_id, outbox_blob_name
from shared.platform.settings import get_settings
from shared.platform.store.blobs import get_container
from shared.platform.store.registry import EMAIL_OUTBOX_CONTAINER, EMAILS_QUEUE
from tests.conftest import reset_clients
from tests.support.smtp import Inbox

SENDER = "Tellgence Test <noreply@tellgence.test>"
MAX_ATTEMPTS = 3
FAILED_INVOCATION = "function send_email failed on message"


def storage_queue(name: str) -> QueueClient:
    return QueueClient.from_connection_string(
        get_settings().storage_connection_string, name, message_decode_policy=TextBase64DecodePolicy()
    )


def queued(name: str) -> list[str]:
    return [message.content for message in storage_queue(name).peek_messages(max_messages=32)]


def message(**overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": ["patient@example.com"],
        "subject": "Your appointment tomorrow",
        "text": "See you at 9:00.",
        "html": "<p>See you at <b>9:00</b>.</p>",
        "reply_to": "desk@clinic.example",
        "correlation_id": "corr-1",
        "tags": {"kind": "reminder"},
        "idempotency_key": f"reminder:{uuid.uuid4().hex}:2026-01-02T09:00:00Z",
    }
    return EmailMessage(**{**fields, **overrides})


def configure(settings_env: pytest.MonkeyPatch, **values: str) -> None:
    for name in ("EMAIL_PROVIDER", "EMAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD"):
        settings_env.delenv(name, raising=False)
    for name, value in values.items():
        settings_env.setenv(name, value)
    reset_clients()


def configure_smtp(settings_env: pytest.MonkeyPatch, port: int, starttls: str = "false", **values: str) -> None:
    """The SMTP provider, sending as SENDER to a server on loopback at `port`."""
    configure(
        settings_env,
        EMAIL_PROVIDER="smtp",
        EMAIL_FROM=SENDER,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(port),
        SMTP_STARTTLS=starttls,
        **values,
    )


@pytest.fixture(scope="module")
def jobs_host(emulators: object) -> Iterator[DevHost]:
    """A host over an app with only the jobs blueprint; retries without delay, three attempts."""
    app = func.FunctionApp()
    app.register_functions(emails.bp)
    host = DevHost(app, host_overrides={"visibilityTimeout": "00:00:00", "maxDequeueCount": MAX_ATTEMPTS})
    yield host
    host.stop()


@pytest.fixture(autouse=True)
def empty_queues(emulators: object) -> None:
    for name in (EMAILS_QUEUE, EMAILS_QUEUE + "-poison"):
        storage_queue(name).clear_messages()


def test_the_outbox_provider_writes_the_message_as_an_eml_blob(jobs_host: DevHost, settings_env: pytest.MonkeyPatch):
    configure(settings_env, EMAIL_PROVIDER="outbox", EMAIL_FROM=SENDER)
    email = message()
    assert service.enqueue_email(email)
    assert jobs_host.drain_queues(timeout=20) == 1

    blob = get_container(EMAIL_OUTBOX_CONTAINER).get_blob_client(outbox_blob_name(email))
    assert blob.get_blob_properties().content_settings.content_type == "message/rfc822"
    parsed = message_from_bytes(blob.download_blob().readall(), policy=policy.default)
    assert parsed["Subject"] == "Your appointment tomorrow"
    assert parsed["To"] == "patient@example.com"
    assert parsed["From"] == SENDER
    assert parsed["Message-ID"] == message_id(email, SENDER)
    assert parsed.get_body(("plain",)).get_content().strip() == "See you at 9:00."
    assert "<b>9:00</b>" in parsed.get_body(("html",)).get_content()
    assert queued(EMAILS_QUEUE + "-poison") == []


def test_the_same_idempotency_key_twice_leaves_one_outbox_blob(jobs_host: DevHost, settings_env: pytest.MonkeyPatch):
    configure(settings_env, EMAIL_PROVIDER="outbox", EMAIL_FROM=SENDER)
    first = message()
    again = message(idempotency_key=first.idempotency_key, created_at=first.created_at)
    service.enqueue_email(first)
    service.enqueue_email(again)
    assert jobs_host.drain_queues(timeout=20) == 2

    folder = outbox_blob_name(first).rpartition("/")[0] + "/"
    unique_part = first.idempotency_key.split(":")[1]
    blobs = get_container(EMAIL_OUTBOX_CONTAINER).list_blobs(name_starts_with=folder)
    names = [blob.name for blob in blobs if unique_part in blob.name]
    assert names == [outbox_blob_name(first)]


def test_the_smtp_provider_delivers_to_the_server_with_the_right_headers(
    jobs_host: DevHost, settings_env: pytest.MonkeyPatch, smtp_server: tuple[Controller, Inbox]
):
    controller, inbox = smtp_server
    configure_smtp(settings_env, controller.port)
    email = message(to=["patient@example.com", "carer@example.org"])
    service.enqueue_email(email)
    assert jobs_host.drain_queues(timeout=20) == 1

    assert len(inbox.received) == 1
    mail_from, recipients, content = inbox.received[0]
    assert mail_from == "noreply@tellgence.test"
    assert recipients == ["patient@example.com", "carer@example.org"]
    parsed = message_from_bytes(content, policy=policy.default)
    assert parsed["From"] == SENDER
    assert parsed["To"] == "patient@example.com, carer@example.org"
    assert parsed["Subject"] == "Your appointment tomorrow"
    assert parsed["Reply-To"] == "desk@clinic.example"
    assert parsed["X-Correlation-Id"] == "corr-1"
    assert parsed["X-Tellgence-Tags"] == "kind=reminder"
    assert parsed["Message-ID"] == message_id(email, SENDER)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "See you at 9:00."


def test_smtp_logs_in_when_a_username_is_set(settings_env: pytest.MonkeyPatch):
    logins: list[tuple[str, bytes]] = []

    def authenticator(server: object, session: object, envelope: object, mechanism: str, auth_data: Any) -> Any:
        logins.append((auth_data.login.decode(), auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_ports(1)[0], authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        configure_smtp(settings_env, controller.port, SMTP_USERNAME="mailer", SMTP_PASSWORD="s3cret")
        assert service.deliver(message()).startswith("<")
        assert logins == [("mailer", b"s3cret")]
        assert len(inbox.received) == 1

        settings_env.setenv("SMTP_PASSWORD", "wrong")
        reset_clients()
        with pytest.raises(service.EmailDeliveryFailed, match="SMTPAuthenticationError"):
            service.deliver(message())
        assert len(inbox.received) == 1
    finally:
        controller.stop()


def test_smtp_never_falls_back_to_plain_text_when_starttls_is_required(
    settings_env: pytest.MonkeyPatch, smtp_server: tuple[Controller, Inbox]
):
    controller, inbox = smtp_server
    configure_smtp(settings_env, controller.port, starttls="true")
    with pytest.raises(service.EmailDeliveryFailed, match="SMTPNotSupportedError"):
        service.deliver(message())
    assert inbox.received == []


def assert_poisoned_after_every_attempt(
    jobs_host: DevHost, caplog: pytest.LogCaptureFixture, original: str, attempts: int = MAX_ATTEMPTS
) -> None:
    caplog.set_level(logging.INFO)
    assert jobs_host.drain_queues(timeout=20) == attempts
    assert queued(EMAILS_QUEUE) == []
    assert queued(EMAILS_QUEUE + "-poison") == [original]
    failures = [record for record in caplog.records if record.getMessage().startswith(FAILED_INVOCATION)]
    assert len(failures) == attempts
    assert not [record for record in caplog.records if record.getMessage().startswith("sent email")]


def test_an_smtp_server_that_is_down_sends_the_message_to_poison_after_three_attempts(
    jobs_host: DevHost, settings_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    configure_smtp(settings_env, free_ports(1)[0])  # nothing listens there
    email = message(to=["secret.person@example.com"])
    service.enqueue_email(email)
    assert_poisoned_after_every_attempt(jobs_host, caplog, service.serialize(email))
    assert "secret.person" not in caplog.text
    assert email.idempotency_key in caplog.text


def test_without_an_email_provider_the_message_ends_in_poison(
    jobs_host: DevHost, settings_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    configure(settings_env)
    email = message()
    service.enqueue_email(email)
    assert_poisoned_after_every_attempt(jobs_host, caplog, service.serialize(email))
    assert "Email is not configured" in caplog.text


@pytest.mark.parametrize(
    "payload",
    [
        '{"to":["secret.person@@example.com"],"subject":"Hi","text":"x","idempotency_key":"bad:1"}',
        '{"to":["a@example.com"],"subject":"Hi\\r\\nBcc: x@example.com","text":"x","idempotency_key":"bad:2"}',
        "not json at all",
    ],
)
def test_an_invalid_payload_goes_to_poison_unchanged_without_retries(
    jobs_host: DevHost, settings_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, payload: str
):
    configure(settings_env, EMAIL_PROVIDER="outbox", EMAIL_FROM=SENDER)
    from shared.platform.store.queues import get_queue

    caplog.set_level(logging.INFO)
    get_queue(EMAILS_QUEUE).send_message(payload)
    # A message that can never be sent is not retried five times: the job adapter poisons it at once.
    assert jobs_host.drain_queues(timeout=20) == 1
    assert queued(EMAILS_QUEUE) == []
    assert queued(EMAILS_QUEUE + "-poison") == [payload]
    assert any("poisoned a message" in record.getMessage() for record in caplog.records)
    assert not [record for record in caplog.records if record.getMessage().startswith("sent email")]
    assert "secret.person" not in caplog.text
