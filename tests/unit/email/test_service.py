"""deliver() without emulators: configuration errors, provider failures without addresses, ACS with a fake client."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest

from shared.email import providers, service
from shared.email.models import EmailMessage
from shared.platform.errors import ServiceUnavailable, ValidationFailed
from tests.conftest import ROOT, reset_clients


def message(**overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": ["secret.person@example.com"],
        "subject": "Hello",
        "text": "Confidential body",
        "idempotency_key": "unit:1",
    }
    return EmailMessage(**{**fields, **overrides})


def configure(settings_env: pytest.MonkeyPatch, **values: str) -> None:
    for name in ("EMAIL_PROVIDER", "EMAIL_FROM", "SMTP_HOST", "ACS_EMAIL_CONNECTION_STRING", "ACS_EMAIL_ENDPOINT"):
        settings_env.delenv(name, raising=False)
    for name, value in values.items():
        settings_env.setenv(name, value)
    reset_clients()


def test_deliver_without_a_provider_is_email_not_configured(settings_env: pytest.MonkeyPatch):
    configure(settings_env)
    with pytest.raises(ServiceUnavailable) as error:
        service.deliver(message())
    assert error.value.code == "email_not_configured"
    assert error.value.message == "Email is not configured"


def test_an_unknown_provider_is_email_not_configured(settings_env: pytest.MonkeyPatch):
    configure(settings_env, EMAIL_PROVIDER="carrier-pigeon")
    with pytest.raises(ServiceUnavailable) as error:
        service.deliver(message())
    assert error.value.code == "email_not_configured"


@pytest.mark.parametrize(
    ("provider", "values"),
    [("smtp", {"EMAIL_FROM": "a@tellgence.test"}), ("smtp", {"SMTP_HOST": "127.0.0.1"}), ("acs", {})],
)
def test_a_provider_missing_its_settings_is_email_not_configured(
    settings_env: pytest.MonkeyPatch, provider: str, values: dict[str, str]
):
    configure(settings_env, EMAIL_PROVIDER=provider, **values)
    with pytest.raises(ServiceUnavailable) as error:
        service.deliver(message())
    assert error.value.code == "email_not_configured"


def test_a_provider_failure_is_reraised_without_addresses_or_body(
    settings_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    configure(settings_env, EMAIL_PROVIDER="smtp")

    def refuse(email: EmailMessage, settings: object) -> str:
        raise RuntimeError(f"{{'{email.to[0]}': (550, b'5.1.1 <{email.to[0]}>: unknown user')}}")

    monkeypatch.setitem(providers.PROVIDERS, "smtp", refuse)
    caplog.set_level(logging.INFO, logger="tellgence.email")
    with pytest.raises(service.EmailDeliveryFailed) as error:
        service.deliver(message())
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert "secret.person" not in str(error.value)
    assert "s***@example.com" in str(error.value)
    assert "unit:1" in caplog.text and "smtp" in caplog.text
    assert "secret.person" not in caplog.text and "Confidential body" not in caplog.text


def test_a_successful_delivery_logs_key_provider_and_masked_recipients(
    settings_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    configure(settings_env, EMAIL_PROVIDER="outbox")
    monkeypatch.setitem(providers.PROVIDERS, "outbox", lambda email, settings: "outbox-id")
    caplog.set_level(logging.INFO, logger="tellgence.email")
    assert service.deliver(message()) == "outbox-id"
    assert "sent email unit:1 via outbox to s***@example.com" in caplog.text
    assert "secret.person" not in caplog.text and "Confidential body" not in caplog.text


def test_parse_queued_names_the_bad_fields_never_their_values(caplog: pytest.LogCaptureFixture):
    payload = {"to": ["secret.person@@example.com"], "subject": "a\r\nBcc: x@example.com", "idempotency_key": "k"}
    with pytest.raises(service.InvalidEmailMessage) as error:
        service.parse_queued(json.dumps(payload).encode())
    assert str(error.value) == "The queued email is not valid: subject, text, to"
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert "queued email k is not valid (subject, text, to)" in caplog.text
    assert "secret.person" not in caplog.text
    for body in (b"not json", b"\xff\xfe", b"[1, 2]", b""):
        with pytest.raises(service.InvalidEmailMessage):
            service.parse_queued(body)
    sample = message()  # one instance: created_at is stamped at construction
    assert service.parse_queued(sample.model_dump_json()) == sample


def test_enqueue_refuses_a_message_too_large_for_a_queue_message():
    with pytest.raises(ValidationFailed) as error:
        service.enqueue_email(message(text="x" * (service.MAX_QUEUED_BYTES + 1)))
    assert error.value.code == "email_too_large"


class FakePoller:
    def __init__(self, result: dict[str, Any] | None, *, finishes: bool = True) -> None:
        self._result, self._finishes = result, finishes
        self.waited: float | None = None

    def wait(self, timeout: float | None = None) -> None:
        self.waited = timeout

    def done(self) -> bool:
        return self._finishes

    def result(self) -> dict[str, Any] | None:
        return self._result


class FakeAcsClient:
    def __init__(self, poller: FakePoller) -> None:
        self.poller = poller
        self.sent: list[dict[str, Any]] = []

    def begin_send(self, payload: dict[str, Any]) -> FakePoller:
        self.sent.append(payload)
        return self.poller


def use_acs(settings_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch, poller: FakePoller) -> FakeAcsClient:
    configure(
        settings_env,
        EMAIL_PROVIDER="acs",
        EMAIL_FROM="Tellgence <DoNotReply@tellgence.test>",
        ACS_EMAIL_CONNECTION_STRING="endpoint=https://acs.example.com/;accesskey=a2V5",
    )
    client = FakeAcsClient(poller)
    monkeypatch.setattr(providers, "_acs_client", lambda settings: client)
    return client


def test_acs_sends_and_returns_the_operation_id(settings_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch):
    client = use_acs(settings_env, monkeypatch, FakePoller({"id": "op-1", "status": "Succeeded"}))
    assert service.deliver(message()) == "op-1"
    assert client.sent[0]["senderAddress"] == "DoNotReply@tellgence.test"
    assert client.poller.waited == providers.ACS_SEND_TIMEOUT_SECONDS


@pytest.mark.parametrize(
    "poller",
    [
        FakePoller(None, finishes=False),
        FakePoller({"id": "op-2", "status": "Failed", "error": {"code": "EmailDroppedAllRecipientsSuppressed"}}),
    ],
)
def test_an_unfinished_or_failed_acs_operation_fails_the_delivery(
    settings_env: pytest.MonkeyPatch, monkeypatch: pytest.MonkeyPatch, poller: FakePoller
):
    use_acs(settings_env, monkeypatch, poller)
    with pytest.raises(service.EmailDeliveryFailed):
        service.deliver(message())


def test_the_acs_client_is_built_from_the_connection_string_once(settings_env: pytest.MonkeyPatch):
    pytest.importorskip("azure.communication.email")
    configure(settings_env, ACS_EMAIL_CONNECTION_STRING="endpoint=https://acs.example.com/;accesskey=a2V5")
    from shared.platform.settings import get_settings

    providers.reset()
    first = providers._acs_client(get_settings())
    assert providers._acs_client(get_settings()) is first
    providers.reset()


def test_the_job_module_keeps_pydantic_smtplib_and_sdks_out_of_the_cold_start():
    script = (
        "import sys, blueprints.jobs.emails; "
        "print([m for m in ('pydantic', 'smtplib', 'azure.storage.blob', 'azure.storage.queue', "
        "'azure.communication.email', 'shared.email.service') if m in sys.modules])"
    )
    output = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "[]"
