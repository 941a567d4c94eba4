"""Logging set up once per process, with secrets scrubbed from every record."""

from __future__ import annotations

import logging

from shared.platform.settings import get_settings

_configured = False


class SecretScrubber(logging.Filter):
    """Replaces any configured secret value that reaches a log message with ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = get_settings().secret_values()
        if secrets:
            message = record.getMessage()
            scrubbed = message
            for secret in secrets:
                scrubbed = scrubbed.replace(secret, "***")
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        return True


def configure_logging() -> None:
    """Attach the scrubber to the app's loggers; the Functions worker owns handlers and levels."""
    global _configured
    if _configured:
        return
    for name in ("tellgence", "azure"):
        logging.getLogger(name).addFilter(SecretScrubber())
    logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)
    _configured = True
