"""Email providers: `outbox` (an .eml blob per message, local dev), `smtp` (stdlib smtplib) and `acs`.

Each sender takes the message and the settings and returns the provider's message id. A failure raises
(the service wraps it without addresses); the queue retries and finally moves the message to `emails-poison`.
SDKs and smtplib are imported on first use.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable
from email import policy
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import TYPE_CHECKING, Any

from shared.email.models import EmailMessage
from shared.platform.errors import ServiceUnavailable
from shared.platform.settings import Settings
from shared.platform.store.blobs import get_container
from shared.platform.store.registry import EMAIL_OUTBOX_CONTAINER

if TYPE_CHECKING:
    from azure.communication.email import EmailClient

logger = logging.getLogger("tellgence.email")

SMTP_TIMEOUT_SECONDS = 10.0
SMTPS_PORT = 465
ACS_SEND_TIMEOUT_SECONDS = 60.0
# The outbox needs no real sender; SMTP and ACS do.
OUTBOX_DEFAULT_SENDER = "Tellgence <no-reply@tellgence.invalid>"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

Sender = Callable[[EmailMessage, Settings], str]


def message_key(message: EmailMessage) -> str:
    """A stable, opaque digest of the idempotency key (the key itself may name sessions or leads)."""
    return hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:32]


def message_id(message: EmailMessage, sender: str) -> str:
    """The RFC 5322 Message-ID: the same for every delivery of one idempotency key."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tellgence.invalid"
    return f"<{message_key(message)}@{domain}>"


def tags_header(tags: dict[str, str]) -> str:
    """`k=v; k2=v2`, sorted by name."""
    return "; ".join(f"{name}={value}" for name, value in sorted(tags.items()))


def build_mime(message: EmailMessage, sender: str) -> MimeMessage:
    """The RFC 5322 message (CRLF line ends): text/plain, or multipart/alternative with an HTML part."""
    mime = MimeMessage(policy=policy.SMTP)
    mime["From"] = sender
    mime["To"] = ", ".join(message.to)
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(message.created)
    mime["Message-ID"] = message_id(message, sender)
    if message.reply_to:
        mime["Reply-To"] = message.reply_to
    if message.correlation_id:
        mime["X-Correlation-Id"] = message.correlation_id
    if message.tags:
        mime["X-Tellgence-Tags"] = tags_header(message.tags)
    mime.set_content(message.text)
    if message.html:
        mime.add_alternative(message.html, subtype="html")
    return mime


def outbox_blob_name(message: EmailMessage) -> str:
    """`<yyyy>/<mm>/<dd>/<sanitised key>-<digest>.eml`, dated by `created_at` so a retry lands on the same blob.

    The digest keeps two keys apart that sanitise alike (`a:b` and `a/b`).
    """
    created = message.created
    readable = _UNSAFE_NAME.sub("_", message.idempotency_key).strip("._")[:120] or "email"
    return f"{created:%Y/%m/%d}/{readable}-{message_key(message)[:12]}.eml"


def send_outbox(message: EmailMessage, settings: Settings) -> str:
    """Write the .eml into the email-outbox container (overwriting: one blob per idempotency key)."""
    from azure.storage.blob import ContentSettings

    name = outbox_blob_name(message)
    data = build_mime(message, settings.email_from or OUTBOX_DEFAULT_SENDER).as_bytes()
    get_container(EMAIL_OUTBOX_CONTAINER).upload_blob(
        name, data, overwrite=True, content_settings=ContentSettings(content_type="message/rfc822")
    )
    return f"{EMAIL_OUTBOX_CONTAINER}/{name}"


def send_smtp(message: EmailMessage, settings: Settings) -> str:
    """Send over SMTP: implicit TLS on port 465, else STARTTLS when SMTP_STARTTLS; login when a username is set."""
    import smtplib
    import ssl

    if not settings.smtp_host:
        raise ServiceUnavailable("SMTP is not configured (SMTP_HOST)", code="email_not_configured")
    sender = _required_sender(settings)
    mime = build_mime(message, sender)
    if settings.smtp_port == SMTPS_PORT:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        connection = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    with connection as smtp:
        smtp.ehlo()
        if settings.smtp_starttls and settings.smtp_port != SMTPS_PORT:
            # A server without STARTTLS fails the delivery: never fall back to plain text silently.
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        refused = smtp.send_message(mime, from_addr=parseaddr(sender)[1], to_addrs=list(message.to))
    if refused:
        # The others were accepted: retrying would send them a second copy.
        logger.warning(
            "email %s: the SMTP server refused %d of %d recipient(s)",
            message.idempotency_key,
            len(refused),
            len(message.to),
        )
    return str(mime["Message-ID"])


_acs_lock = threading.Lock()
_acs_clients: dict[tuple[str, str], EmailClient] = {}


def _acs_client(settings: Settings) -> EmailClient:
    """One EmailClient per configuration: from the connection string, else the endpoint and managed identity."""
    config = (settings.acs_email_connection_string, settings.acs_email_endpoint)
    client = _acs_clients.get(config)
    if client is None:
        with _acs_lock:
            client = _acs_clients.get(config)
            if client is None:
                from azure.communication.email import EmailClient

                options: dict[str, Any] = {"connection_timeout": 5, "read_timeout": 30, "retry_total": 2}
                if settings.acs_email_connection_string:
                    client = EmailClient.from_connection_string(settings.acs_email_connection_string, **options)
                elif settings.acs_email_endpoint:
                    from shared.platform.store.clients import credential

                    client = EmailClient(settings.acs_email_endpoint, credential(), **options)
                else:
                    raise ServiceUnavailable(
                        "ACS email is not configured (ACS_EMAIL_CONNECTION_STRING or ACS_EMAIL_ENDPOINT)",
                        code="email_not_configured",
                    )
                _acs_clients[config] = client
    return client


def acs_payload(message: EmailMessage, sender: str) -> dict[str, Any]:
    """The ACS send request body."""
    content: dict[str, str] = {"subject": message.subject, "plainText": message.text}
    if message.html:
        content["html"] = message.html
    headers = {"X-Tellgence-Message-Key": message_key(message)}
    if message.correlation_id:
        headers["X-Correlation-Id"] = message.correlation_id
    if message.tags:
        headers["X-Tellgence-Tags"] = tags_header(message.tags)
    payload: dict[str, Any] = {
        "senderAddress": parseaddr(sender)[1],
        "recipients": {"to": [{"address": address} for address in message.to]},
        "content": content,
        "headers": headers,
    }
    if message.reply_to:
        payload["replyTo"] = [{"address": message.reply_to}]
    return payload


def send_acs(message: EmailMessage, settings: Settings) -> str:
    """Send with Azure Communication Services and wait (bounded) for the operation to finish."""
    sender = _required_sender(settings)
    poller = _acs_client(settings).begin_send(acs_payload(message, sender))
    poller.wait(timeout=ACS_SEND_TIMEOUT_SECONDS)
    if not poller.done():
        raise TimeoutError(f"the ACS send operation did not finish within {ACS_SEND_TIMEOUT_SECONDS:.0f} s")
    result = poller.result() or {}
    status = str(result.get("status") or "")
    if status.lower() != "succeeded":
        error = result.get("error") or {}
        raise RuntimeError(f"the ACS send operation ended {status or 'without a status'}: {error.get('code', '')}")
    return str(result.get("id") or "")


def _required_sender(settings: Settings) -> str:
    if not parseaddr(settings.email_from)[1]:
        raise ServiceUnavailable("EMAIL_FROM is not configured", code="email_not_configured")
    name, address = parseaddr(settings.email_from)
    return formataddr((name, address)) if name else address


PROVIDERS: dict[str, Sender] = {"outbox": send_outbox, "smtp": send_smtp, "acs": send_acs}


def reset() -> None:
    """Drop the cached ACS clients."""
    with _acs_lock:
        _acs_clients.clear()
