"""The server's lead score and tier: deterministic, documented, never the client's.

Two bases, in order:

1. **session** — when the lead names a finalized demo session, its stored results are the score:
   `results.leadScore.score` and `.tier` exactly as the sessions domain computed them from the session's own
   facts (`shared.results.scoring`: engagement + intent + action + tool usage). The lead desk and the results
   screen then agree. Stored results that are malformed are not trusted; the lead's own signals apply.
2. **lead** — otherwise the lead's own signals, four components that sum to 0-100 (each rounded half up once):

   * fit (0-30) = role seniority + company size.
     Seniority (0-15) from `contact.role`: executive / owner / founder / partner (chief, CEO, president,
     managing director, ...) 15; VP, head or director 12; manager, lead, supervisor, administrator 8; any other
     role 4; none 0 (English and Spanish titles; "vice president" is a VP, not a president).
     Company size (0-15) from `interest.companySize` ("51-200", "200+", 40; a range counts its lower bound),
     else a head count in the contact message or primary interest ("a 200-person team", "40 employees",
     "team of 12"): 200+ → 15, 50-199 → 12, 10-49 → 8, 1-9 → 4, unknown 0.
   * engagement (0-30) = 10 × min(demo seconds, 300) / 300 + 10 × beats completed / total beats (or 10 when the
     results screen was reached and beats are unknown) + 5 × min(distinct tools, 3) / 3 + scenarios tried
     beyond the first (2.5 per scenario, at most 5).
   * intent (0-25) = timeline + source.
     Timeline (0-15) from `interest.implementationTimeline`: within 30 days (asap, now, this month, "within
     30 days") 15; within 90 days (next month, this quarter, "1-3 months") 10; within a year 5; later, unsure
     or unknown 0. A range counts its upper bound.
     Source (0-10), the strongest of the lead's sources: contact 10, mid-demo-capture 8, demo-results 6, any
     other 4.
   * reachability (0-15): name 3, company 4, phone 5, a work email (not a free-mail domain) 3.

Tier and label as for sessions: hot ≥ 70, warm ≥ 40, else cold (`shared.results.scoring.tier_for`).
Client-sent `score`, `tier` and `scoreLabel` are never read (documents drop them before they are stored).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.results import scoring as session_scoring

MODEL_VERSION = "lead-score-v1"

FIT_MAX, ENGAGEMENT_MAX, INTENT_MAX, REACHABILITY_MAX = 30, 30, 25, 15

# Fit
SENIORITY_POINTS = {"executive": 15, "vp": 12, "manager": 8, "other": 4}
COMPANY_SIZE_POINTS = ((200, 15), (50, 12), (10, 8), (1, 4))  # (at least this many people, points)
MAX_HEADCOUNT = 10_000_000

# Engagement
DURATION_POINTS, SECONDS_FOR_FULL = 10, 300
BEATS_POINTS = 10
TOOL_POINTS, TOOLS_FOR_FULL = 5, 3
POINTS_PER_EXTRA_SCENARIO, SCENARIO_POINTS_MAX = 2.5, 5

# Intent
TIMELINE_POINTS = ((30, 15), (90, 10), (365, 5))  # (within this many days, points)
SOURCE_POINTS = {"contact": 10, "mid-demo-capture": 8, "demo-results": 6}
OTHER_SOURCE_POINTS = 4

# Reachability
REACH_POINTS = {"name": 3, "company": 4, "phone": 5, "workEmail": 3}
FREE_MAIL_DOMAINS = frozenset(
    {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com"}
    | {"mac.com", "aol.com", "proton.me", "protonmail.com", "pm.me", "mail.com", "gmx.com", "gmx.net", "gmx.de"}
    | {"yahoo.com", "ymail.com", "yandex.com", "yandex.ru", "zoho.com", "qq.com", "163.com", "126.com"}
    | {"hotmail.co.uk", "yahoo.co.uk", "yahoo.es", "hotmail.es", "outlook.es", "web.de", "fastmail.com", "hey.com"}
)  # fmt: skip


def _words(*phrases: str) -> re.Pattern[str]:
    """Whole-word matcher for any of `phrases` (spaces or hyphens between words) over normalized text."""
    alternatives = (re.escape(phrase).replace(r"\ ", r"[\s-]+") for phrase in phrases)
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


_VP = _words("vp", "svp", "evp", "avp", "vice president", "vicepresidente", "vice presidente")
_EXECUTIVE = _words(
    "ceo", "cfo", "coo", "cto", "cio", "cmo", "cro", "cno", "cmio", "chief", "founder", "cofounder", "co founder",
    "owner", "president", "managing director", "managing partner", "partner", "proprietor",
    "general manager", "executive director", "presidente", "fundador", "fundadora", "dueno", "duena",
    "propietario", "propietaria", "socio", "socia", "director general", "directora general",
)  # fmt: skip
_DIRECTOR = _words("head", "director", "directora", "jefe", "jefa")
_MANAGER = _words(
    "manager", "lead", "supervisor", "administrator", "coordinator", "gerente", "coordinador",
    "coordinadora", "administrador", "administradora", "encargado", "encargada",
)  # fmt: skip

_HEADCOUNT_UNITS = (
    r"(?:person|people|employees?|staff|seats?|agents?|users?|providers?|clinicians?|doctors?|physicians?|"
    r"dentists?|lawyers?|attorneys?|accountants?|members?|empleados?|personas?)"
)
_HEADCOUNT = re.compile(r"(\d[\d,.]*)\s*\+?\s*(?:-\s*)?" + _HEADCOUNT_UNITS + r"\b")
_TEAM_OF = re.compile(r"\b(?:team|staff|practice|firm|office|company) of (\d[\d,.]*)\b")
_SIZE_VALUE = re.compile(r"^\D*(\d[\d,.]*)")

_NO_TIMELINE = _words(
    "no timeline", "no plans", "not sure", "unsure", "unknown", "just looking", "just exploring", "just browsing",
    "researching", "someday", "no rush", "undecided", "tbd", "not now", "not yet", "sin prisa", "no se",
    "solo mirando", "todavia no",
)  # fmt: skip
_IMMEDIATE = _words(
    "asap", "as soon as possible", "immediately", "immediate", "right away", "now", "today", "urgent", "urgently",
    "this week", "next week", "this month", "lo antes posible", "inmediato", "inmediatamente", "urgente",
    "esta semana", "este mes",
)  # fmt: skip
_NAMED_PERIODS = (
    (_words("next month", "proximo mes", "el mes que viene"), 60),
    (_words("this quarter", "next quarter", "este trimestre", "proximo trimestre"), 90),
    (_words("this year", "next six months", "next 6 months", "este ano", "six months", "half a year"), 365),
    (_words("next year", "el proximo ano", "el ano que viene"), 730),
)
_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)(?:\s*(?:-|to|a|–)\s*(\d+(?:\.\d+)?))?\s*"
    r"(days?|weeks?|months?|years?|dias?|semanas?|mes|meses|anos?)\b"
)
_UNIT_DAYS = {"day": 1, "dia": 1, "week": 7, "semana": 7, "month": 30, "mes": 30, "year": 365, "ano": 365}


@dataclass(frozen=True, slots=True)
class LeadScore:
    """The server's score of one lead, and how it was reached."""

    score: int
    tier: str
    basis: str  # "session" or "lead"
    breakdown: dict[str, int] = field(default_factory=dict)
    session_id: str | None = None

    @property
    def label(self) -> str:
        """The human label of the tier, e.g. "Hot lead"."""
        return session_scoring.score_label(self.tier)

    def fields(self) -> dict[str, Any]:
        """The lead document's score fields: the contract's score/tier/scoreLabel plus the `scoring` record."""
        scoring: dict[str, Any] = {"basis": self.basis, "model": MODEL_VERSION, "breakdown": dict(self.breakdown)}
        if self.session_id:
            scoring["sessionId"] = self.session_id
        return {"score": self.score, "tier": self.tier, "scoreLabel": self.label, "scoring": scoring}


def _half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return session_scoring.normalize_text(value) if isinstance(value, str) else ""


def seniority(role: Any) -> str | None:
    """executive / vp / manager / other for a job title; None when there is none."""
    text = _text(role).strip()
    if not text:
        return None
    # Order matters: "vice president" before president, "managing director" before director.
    if _VP.search(text):
        return "vp"
    if _EXECUTIVE.search(text):
        return "executive"
    if _DIRECTOR.search(text):
        return "vp"
    if _MANAGER.search(text):
        return "manager"
    return "other"


def _count(digits: str) -> int | None:
    cleaned = re.sub(r"[,.](?=\d{3}\b)", "", digits).rstrip(",.")
    try:
        value = int(float(cleaned.replace(",", "")))
    except ValueError:
        return None
    return value if 0 < value <= MAX_HEADCOUNT else None


def headcount(interest: Mapping[str, Any]) -> int | None:
    """The company's head count: `companySize` (a range counts its lower bound), else one named in free text."""
    size = interest.get("companySize")
    if (number := _number(size)) is not None:
        return _count(str(int(number))) if number >= 1 else None
    if isinstance(size, str) and (match := _SIZE_VALUE.match(_text(size))):
        return _count(match.group(1))
    for name in ("message", "primaryInterest"):
        text = _text(interest.get(name))
        if match := _HEADCOUNT.search(text) or _TEAM_OF.search(text):
            return _count(match.group(1))
    return None


def timeline_days(value: Any) -> int | None:
    """Days until the prospect means to start, read from a free-text timeline; None when open-ended or unknown."""
    text = _text(value)
    if not text.strip() or _NO_TIMELINE.search(text):
        return None
    if match := _DURATION.search(text):
        amount = float(match.group(2) or match.group(1))
        unit = match.group(3)
        unit = unit[:-1] if unit.endswith("s") and unit[:-1] in _UNIT_DAYS else unit
        unit = "mes" if unit == "meses" else unit
        return math.ceil(amount * _UNIT_DAYS.get(unit, 30))
    # A named period wins over a loose "now" ("right now we use X; next year maybe").
    for pattern, days in _NAMED_PERIODS:
        if pattern.search(text):
            return days
    return 0 if _IMMEDIATE.search(text) else None


def _is_work_email(email: Any) -> bool:
    domain = email.rpartition("@")[2].lower() if isinstance(email, str) and "@" in email else ""
    return bool(domain) and domain not in FREE_MAIL_DOMAINS


def fit_points(lead: Mapping[str, Any]) -> int:
    """Role seniority (0-15) + company size (0-15)."""
    contact, interest = _mapping(lead.get("contact")), _mapping(lead.get("interest"))
    role_points = SENIORITY_POINTS.get(seniority(contact.get("role")) or "", 0)
    people = headcount(interest)
    size_points = next((points for minimum, points in COMPANY_SIZE_POINTS if people and people >= minimum), 0)
    return min(FIT_MAX, role_points + size_points)


def _distinct(items: Any) -> int:
    return len({item for item in items if isinstance(item, str) and item}) if isinstance(items, list) else 0


def engagement_points(lead: Mapping[str, Any]) -> int:
    """Demo time (0-10) + beats (0-10) + tools (0-5) + further scenarios tried (0-5)."""
    demo = _mapping(lead.get("demo"))
    seconds = max(0.0, _number(demo.get("sessionDurationSeconds")) or 0.0)
    duration = DURATION_POINTS * min(seconds, SECONDS_FOR_FULL) / SECONDS_FOR_FULL
    completed, total = _number(demo.get("beatsCompleted")), _number(demo.get("totalBeats"))
    if total and total > 0 and completed is not None:
        beats = BEATS_POINTS * min(1.0, max(0.0, completed) / total)
    else:
        beats = BEATS_POINTS if demo.get("reachedResults") is True else 0.0
    tools = TOOL_POINTS * min(_distinct(demo.get("toolsInvoked")), TOOLS_FOR_FULL) / TOOLS_FOR_FULL
    scenarios = set(lead.get("scenarios") or []) | ({demo["scenarioId"]} if demo.get("scenarioId") else set())
    extra = min(SCENARIO_POINTS_MAX, POINTS_PER_EXTRA_SCENARIO * max(0, len(scenarios) - 1))
    return min(ENGAGEMENT_MAX, _half_up(duration + beats + tools + extra))


def source_points(sources: Iterable[Any]) -> int:
    """The strongest source of a lead (contact 10, mid-demo-capture 8, demo-results 6, other 4, none 0)."""
    points = [SOURCE_POINTS.get(source, OTHER_SOURCE_POINTS) for source in sources if isinstance(source, str)]
    return max(points, default=0)


def intent_points(lead: Mapping[str, Any]) -> int:
    """Timeline (0-15) + source (0-10)."""
    days = timeline_days(_mapping(lead.get("interest")).get("implementationTimeline"))
    timeline = next((points for limit, points in TIMELINE_POINTS if days is not None and days <= limit), 0)
    sources = list(lead.get("sources") or []) or [_mapping(lead.get("attribution")).get("source")]
    return min(INTENT_MAX, timeline + source_points(sources))


def reachability_points(lead: Mapping[str, Any]) -> int:
    """Name 3, company 4, phone 5, work email 3."""
    contact = _mapping(lead.get("contact"))
    points = sum(REACH_POINTS[name] for name in ("name", "company", "phone") if _text(contact.get(name)).strip())
    if _is_work_email(contact.get("email")):
        points += REACH_POINTS["workEmail"]
    return min(REACHABILITY_MAX, points)


def score_from_signals(lead: Mapping[str, Any]) -> LeadScore:
    """The lead's own score (basis "lead") from its contact, interest, demo and sources."""
    breakdown = {
        "fit": fit_points(lead),
        "engagement": engagement_points(lead),
        "intent": intent_points(lead),
        "reachability": reachability_points(lead),
    }
    score = sum(breakdown.values())
    return LeadScore(score=score, tier=session_scoring.tier_for(score), basis="lead", breakdown=breakdown)


def score_from_session(session: Mapping[str, Any] | None) -> LeadScore | None:
    """The stored results' lead score of a finalized session (basis "session"); None when there is none."""
    results = _mapping(_mapping(session).get("results"))
    stored = _mapping(results.get("leadScore"))
    score = _number(stored.get("score"))
    if score is None or not 0 <= score <= 100:
        return None
    tier = stored.get("tier")
    if tier not in session_scoring.TIER_LABELS:
        tier = session_scoring.tier_for(score)
    breakdown = {
        name: _half_up(points)
        for name, value in _mapping(stored.get("breakdown")).items()
        if isinstance(name, str) and (points := _number(value)) is not None
    }
    session_id = _mapping(session).get("id")
    return LeadScore(
        score=_half_up(score),
        tier=str(tier),
        basis="session",
        breakdown=breakdown,
        session_id=session_id if isinstance(session_id, str) else None,
    )


def score_lead(lead: Mapping[str, Any], *, session: Mapping[str, Any] | None = None) -> LeadScore:
    """The server's score of `lead`: the session's stored results when there are any, else the lead's signals."""
    return score_from_session(session) or score_from_signals(lead)


def scored(lead: Mapping[str, Any], *, session: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of the lead document with score, tier, scoreLabel and the `scoring` record set by the server."""
    return {**lead, **score_lead(lead, session=session).fields()}
