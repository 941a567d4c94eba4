"""Request models of the fast-start onboarding operations: every string and list bounded, refused beyond.

URLs are checked for form here and by the SSRF guard in the service (it resolves the host); email
addresses are normalised with the same rules the email service sends to.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.platform.validation import Id, StrictPatch

UseCase = Literal["insurance", "sales", "healthcare", "legal"]
DestinationKind = Literal["email", "webhook"]

MAX_COMPANY = 200
MAX_DESCRIPTION = 2000
MAX_GREETING = 500
MAX_INTAKE_FIELDS = 30
MAX_INTAKE_FIELD = 80
MAX_RECIPIENTS = 10
MAX_URL = 2048
MAX_ESCALATION = 200
MAX_FAQS = 25
MAX_QUESTION = 300
MAX_ANSWER = 2000
MAX_NOTES = 5000
MIN_SECRET, MAX_SECRET = 16, 512
DEFAULT_SIGNATURE_HEADER = "X-Tellgence-Signature"
# An HTTP header name (RFC 9110 token), short.
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
# Headers the signed request sets itself, or that a receiver's front end would take for something else.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "authorization",
        "cookie",
        "connection",
        "transfer-encoding",
        "user-agent",
        "idempotency-key",
        "x-tellgence-timestamp",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
    }
)
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _single_line(value: str) -> str:
    if _LINE_CONTROL.search(value):
        raise ValueError("must be one line without control characters")
    return value


def _text(value: str) -> str:
    if _TEXT_CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _email(value: str) -> str:
    from shared.email.models import InvalidAddress, normalize_address

    try:
        return normalize_address(value)
    except InvalidAddress:
        raise ValueError("must be an email address") from None


def _url_form(value: str) -> str:
    from urllib.parse import urlsplit

    if value == "":
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise ValueError("must be an absolute https URL without credentials")
    return value


def _header_name(value: str) -> str:
    if not HEADER_NAME.fullmatch(value) or value.lower() in RESERVED_HEADERS:
        raise ValueError("must be an HTTP header name (1-64 characters) that the request does not set itself")
    return value


Line = Annotated[str, AfterValidator(_single_line)]
Text = Annotated[str, AfterValidator(_text)]
Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]
Url = Annotated[str, Field(max_length=MAX_URL), AfterValidator(_url_form)]
IntakeField = Annotated[str, Field(min_length=1, max_length=MAX_INTAKE_FIELD), AfterValidator(_single_line)]


class Faq(BaseModel):
    """One question the agent may be asked, and the practice's answer."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    question: Annotated[Line, Field(min_length=1, max_length=MAX_QUESTION)]
    answer: Annotated[Text, Field(min_length=1, max_length=MAX_ANSWER)]


class WebhookBody(BaseModel):
    """Where session summaries are posted: a base URL, a signing secret and the signature header's name.

    An empty `baseUrl` removes the webhook. `secret` left out (or sent back masked) keeps the stored one
    while the URL is unchanged.
    """

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    baseUrl: Url
    secret: Annotated[str, Field(max_length=MAX_SECRET), AfterValidator(_single_line)] | None = None
    headerName: Annotated[str, AfterValidator(_header_name)] | None = None


def _unique_fields(values: list[str]) -> list[str]:
    seen = set()
    for value in values:
        if value.lower() in seen:
            raise ValueError("must not name a field twice")
        seen.add(value.lower())
    return values


def _unique_addresses(values: list[str]) -> list[str]:
    kept: dict[str, str] = {}
    for value in values:
        kept.setdefault(value.lower(), value)
    return list(kept.values())


IntakeFields = Annotated[list[IntakeField], Field(max_length=MAX_INTAKE_FIELDS), AfterValidator(_unique_fields)]
Recipients = Annotated[list[Email], Field(max_length=MAX_RECIPIENTS), AfterValidator(_unique_addresses)]
Faqs = Annotated[list[Faq], Field(max_length=MAX_FAQS)]


class ProfileFields(BaseModel):
    """The profile's fields as a client writes them (shared by create and patch)."""

    model_config = ConfigDict(extra="ignore", strict=True, str_strip_whitespace=True)

    companyName: Annotated[Line, Field(min_length=1, max_length=MAX_COMPANY)] | None = None
    businessDescription: Annotated[Text, Field(min_length=1, max_length=MAX_DESCRIPTION)] | None = None
    primaryUseCase: UseCase | None = None
    personaId: Id | None = None
    greeting: Annotated[Line, Field(min_length=1, max_length=MAX_GREETING)] | None = None
    intakeFields: IntakeFields | None = None
    summaryRecipients: Recipients | None = None
    bookingLink: Url | None = None
    escalationContact: Annotated[Line, Field(max_length=MAX_ESCALATION)] | None = None
    faqs: Faqs | None = None
    webhook: WebhookBody | None = None
    reviewedPersona: bool | None = None
    # Accepted because the contract lists it, never read: a passed test call is recorded from a real session.
    testCallPassed: bool | None = None
    notes: Annotated[Text, Field(max_length=MAX_NOTES)] | None = None


class CreateProfileBody(ProfileFields):
    """POST /api/cp/onboarding/fast-start: the five answers every profile starts with, and any others."""

    companyName: Annotated[Line, Field(min_length=1, max_length=MAX_COMPANY)]
    businessDescription: Annotated[Text, Field(min_length=1, max_length=MAX_DESCRIPTION)]
    primaryUseCase: UseCase
    personaId: Id
    greeting: Annotated[Line, Field(min_length=1, max_length=MAX_GREETING)]


class PatchProfileBody(StrictPatch, ProfileFields):
    """PATCH …/{profileId}: only the fields sent change; `revision` (or If-Match) guards against stale writes."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    revision: int | None = Field(default=None, ge=1, le=2**31)


class TestDestinationBody(BaseModel):
    """POST …/{profileId}/test-destination: which destination to test now."""

    model_config = ConfigDict(extra="forbid", strict=True)

    kind: DestinationKind
