"""What every protocol client shares: the call context, outbound requests through the SSRF guard, error classes.

Error classes (`ProviderFailure.error_class`):
- retryable: `timeout`, `network` (nothing or no answer came back), `rate_limited` (429), `provider_error` (5xx);
- permanent: `auth_failed` (401/403), `rejected` (other 4xx, redirects), `invalid_response` (a 2xx we cannot
  read), `destination_refused` (the SSRF guard), `configuration` (e.g. an unusable key), and
  `outcome_unknown`: the provider may have acted but takes no idempotency key, so an automatic retry
  could act twice (an operator decides).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from shared.platform import clock
from shared.platform.errors import ServiceError

if TYPE_CHECKING:
    import httpx

    from shared.integrations.catalog import Provider

TIMEOUT = "timeout"
NETWORK = "network"
RATE_LIMITED = "rate_limited"
PROVIDER_ERROR = "provider_error"
AUTH_FAILED = "auth_failed"
REJECTED = "rejected"
INVALID_RESPONSE = "invalid_response"
DESTINATION_REFUSED = "destination_refused"
CONFIGURATION = "configuration"
OUTCOME_UNKNOWN = "outcome_unknown"
RETRYABLE = frozenset({TIMEOUT, NETWORK, RATE_LIMITED, PROVIDER_ERROR})
# The request may have reached the provider: only safe to repeat where the provider deduplicates.
AMBIGUOUS = frozenset({TIMEOUT, NETWORK, PROVIDER_ERROR})

MAX_DETAIL_CHARS = 200
CONNECT_TIMEOUT_CAP_SECONDS = 3.0


class ProviderFailure(Exception):
    """A provider call that did not succeed, classified; its message is safe to store and show."""

    def __init__(
        self, error_class: str, message: str, *, response_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.response_code = response_code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether repeating the same call later may succeed without acting twice."""
        return self.error_class in RETRYABLE


class DemoRecorder(Protocol):
    """Where a demo-tier provider persists what it does (the results screens read it back)."""

    def record(
        self, provider_id: str, action_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> Mapping[str, Any]:
        """Store the action once per idempotency key and return the stored record (with its `id`)."""
        ...

    def check(self) -> None:
        """Raise when the demo store cannot take records."""
        ...


@dataclass
class CallContext:
    """One provider call: the provider, its clear config (defaults applied) and the delivery's identity."""

    provider: Provider
    config: dict[str, Any]
    idempotency_key: str
    timeout: float
    first_sent_at: datetime
    recorder: DemoRecorder | None = None
    secrets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.secrets.extend(str(self.config[k]) for k in self.provider.secret_keys if self.config.get(k))

    def add_secret(self, value: str) -> None:
        """Remember a credential obtained during the call (an access token) so no message repeats it."""
        if value:
            self.secrets.append(value)

    def scrub(self, text: str) -> str:
        """The text with every known secret replaced, cut to a short length."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return text[:MAX_DETAIL_CHARS]


@dataclass(frozen=True)
class Outcome:
    """What a successful provider call produced."""

    summary: str
    response_code: int | None = None
    external_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def key_uuid(idempotency_key: str) -> str:
    """A stable UUID (version-4 form) derived from an idempotency key, for providers that want a UUID."""
    return str(uuid.UUID(bytes=hashlib.sha256(idempotency_key.encode()).digest()[:16], version=4))


def with_query(url: str, params: Mapping[str, str]) -> str:
    """The URL with these query parameters appended to any it already has."""
    parts = urlsplit(url)
    extra = urlencode([(k, v) for k, v in params.items() if v])
    query = f"{parts.query}&{extra}" if parts.query and extra else parts.query or extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def status_callback(ctx: CallContext, url: str, params: Mapping[str, Any]) -> str:
    """A call's status callback URL, naming the delivery (idempotency key) and session its events belong to."""
    return with_query(url, {"idempotencyKey": ctx.idempotency_key, "sessionId": params.get("sessionId", "")})


def join_url(base: str, path: str) -> str:
    """base + "/" + path without doubled or missing slashes (base may carry its own path)."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def classify_status(status: int) -> str:
    """The error class of a non-2xx HTTP status."""
    if status == 429:
        return RATE_LIMITED
    if status == 408:
        return TIMEOUT
    if status >= 500:
        return PROVIDER_ERROR
    if status in (401, 403):
        return AUTH_FAILED
    return REJECTED


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - clock.utc_now()).total_seconds())
    except (TypeError, ValueError):
        return None


def provider_detail(response: httpx.Response) -> str | None:
    """The provider's own short error text from a JSON error body (OAuth, Graph, ACS, FHIR, Twilio shapes)."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    if body.get("resourceType") == "OperationOutcome":
        issues = body.get("issue") or [{}]
        first = issues[0] if isinstance(issues[0], dict) else {}
        return first.get("diagnostics") or (first.get("details") or {}).get("text") or first.get("code")
    error = body.get("error")
    if isinstance(error, dict):
        return error.get("message") or error.get("code")
    for key in ("error_description", "message", "detail"):
        if isinstance(body.get(key), str):
            return body[key]
    return error if isinstance(error, str) else None


def failure_from_response(ctx: CallContext, response: httpx.Response, *, idempotent: bool) -> ProviderFailure:
    """A classified failure for a non-2xx answer, with the provider's own detail scrubbed of secrets."""
    status = response.status_code
    if 300 <= status < 400:
        return ProviderFailure(
            REJECTED, f"{ctx.provider.name} answered with a redirect (HTTP {status})", response_code=status
        )
    error_class = classify_status(status)
    if error_class == PROVIDER_ERROR and not idempotent:
        error_class = OUTCOME_UNKNOWN
    detail = provider_detail(response)
    message = f"{ctx.provider.name} answered HTTP {status}"
    if detail:
        message += f": {ctx.scrub(str(detail))}"
    return ProviderFailure(error_class, message, response_code=status, retry_after=_retry_after(response))


def send(
    ctx: CallContext,
    method: str,
    url: str,
    *,
    idempotent: bool = True,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    form: Mapping[str, str] | list[tuple[str, str]] | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    """One outbound request: SSRF-checked URL, short timeouts, no redirects; ProviderFailure unless 2xx."""
    import httpx

    from shared.platform.outbound import check_destination, http_client

    try:
        check_destination(url)
    except ServiceError as exc:
        raise ProviderFailure(DESTINATION_REFUSED, f"{ctx.provider.name} destination refused: {exc.message}") from exc
    if json_body is not None:
        content = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
    elif form is not None:
        # Encoded here so repeated keys (Twilio's StatusCallbackEvent) keep their order.
        pairs = list(form.items()) if isinstance(form, Mapping) else list(form)
        content = urlencode(pairs).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    timeout = httpx.Timeout(ctx.timeout, connect=min(ctx.timeout, CONNECT_TIMEOUT_CAP_SECONDS))
    try:
        response = http_client().request(method, url, headers=headers, content=content, auth=auth, timeout=timeout)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        # Nothing reached the provider: always safe to retry.
        error_class = TIMEOUT if isinstance(exc, httpx.ConnectTimeout) else NETWORK
        raise ProviderFailure(error_class, f"{ctx.provider.name} could not be reached ({type(exc).__name__})") from exc
    except httpx.TimeoutException as exc:
        error_class = TIMEOUT if idempotent else OUTCOME_UNKNOWN
        raise ProviderFailure(error_class, f"{ctx.provider.name} did not answer in time") from exc
    except httpx.TransportError as exc:
        error_class = NETWORK if idempotent else OUTCOME_UNKNOWN
        raise ProviderFailure(error_class, f"{ctx.provider.name} connection failed ({type(exc).__name__})") from exc
    if not 200 <= response.status_code < 300:
        raise failure_from_response(ctx, response, idempotent=idempotent)
    return response


def json_object(ctx: CallContext, response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object; an `invalid_response` failure otherwise."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProviderFailure(
            INVALID_RESPONSE,
            f"{ctx.provider.name} answered HTTP {response.status_code} without JSON",
            response_code=response.status_code,
        ) from exc
    if not isinstance(body, dict):
        raise ProviderFailure(
            INVALID_RESPONSE,
            f"{ctx.provider.name} answered with JSON that is not an object",
            response_code=response.status_code,
        )
    return body
