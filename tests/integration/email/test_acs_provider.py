"""The ACS provider through the real azure-communication-email SDK, against a local HTTPS fake of the Email API."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from shared.email import providers, service
from shared.email.models import EmailMessage
from shared.platform.settings import Settings

pytest.importorskip("azure.communication.email")

OPERATION = "op-7f3c"


def self_signed_context(directory: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


@pytest.fixture(scope="module")
def acs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", ssl_context=self_signed_context(tmp_path_factory.mktemp("acs")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def acs_api(acs_server: HTTPServer) -> Iterator[HTTPServer]:
    yield acs_server
    acs_server.clear()


def use_sdk_client(acs_api: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for ACS, with the SDK client pointed at the fake (the fake's certificate is not trusted)."""
    from azure.communication.email import EmailClient

    connection_string = f"endpoint={acs_api.url_for('/')};accesskey=dGVzdC1rZXk="
    client = EmailClient.from_connection_string(connection_string, connection_verify=False, retry_total=0)
    monkeypatch.setattr(providers, "_acs_client", lambda settings: client)
    return Settings(
        email_provider="acs",
        email_from="Tellgence <DoNotReply@tellgence.test>",
        acs_email_connection_string=connection_string,
    )


def accept_send(acs_api: HTTPServer, sent: list[dict[str, Any]]) -> None:
    def handler(request: Request) -> Response:
        sent.append({"body": json.loads(request.get_data()), "headers": dict(request.headers)})
        location = acs_api.url_for(f"/emails/operations/{OPERATION}") + "?api-version=2025-09-01"
        return Response(
            json.dumps({"id": OPERATION, "status": "Running"}),
            status=202,
            headers={"Operation-Location": location, "Retry-After": "0"},
            content_type="application/json",
        )

    acs_api.expect_request("/emails:send", method="POST").respond_with_handler(handler)


def message() -> EmailMessage:
    return EmailMessage(
        to=["patient@example.com"],
        subject="Your appointment",
        text="See you at 9:00.",
        html="<p>See you at 9:00.</p>",
        reply_to="desk@clinic.example",
        idempotency_key="reminder:s-1:2026-01-02T09:00:00Z",
    )


def test_acs_sends_the_request_and_waits_for_the_operation(acs_api: HTTPServer, monkeypatch: pytest.MonkeyPatch):
    settings = use_sdk_client(acs_api, monkeypatch)
    sent: list[dict[str, Any]] = []
    accept_send(acs_api, sent)
    acs_api.expect_request(f"/emails/operations/{OPERATION}").respond_with_json(
        {"id": OPERATION, "status": "Succeeded"}
    )

    assert providers.send_acs(message(), settings) == OPERATION
    assert len(sent) == 1
    body = sent[0]["body"]
    assert body["senderAddress"] == "DoNotReply@tellgence.test"
    assert body["recipients"] == {"to": [{"address": "patient@example.com"}]}
    assert body["content"]["subject"] == "Your appointment" and body["content"]["html"] == "<p>See you at 9:00.</p>"
    assert body["replyTo"] == [{"address": "desk@clinic.example"}]
    assert sent[0]["headers"]["Authorization"].startswith("HMAC-SHA256")


def test_a_failed_acs_operation_fails_the_delivery(acs_api: HTTPServer, monkeypatch: pytest.MonkeyPatch):
    settings = use_sdk_client(acs_api, monkeypatch)
    accept_send(acs_api, [])
    acs_api.expect_request(f"/emails/operations/{OPERATION}").respond_with_json(
        {"id": OPERATION, "status": "Failed", "error": {"code": "EmailDroppedAllRecipientsSuppressed", "message": "x"}}
    )
    monkeypatch.setattr(service, "get_settings", lambda: settings)
    with pytest.raises(service.EmailDeliveryFailed) as error:
        service.deliver(message())
    assert "EmailDroppedAllRecipientsSuppressed" in str(error.value)


def test_an_acs_rejection_fails_the_delivery_without_addresses(acs_api: HTTPServer, monkeypatch: pytest.MonkeyPatch):
    settings = use_sdk_client(acs_api, monkeypatch)
    acs_api.expect_request("/emails:send", method="POST").respond_with_json(
        {"error": {"code": "InvalidRecipient", "message": "patient@example.com is not a valid recipient"}}, status=400
    )
    monkeypatch.setattr(service, "get_settings", lambda: settings)
    with pytest.raises(service.EmailDeliveryFailed) as error:
        service.deliver(message())
    assert "patient@" not in str(error.value) and "p***@example.com" in str(error.value)
