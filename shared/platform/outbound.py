"""Outbound HTTP: one httpx client per process, explicit timeouts, and the SSRF guard."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import threading
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from shared.platform.errors import BadRequest
from shared.platform.settings import get_settings

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0

_lock = threading.Lock()
_client: httpx.Client | None = None


def http_client() -> httpx.Client:
    """The process-wide httpx client (connection pooling, bounded timeouts, no redirects)."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                import httpx

                _client = httpx.Client(
                    timeout=httpx.Timeout(DEFAULT_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
                    follow_redirects=False,
                    headers={"User-Agent": "Tellgence-API"},
                )
    return _client


def _is_private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified


def check_destination(url: str) -> str:
    """Refuse a tenant-configured URL that is not https or resolves to a private address.

    Loopback http(s) is allowed only when OUTBOUND_ALLOW_LOOPBACK is on (local fakes in dev/test).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host or parts.scheme not in ("https", "http"):
        raise BadRequest("The destination must be an https URL", code="invalid_destination")
    allow_loopback = get_settings().outbound_allow_loopback
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError) as exc:
        raise BadRequest("The destination host does not resolve", code="invalid_destination") from exc
    loopback_only = all(ipaddress.ip_address(address).is_loopback for address in addresses)
    if allow_loopback and loopback_only:
        return url
    if parts.scheme != "https":
        raise BadRequest("The destination must be an https URL", code="invalid_destination")
    if any(_is_private(address) for address in addresses):
        raise BadRequest("The destination resolves to a private address", code="invalid_destination")
    return url


def reset() -> None:
    """Close and forget the client (tests)."""
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None


SIGNATURE_HEADER = "X-Tellgence-Signature"
TIMESTAMP_HEADER = "X-Tellgence-Timestamp"


def signed_headers(
    secret: str,
    body: bytes,
    idempotency_key: str,
    *,
    now: float | None = None,
    signature_header: str = SIGNATURE_HEADER,
) -> dict[str, str]:
    """Headers of a signed outbound webhook: HMAC-SHA256 over "<timestamp>.<body>" and an idempotency key.

    `signature_header` names the header the signature travels in (a receiver may have chosen its own).
    """
    timestamp = str(int(time.time() if now is None else now))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        signature_header: f"v1={digest}",
        "Idempotency-Key": idempotency_key,
    }
