"""A loopback SMTP server for email tests: aiosmtpd on a free port, keeping every accepted message."""

from __future__ import annotations

from typing import Any


class Inbox:
    """An aiosmtpd handler keeping every accepted message."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"
