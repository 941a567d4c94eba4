"""Server-side templates of the lead emails, each rendered as text and HTML into an `EmailMessage`.

* `sales_notification` tells the sales team about a lead (new or updated by a repeat submission);
  reply-to is the prospect, so answering the notification reaches them.
* `session_summary` sends prospects their demo: impact metrics and the transcript.
* `transcript_email` sends the transcript alone.

Every value that came from a client is cleaned (control characters dropped, one line where a header or a
table cell needs one), bounded, and HTML-escaped (`html.escape`, quotes too) before it reaches the HTML part;
no client value becomes a link, an attribute or a header other than the already validated addresses. Subjects
are single lines of at most MAX_SUBJECT_LENGTH characters, so CR/LF cannot add a header.

A transcript keeps at most MAX_TRANSCRIPT_TURNS turns and MAX_TRANSCRIPT_CHARS characters (each turn at most
MAX_TURN_CHARS); whatever is cut is said in a note. The whole message must also fit one queue message
(`shared.email.service.MAX_QUEUED_BYTES`, measured as queued, JSON with ASCII escapes): if it does not, the
free-text budget (the transcript; a notification's message, fields and events) is halved until it does.

Idempotency keys: a notification is `lead-notification:<leadId>:<submission number>` (a retry is the same
email; the next submission is a new one); a prospect email is keyed by a digest of its recipient and content,
so a double click sends one email.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.email.models import MAX_SUBJECT_LENGTH, EmailMessage, InvalidAddress, normalize_address
from shared.leads.documents import clean_block, clean_line
from shared.platform.errors import ServiceUnavailable, ValidationFailed
from shared.platform.settings import Settings
from shared.results import scoring as session_scoring

PRODUCT = "Tellgence"
MAX_TRANSCRIPT_TURNS = 200
MAX_TRANSCRIPT_CHARS = 10_000
MAX_TURN_CHARS = 2_000
MIN_TEXT_BUDGET = 500
MAX_NOTIFICATION_EVENTS = 20
FIELD_CHARS = 500
MESSAGE_CHARS = 5_000
TITLE_CHARS = 120
ELLIPSIS = "…"

USER_ROLES = session_scoring.USER_ROLES
AGENT_ROLES = frozenset({"assistant", "agent", "ai", "bot", "model"})
SKIPPED_ROLES = frozenset({"system", "developer"})

# Bounds of the impact metrics a prospect's summary shows; a value outside is left out, not clamped.
METRIC_BOUNDS = {"toolsExecuted": 10_000, "systemsUpdated": 1_000, "timeSaved": 100_000, "sessionDuration": 86_400_000}


@dataclass(frozen=True, slots=True)
class Transcript:
    """A bounded transcript: the turns shown as (speaker, text) and how much was left out."""

    turns: tuple[tuple[str, str], ...]
    total_turns: int
    truncated: bool

    @property
    def note(self) -> str | None:
        """The reader-facing truncation note, or None when nothing was cut."""
        if not self.truncated:
            return None
        return f"Transcript truncated: {len(self.turns)} of {self.total_turns} turns shown, long turns shortened."


def _cut(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS, True


def speaker(role: Any) -> str | None:
    """The label a reader sees for a transcript role ("You", "Agent", or the role itself); None to skip it."""
    normalized = role.strip().lower() if isinstance(role, str) else ""
    if normalized in SKIPPED_ROLES:
        return None
    if normalized in USER_ROLES:
        return "You"
    if normalized in AGENT_ROLES:
        return "Agent"
    return (clean_line(role, 32) or "Speaker").capitalize()


def bound_transcript(
    transcript: Any, *, max_turns: int = MAX_TRANSCRIPT_TURNS, max_chars: int = MAX_TRANSCRIPT_CHARS
) -> Transcript:
    """The first turns of a client-sent transcript within `max_turns` and `max_chars` characters of text."""
    turns: list[tuple[str, str]] = []
    total, budget, truncated = 0, max_chars, False
    for item in transcript if isinstance(transcript, list) else []:
        if not isinstance(item, Mapping):
            continue
        label = speaker(item.get("role"))
        # Only a bounded prefix of a huge turn is ever cleaned: the rest cannot be shown anyway.
        raw = item.get("content", item.get("text"))
        text = clean_block(raw[: MAX_TURN_CHARS * 2] if isinstance(raw, str) else None, MAX_TURN_CHARS * 2)
        if label is None or not text:
            continue
        total += 1
        if len(turns) >= max_turns or budget <= 0:
            truncated = True
            continue
        text, cut_turn = _cut(text, MAX_TURN_CHARS)
        text, cut_budget = _cut(text, budget)
        truncated = truncated or cut_turn or cut_budget or (isinstance(raw, str) and len(raw) > MAX_TURN_CHARS * 2)
        budget -= len(text)
        turns.append((label, text))
    return Transcript(turns=tuple(turns), total_turns=total, truncated=truncated)


# ---------------------------------------------------------------------------------------------------------
# Rendering helpers: text lines and an HTML document built from escaped pieces only.


def _h(value: Any) -> str:
    """HTML-escaped text, line breaks as <br>."""
    return html.escape(str(value), quote=True).replace("\n", "<br>\n")


def _subject(*parts: str) -> str:
    subject = clean_line(" ".join(part for part in parts if part), MAX_SUBJECT_LENGTH * 2) or PRODUCT
    return _cut(subject, MAX_SUBJECT_LENGTH)[0]


def _number(value: Any, maximum: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) if 0 <= value <= maximum else None


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _duration(seconds: float) -> str:
    whole = math.floor(seconds + 0.5)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


@dataclass
class _Document:
    """A message body assembled twice in step: plain text lines and HTML blocks."""

    title: str
    text: list[str]
    html: list[str]

    @classmethod
    def start(cls, title: str, intro: str | None = None) -> _Document:
        doc = cls(title=title, text=[title, "=" * min(len(title), 60)], html=[f'<h1 style="{_H1}">{_h(title)}</h1>'])
        if intro:
            doc.paragraph(intro)
        return doc

    def paragraph(self, text: str) -> None:
        self.text += ["", text]
        self.html.append(f"<p>{_h(text)}</p>")

    def table(self, heading: str, rows: Iterable[tuple[str, Any]]) -> None:
        rows = [(label, value) for label, value in rows if value not in (None, "", [])]
        if not rows:
            return
        self.text += ["", heading, "-" * len(heading), *(f"{label}: {value}" for label, value in rows)]
        cells = "".join(
            f'<tr><th style="{_TH}">{_h(label)}</th><td style="{_TD}">{_h(value)}</td></tr>' for label, value in rows
        )
        self.html.append(f'<h2 style="{_H2}">{_h(heading)}</h2><table style="{_TABLE}">{cells}</table>')

    def block(self, heading: str, body: str | None) -> None:
        if not body:
            return
        self.text += ["", heading, "-" * len(heading), body]
        self.html.append(f'<h2 style="{_H2}">{_h(heading)}</h2><p style="{_QUOTE}">{_h(body)}</p>')

    def transcript(self, transcript: Transcript) -> None:
        heading = "Transcript"
        self.text += ["", heading, "-" * len(heading)]
        self.html.append(f'<h2 style="{_H2}">{heading}</h2>')
        if not transcript.turns:
            self.paragraph("No conversation was recorded.")
            return
        for label, text in transcript.turns:
            self.text.append(f"{label}: {text}")
            self.html.append(f'<p style="{_TURN}"><strong>{_h(label)}:</strong> {_h(text)}</p>')
        if transcript.note:
            self.text += ["", f"[{transcript.note}]"]
            self.html.append(f'<p style="{_NOTE}"><em>{_h(transcript.note)}</em></p>')

    def render(self, footer: str) -> tuple[str, str]:
        text = "\n".join([*self.text, "", "--", footer]) + "\n"
        body = "\n".join(self.html)
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{_h(self.title)}</title>\n'
            f'</head>\n<body style="{_BODY}">\n{body}\n<hr style="{_HR}">\n'
            f'<p style="{_FOOTER}">{_h(footer)}</p>\n</body>\n</html>\n'
        )
        return text, page


_BODY = "font-family:Arial,Helvetica,sans-serif;color:#1f2933;max-width:640px;margin:0 auto;padding:16px"
_H1 = "font-size:20px;margin:0 0 12px"
_H2 = "font-size:16px;margin:20px 0 8px"
_TABLE = "border-collapse:collapse;width:100%"
_TH = "text-align:left;vertical-align:top;padding:4px 12px 4px 0;color:#52606d;font-weight:normal;width:35%"
_TD = "padding:4px 0;vertical-align:top"
_QUOTE = "white-space:normal;border-left:3px solid #cbd2d9;padding-left:12px"
_TURN = "margin:6px 0"
_NOTE = "color:#7b8794"
_HR = "border:none;border-top:1px solid #e4e7eb;margin:24px 0 8px"
_FOOTER = "color:#7b8794;font-size:12px"


def _digest(*parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]


def _to_prospect(
    doc: _Document,
    recipient: str,
    subject: str,
    *,
    kind: str,
    correlation_id: str | None,
    idempotency_key: str,
) -> EmailMessage:
    """The message to a prospect: the document rendered with the prospect footer, tagged with its kind."""
    text, page = doc.render(_PROSPECT_FOOTER)
    return EmailMessage(
        to=[recipient],
        subject=subject,
        text=text,
        html=page,
        tags={"kind": kind},
        correlation_id=correlation_id,
        idempotency_key=idempotency_key,
    )


def _fits(message: EmailMessage) -> bool:
    from shared.email.service import MAX_QUEUED_BYTES, serialize

    return len(serialize(message).encode("utf-8")) <= MAX_QUEUED_BYTES


def _fit(build: Callable[[int], EmailMessage], *, start: int = MAX_TRANSCRIPT_CHARS) -> EmailMessage:
    """The message built with the largest text budget (halving from `start`) that fits one queue message."""
    budget = start
    while True:
        message = build(budget)
        if _fits(message):
            return message
        if budget <= MIN_TEXT_BUDGET:
            raise ValidationFailed("The email is too large to be queued", code="email_too_large")
        budget = max(MIN_TEXT_BUDGET, budget // 2)


def _recipient(address: str) -> str:
    try:
        return normalize_address(address.strip() if isinstance(address, str) else address)
    except InvalidAddress:
        raise ValidationFailed("email: must be a valid email address") from None


# ---------------------------------------------------------------------------------------------------------
# The sales notification


def _configured_recipients(addresses: Sequence[str]) -> list[str]:
    try:
        recipients = [normalize_address(address.strip()) for address in addresses]
    except (InvalidAddress, AttributeError):
        # Recipients come from tenant settings or LEADS_NOTIFY_EMAIL: a bad one is configuration, not the prospect.
        raise ServiceUnavailable(
            "The lead notification recipients are not valid email addresses", code="email_not_configured"
        ) from None
    if not recipients:
        raise ServiceUnavailable("No lead notification recipient is configured", code="email_not_configured")
    return recipients


def platform_sales_recipient(settings: Settings) -> str | None:
    """LEADS_NOTIFY_EMAIL normalized (the recipient for `default-practice`); None when unset."""
    if not settings.leads_notify_email:
        return None
    try:
        return normalize_address(settings.leads_notify_email)
    except InvalidAddress:
        raise ServiceUnavailable(
            "LEADS_NOTIFY_EMAIL is not a valid email address", code="email_not_configured"
        ) from None


def _field(value: Any, limit: int = FIELD_CHARS) -> str | None:
    return clean_line(value, limit)


def _list(values: Any, limit: int = FIELD_CHARS) -> str | None:
    """Strings of a list joined with commas, each cut to 100 characters, the whole to `limit`."""
    items = [text for value in values if (text := clean_line(value, 100))] if isinstance(values, list) else []
    return clean_line(", ".join(items), limit)


def sales_notification(
    lead: Mapping[str, Any], *, to: Sequence[str], correlation_id: str | None = None
) -> EmailMessage:
    """The email telling the sales team about `lead` (a scored lead document); reply-to is the prospect."""
    recipients = _configured_recipients(to)
    contact = _mapping(lead.get("contact"))
    lead_id = str(lead["leadId"])
    submissions = int(lead.get("submissionCount") or 1)
    tier = str(lead.get("tier")) if lead.get("tier") in session_scoring.TIER_LABELS else "cold"
    who = _field(contact.get("name"), 80) or _field(contact.get("email"), 80) or lead_id
    company = _field(contact.get("company"), 60)
    demo = _mapping(lead.get("demo"))
    scenario = _field(demo.get("scenarioTitle") or demo.get("scenarioId"), TITLE_CHARS)
    heading = f"New {tier} lead" if submissions == 1 else f"Returning {tier} lead (submission {submissions})"
    subject = _subject(
        f"[{PRODUCT}] {heading}:", who, f"({company})" if company else "", f"- {scenario}" if scenario else ""
    )

    def build(budget: int) -> EmailMessage:
        doc = _Document.start(
            f"{heading}: {who}", "A prospect left their details on the demo. Reply to this email to reach them."
        )
        _notification_body(doc, lead, tier=tier, scenario=scenario, budget=budget)
        text, page = doc.render(f"{PRODUCT} lead desk · {lead_id}")
        return EmailMessage(
            to=recipients,
            subject=subject,
            text=text,
            html=page,
            reply_to=contact.get("email") or None,
            tags={"kind": "lead-notification", "lead": lead_id},
            correlation_id=correlation_id,
            idempotency_key=f"lead-notification:{lead_id}:{submissions}",
        )

    return _fit(build, start=MESSAGE_CHARS)


def _notification_body(
    doc: _Document, lead: Mapping[str, Any], *, tier: str, scenario: str | None, budget: int
) -> None:
    """The notification's sections; `budget` bounds the message and, through it, every other free-text field."""
    contact, demo = _mapping(lead.get("contact")), _mapping(lead.get("demo"))
    interest, attribution = _mapping(lead.get("interest")), _mapping(lead.get("attribution"))
    limit = max(60, min(FIELD_CHARS, budget // 10))

    def field(value: Any) -> str | None:
        return _field(value, limit)

    basis = "the finalized demo session" if _mapping(lead.get("scoring")).get("basis") == "session" else "its details"
    doc.table(
        "Score",
        [
            ("Score", f"{_plain_number(_number(lead.get('score'), 100) or 0)} / 100"),
            ("Tier", session_scoring.score_label(tier)),
            ("Scored from", basis),
        ],
    )
    doc.table("Contact", [(label, field(contact.get(name))) for name, label in _CONTACT_LABELS])
    seconds = _number(demo.get("sessionDurationSeconds"), 86_400)
    doc.table(
        "Demo",
        [
            ("Scenario", scenario),
            ("Session", field(demo.get("sessionId"))),
            ("Duration", _duration(seconds) if seconds is not None else None),
            ("Tools used", _list(demo.get("toolsInvoked"), limit)),
            (
                "Beats completed",
                _beats(_number(demo.get("beatsCompleted"), 1000), _number(demo.get("totalBeats"), 1000)),
            ),
            ("Reached results", {True: "yes", False: "no"}.get(demo.get("reachedResults"))),
            ("Scenarios tried", _list(lead.get("scenarios"), limit)),
        ],
    )
    doc.table("Interest", [(label, field(interest.get(name))) for name, label in _INTEREST_LABELS])
    doc.block("Message", clean_block(interest.get("message"), budget))
    doc.table(
        "Attribution",
        [
            *((label, field(attribution.get(name))) for name, label in _ATTRIBUTION_LABELS),
            ("All sources", _list(lead.get("sources"), limit)),
        ],
    )
    events = [event for event in lead.get("timeline") or [] if isinstance(event, Mapping)]
    shown = events[: max(3, min(MAX_NOTIFICATION_EVENTS, budget // 250))]
    doc.table("What happened in the demo", [(_field(e.get("timestamp"), 40) or "-", _event_text(e)) for e in shown])
    doc.table(
        "Lead",
        [
            ("Lead id", str(lead["leadId"])),
            ("Status", field(lead.get("status"))),
            ("First seen", field(lead.get("createdAt"))),
            ("Submissions", str(int(lead.get("submissionCount") or 1))),
        ],
    )


_CONTACT_LABELS = (("name", "Name"), ("email", "Email"), ("company", "Company"), ("role", "Role"), ("phone", "Phone"))
_INTEREST_LABELS = (
    ("primaryInterest", "Primary interest"),
    ("currentSystem", "Current system"),
    ("implementationTimeline", "Timeline"),
    ("companySize", "Company size"),
)
_ATTRIBUTION_LABELS = (
    ("source", "Source"),
    ("sourcePath", "Page"),
    ("referrer", "Referrer"),
    ("utmSource", "UTM source"),
    ("utmMedium", "UTM medium"),
    ("utmCampaign", "UTM campaign"),
)


def _beats(completed: float | None, total: float | None) -> str | None:
    return f"{_plain_number(completed)} of {_plain_number(total)}" if completed is not None and total else None


def _event_text(event: Mapping[str, Any]) -> str:
    title = _field(event.get("title"), 200) or ""
    description = _field(event.get("description"), 300)
    return f"{title} - {description}" if description else title


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# ---------------------------------------------------------------------------------------------------------
# Prospect emails

_PROSPECT_FOOTER = (
    f"You asked for this email on the {PRODUCT} demo. We send it once, to this address only; "
    "reply if you have questions."
)


def session_summary(to: str, summary: Mapping[str, Any], *, correlation_id: str | None = None) -> EmailMessage:
    """The prospect's demo summary (a sendSessionSummary body): impact metrics and the bounded transcript."""
    recipient = _recipient(to)
    title = _field(summary.get("scenarioTitle"), TITLE_CHARS) or "your demo"
    tools = _number(summary.get("toolsExecuted"), METRIC_BOUNDS["toolsExecuted"])
    systems = _number(summary.get("systemsUpdated"), METRIC_BOUNDS["systemsUpdated"])
    saved = _number(summary.get("timeSaved"), METRIC_BOUNDS["timeSaved"])
    millis = _number(summary.get("sessionDuration"), METRIC_BOUNDS["sessionDuration"])
    metrics = [
        ("Scenario", title),
        ("Session length", _duration(millis / 1000) if millis is not None else None),
        ("Tools executed", _plain_number(tools) if tools is not None else None),
        ("Systems updated", _plain_number(systems) if systems is not None else None),
        ("Estimated time saved", f"{_plain_number(saved)} minutes" if saved is not None else None),
    ]
    key = f"session-summary:{_digest('session-summary', recipient.lower(), dict(summary))}"

    def build(budget: int) -> EmailMessage:
        doc = _Document.start(f"Your {PRODUCT} demo: {title}", "Thank you for trying the demo. Here is what happened.")
        doc.table("Impact", metrics)
        doc.transcript(bound_transcript(summary.get("transcript"), max_chars=budget))
        return _to_prospect(
            doc,
            recipient,
            _subject(f"Your {PRODUCT} demo summary:", title),
            kind="session-summary",
            correlation_id=correlation_id,
            idempotency_key=key,
        )

    return _fit(build)


def transcript_email(
    to: str, transcript: Any, *, scenario_title: str | None = None, correlation_id: str | None = None
) -> EmailMessage:
    """The prospect's demo transcript alone (a sendTranscriptEmail body), bounded."""
    recipient = _recipient(to)
    title = _field(scenario_title, TITLE_CHARS)
    key = f"transcript:{_digest('transcript', recipient.lower(), title, transcript)}"

    def build(budget: int) -> EmailMessage:
        heading = f"Your {PRODUCT} demo transcript" + (f": {title}" if title else "")
        doc = _Document.start(heading, "Here is the conversation from your demo.")
        doc.transcript(bound_transcript(transcript, max_chars=budget))
        return _to_prospect(
            doc, recipient, _subject(heading), kind="transcript", correlation_id=correlation_id, idempotency_key=key
        )

    return _fit(build)
