"""Lead documents: request bodies into bounded submissions, the stored lead, and the contract's lead object.

A *submission* is one request's worth of lead data (createLead, createMidDemoLead or createContact) in one
shape: every string trimmed, stripped of control characters and cut to its bound, numbers finite and within
range, the email normalized (`shared.email.models.normalize_address`). Client-sent `score`, `tier` and
`scoreLabel` are dropped here: the server scores (`shared.leads.scoring`).

The stored lead (`new_lead`, partition `/tenantId`, id = leadId) keeps the contract's `contact`, `attribution`
(first touch), `demo` (latest demo) and `crm`, plus what the desk and the merge need: `emailKey`, `interest`
(contact-form answers), `timeline` (the latest demo's events), the merged `sources`, `scenarios` and
`utmTouches`, a bounded `history` of submissions with `submissionCount`, `statusHistory` and timestamps.
Every list is capped, so a lead document stays far below Cosmos' 2 MB item limit. Notes are items of their
own; `contract_view` joins them in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from shared.email.models import InvalidAddress, normalize_address
from shared.platform.errors import ValidationFailed

DOC_TYPE = "lead"
SCHEMA_VERSION = 1

Kind = Literal["lead", "mid_demo", "contact"]
KINDS: tuple[str, ...] = ("lead", "mid_demo", "contact")
DEFAULT_SOURCES: dict[str, str] = {"lead": "demo-results", "mid_demo": "mid-demo-capture", "contact": "contact"}

# Character bounds of every stored string (a longer value is cut, never rejected here: the HTTP models decide
# what is a 400; this is the last line that keeps documents and emails small).
CONTACT_LIMITS = {"name": 200, "company": 200, "role": 200, "phone": 50}
ATTRIBUTION_LIMITS = {
    "source": 64,
    "sourcePath": 500,
    "referrer": 1000,
    "utmSource": 200,
    "utmMedium": 200,
    "utmCampaign": 200,
}
INTEREST_LIMITS = {"primaryInterest": 500, "currentSystem": 500, "implementationTimeline": 200, "companySize": 50}
MESSAGE_LIMIT = 5000
SCENARIO_ID_LIMIT = 100
SCENARIO_TITLE_LIMIT = 200
SESSION_ID_LIMIT = 128
TOOL_NAME_LIMIT = 100
MAX_TOOLS = 50
MAX_TIMELINE_EVENTS = 20
TIMELINE_TITLE_LIMIT = 200
TIMELINE_DESCRIPTION_LIMIT = 500
TIMESTAMP_LIMIT = 40
MAX_SESSION_SECONDS = 24 * 60 * 60
MAX_BEATS = 1000

UTM_FIELDS: tuple[str, ...] = ("utmSource", "utmMedium", "utmCampaign")
CONTACT_FIELDS: tuple[str, ...] = ("name", "email", "company", "role", "phone")
ATTRIBUTION_FIELDS: tuple[str, ...] = tuple(ATTRIBUTION_LIMITS)
DEMO_FIELDS: tuple[str, ...] = (
    "scenarioId",
    "scenarioTitle",
    "sessionId",
    "sessionDurationSeconds",
    "toolsInvoked",
    "beatsCompleted",
    "totalBeats",
    "reachedResults",
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_WHITESPACE = re.compile(r"\s+")


def clean_line(value: Any, limit: int) -> str | None:
    """A single-line string cut to `limit` (breaks and controls as spaces, runs of spaces as one); None if blank."""
    if not isinstance(value, str):
        return None
    text = _WHITESPACE.sub(" ", _CONTROL.sub(" ", value)).strip()
    return text[:limit].rstrip() or None


def clean_block(value: Any, limit: int) -> str | None:
    """A multi-line string: CRLF and CR become LF, other control characters go; cut to `limit`; None when blank."""
    if not isinstance(value, str):
        return None
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    return text[:limit].rstrip() or None


def clean_number(value: Any, maximum: float) -> float | int | None:
    """A finite number in [0, maximum] (booleans are not numbers); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if value < 0 or value > maximum:
        return None
    return int(value) if float(value).is_integer() else float(value)


def clean_email(value: Any) -> str:
    """The normalized address; ValidationFailed naming `email` when it is missing or not an address."""
    try:
        return normalize_address(value.strip() if isinstance(value, str) else value)
    except InvalidAddress:
        raise ValidationFailed("email: must be a valid email address") from None


def email_key(email: str) -> str:
    """The lookup key of an address: the whole normalized address in lower case (mailboxes are case-blind)."""
    return email.lower()


def _fields(body: Mapping[str, Any], limits: Mapping[str, int]) -> dict[str, str]:
    return {name: text for name, limit in limits.items() if (text := clean_line(body.get(name), limit))}


def _tools(value: Any) -> list[str]:
    tools: list[str] = []
    for item in value if isinstance(value, list) else []:
        name = clean_line(item, TOOL_NAME_LIMIT)
        if name and name not in tools:
            tools.append(name)
        if len(tools) == MAX_TOOLS:
            break
    return tools


def _timeline(value: Any) -> list[dict[str, str]]:
    events = []
    for item in value if isinstance(value, list) else []:
        if not isinstance(item, Mapping):
            continue
        event = {
            "title": clean_line(item.get("title"), TIMELINE_TITLE_LIMIT),
            "description": clean_line(item.get("description"), TIMELINE_DESCRIPTION_LIMIT),
            "timestamp": clean_line(item.get("timestamp"), TIMESTAMP_LIMIT),
        }
        if event["title"]:
            events.append({key: text for key, text in event.items() if text})
        if len(events) == MAX_TIMELINE_EVENTS:
            break
    return events


def _company_size(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = clean_number(value, 10_000_000)
        return None if number is None else str(int(number))
    return clean_line(value, INTEREST_LIMITS["companySize"])


def _demo(kind: str, body: Mapping[str, Any], session_id: str | None) -> dict[str, Any]:
    scenario = body.get("scenario") if kind == "mid_demo" else body.get("scenarioId")
    demo: dict[str, Any] = {
        "scenarioId": clean_line(scenario, SCENARIO_ID_LIMIT),
        "scenarioTitle": clean_line(body.get("scenarioTitle"), SCENARIO_TITLE_LIMIT),
        "sessionId": clean_line(session_id if session_id is not None else body.get("sessionId"), SESSION_ID_LIMIT),
    }
    if kind == "lead":
        demo.update(
            sessionDurationSeconds=clean_number(body.get("sessionDuration"), MAX_SESSION_SECONDS),
            toolsInvoked=_tools(body.get("toolsInvoked")) or None,
            beatsCompleted=clean_number(body.get("beatsCompleted"), MAX_BEATS),
            totalBeats=clean_number(body.get("totalBeats"), MAX_BEATS),
            # createLead is the post-demo capture: the prospect saw the results screen.
            reachedResults=True,
        )
    elif kind == "mid_demo":
        demo["reachedResults"] = False
    return {key: value for key, value in demo.items() if value is not None}


def to_submission(kind: Kind, body: Mapping[str, Any], *, session_id: str | None = None) -> dict[str, Any]:
    """One request body (createLead / createMidDemoLead / createContact) as a bounded submission.

    `session_id`, when given, is the session the caller proved access to (it wins over a body `sessionId`).
    ValidationFailed names `email` when the address is missing or malformed.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown submission kind {kind!r}")
    contact = {"email": clean_email(body.get("email")), **_fields(body, CONTACT_LIMITS)}
    attribution = _fields(body, ATTRIBUTION_LIMITS)
    if kind == "mid_demo" or not attribution.get("source"):
        # The mid-demo capture's source is fixed by the contract; the others default to what they are.
        attribution["source"] = DEFAULT_SOURCES[kind]
    interest: dict[str, str] = {}
    if kind == "contact":
        interest = _fields(body, {name: limit for name, limit in INTEREST_LIMITS.items() if name != "companySize"})
        if message := clean_block(body.get("message"), MESSAGE_LIMIT):
            interest["message"] = message
    if company_size := _company_size(body.get("companySize")):
        interest["companySize"] = company_size
    submission: dict[str, Any] = {
        "kind": kind,
        "source": attribution["source"],
        "contact": {name: contact[name] for name in CONTACT_FIELDS if name in contact},
        "attribution": {name: attribution[name] for name in ATTRIBUTION_FIELDS if name in attribution},
        "demo": _demo(kind, body, session_id) if kind != "contact" else {},
        "interest": interest,
        "timeline": _timeline(body.get("timelineEvents")) if kind == "lead" else [],
    }
    return submission


def utm_of(attribution: Mapping[str, Any]) -> dict[str, str]:
    """The UTM fields of an attribution that are set."""
    return {name: attribution[name] for name in UTM_FIELDS if attribution.get(name)}


def history_entry(event: str, submission: Mapping[str, Any], *, at: str, changed: Iterable[str] = ()) -> dict:
    """One `history` item: what kind of submission arrived when, from where, and which fields it changed."""
    demo = submission.get("demo") or {}
    entry: dict[str, Any] = {"event": event, "at": at, "kind": submission["kind"], "source": submission["source"]}
    for name in ("scenarioId", "sessionId"):
        if demo.get(name):
            entry[name] = demo[name]
    if utm := utm_of(submission.get("attribution") or {}):
        entry["utm"] = utm
    if changed := sorted(set(changed)):
        entry["changed"] = changed
    return entry


def new_lead(submission: Mapping[str, Any], *, lead_id: str, tenant_id: str, now: str) -> dict[str, Any]:
    """The stored document of a lead first seen in `submission` (status new, not yet scored)."""
    demo = dict(submission.get("demo") or {})
    attribution = dict(submission.get("attribution") or {})
    utm = utm_of(attribution)
    return {
        "id": lead_id,
        "leadId": lead_id,
        "tenantId": tenant_id,
        "type": DOC_TYPE,
        "schemaVersion": SCHEMA_VERSION,
        "emailKey": email_key(submission["contact"]["email"]),
        "contact": dict(submission["contact"]),
        "attribution": attribution,
        "demo": demo,
        "interest": dict(submission.get("interest") or {}),
        "timeline": [dict(event) for event in submission.get("timeline") or []],
        "sources": [submission["source"]],
        "scenarios": [demo["scenarioId"]] if demo.get("scenarioId") else [],
        "utmTouches": [utm] if utm else [],
        "status": "new",
        "statusHistory": [],
        "crm": {},
        "history": [history_entry("created", submission, at=now)],
        "submissionCount": 1,
        "createdAt": now,
        "updatedAt": now,
        "lastSubmittedAt": now,
    }


def _note_view(note: Mapping[str, Any]) -> dict[str, Any]:
    view = {name: note.get(name) for name in ("id", "authorUserId", "authorDisplayName", "body", "createdAt")}
    return {name: value for name, value in view.items() if value is not None}


def contract_view(lead: Mapping[str, Any], notes: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The contract's lead object of a stored lead (only the contract's keys), with its notes joined in."""
    contact = lead.get("contact") or {}
    attribution = lead.get("attribution") or {}
    demo = lead.get("demo") or {}
    crm = lead.get("crm") or {}
    view: dict[str, Any] = {
        "leadId": lead["leadId"],
        "tenantId": lead["tenantId"],
        "contact": {name: contact[name] for name in CONTACT_FIELDS if contact.get(name) is not None},
        "attribution": {name: attribution[name] for name in ATTRIBUTION_FIELDS if attribution.get(name)},
        "demo": {name: demo[name] for name in DEMO_FIELDS if demo.get(name) is not None},
        "score": lead["score"],
        "tier": lead["tier"],
        "scoreLabel": lead["scoreLabel"],
        "status": lead.get("status", "new"),
        "crm": {name: crm[name] for name in ("hubspotContactId", "hubspotDealId") if crm.get(name)},
        "notes": [_note_view(note) for note in notes],
        "createdAt": lead["createdAt"],
        "updatedAt": lead["updatedAt"],
    }
    if lead.get("previousMidDemoLeadId"):
        view["previousMidDemoLeadId"] = lead["previousMidDemoLeadId"]
    return view
