"""Lead score: how ready a demo prospect is to act, computed by the server from what happened in the session.

The score is server-authoritative: `signals_from_session` reads only observable facts of the finalized session
(transcript, duration, tools, extracted data, interaction summary, booking outcome). A score or tier the client
sent (`leadScore`, `leadTier`) is never read. Same session in, same score out.

Model: four components, each an integer 0-25 (every part below is rounded half-up once per component);
score = engagement + intent + action + toolUsage (0-100).

* engagement = 15 * min(userTurns, 8) / 8 + 10 * min(durationSeconds, 300) / 300
  (user turns = transcript entries with role user and non-empty text; both parts saturate: 8 turns, 5 minutes).
* intent = min(15, 3 * intent groups hit) + contact details given (name 3, email 4, phone 3).
  An intent group is hit when any user turn contains one of its phrases (English or Spanish, accents ignored,
  whole words): pricing, trial, scheduling, commitment, urgency (see INTENT_GROUPS). Contact details come from
  `extractedData` keys (any depth) and `interactionSummary.contact`, counted once each when non-empty.
* action = the largest of: disposition points (booked 25, qualified 20, resolved 15, escalated 12,
  follow_up_required 10), booking points (confirmed / scheduled / completed 25; requested or pending 12) and
  escalation points (an escalation, callback or live transfer was requested: 10) — except that an `abandoned`
  disposition scores 0.
* toolUsage = 25 * min(1, distinct tools used / target), target = max(1, ceil(0.75 * scenario tool count))
  (a demo rarely needs every tool it offers; an unknown scenario counts DEFAULT_SCENARIO_TOOL_COUNT tools).

Tier: hot when score >= HOT_THRESHOLD (70), warm when >= WARM_THRESHOLD (40), otherwise cold.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

COMPONENT_MAX = 25
HOT_THRESHOLD = 70
WARM_THRESHOLD = 40
TIER_LABELS = {"hot": "Hot lead", "warm": "Warm lead", "cold": "Cold lead"}

# Engagement
TURN_POINTS, TURNS_FOR_FULL = 15, 8
DURATION_POINTS, SECONDS_FOR_FULL = 10, 300

# Intent
POINTS_PER_INTENT_GROUP, INTENT_KEYWORD_CAP = 3, 15
CONTACT_POINTS = {"name": 3, "email": 4, "phone": 3}


def _phrases(*phrases: str) -> re.Pattern[str]:
    """A whole-word, accent-free, case-insensitive matcher for any of `phrases`."""
    return re.compile(r"\b(?:" + "|".join(re.escape(phrase).replace(r"\ ", r"\s+") for phrase in phrases) + r")\b")


INTENT_GROUPS: dict[str, re.Pattern[str]] = {
    "pricing": _phrases(
        "price", "prices", "pricing", "priced", "cost", "costs", "quote", "quotes", "how much",
        "precio", "precios", "cuanto cuesta", "cuanto cobran", "costo", "costos", "cotizacion", "tarifa", "tarifas",
    ),
    "trial": _phrases(
        "pilot", "trial", "demo", "demos", "demonstration", "proof of concept",
        "piloto", "prueba", "demostracion",
    ),
    "scheduling": _phrases(
        "book", "booking", "booked", "schedule", "scheduling", "scheduled", "appointment", "appointments",
        "meeting", "set up a call", "agendar", "cita", "citas", "reservar", "programar", "reunion",
    ),
    "commitment": _phrases(
        "sign up", "signup", "sign me up", "contract", "contracts", "purchase", "buy", "get started", "onboard",
        "onboarding", "subscribe", "contrato", "contratar", "comprar", "registrarme", "inscribirme", "suscribirme",
    ),
    "urgency": _phrases(
        "how soon", "asap", "as soon as possible", "right away", "this week", "urgent", "urgently",
        "que tan pronto", "lo antes posible", "cuanto antes", "esta semana", "urgente",
    ),
}  # fmt: skip

# Action
DISPOSITION_POINTS = {
    "booked": 25,
    "qualified": 20,
    "resolved": 15,
    "escalated": 12,
    "follow_up_required": 10,
    "abandoned": 0,
}
BOOKED_POINTS, BOOKING_REQUESTED_POINTS, ESCALATION_POINTS = 25, 12, 10
BOOKED_SUMMARY_STATUSES = frozenset({"scheduled", "completed"})
REQUESTED_SUMMARY_STATUSES = frozenset({"pending", "reschedule_requested", "follow_up_required"})
BOOKED_OUTCOME_STATUSES = frozenset({"confirmed"})
OPEN_OUTCOME_STATUSES = frozenset(
    {"captured", "awaiting_qualification", "availability_found", "slot_selected", "pending_approval"}
    | {"reschedule_requested", "no_show_followup", "exception"}
)

# Tool usage
TOOL_TARGET_SHARE = 0.75
DEFAULT_SCENARIO_TOOL_COUNT = 5

USER_ROLES = frozenset({"user", "caller", "customer", "prospect"})
NAME_KEYS = frozenset(
    {"name", "fullname", "firstname", "lastname", "callername", "contactname", "customername", "clientname"}
    | {"patientname", "displayname", "insuredname", "membername", "ownername", "prospectname", "leadname", "nombre"}
)
EMAIL_MARKERS = ("email", "correo")
PHONE_MARKERS = ("phone", "mobile", "telefono", "callbacknumber", "cellnumber")
_MAX_DEPTH = 6


@dataclass(frozen=True, slots=True)
class LeadSignals:
    """The observable facts a lead score is computed from."""

    user_turns: int = 0
    duration_seconds: float = 0.0
    intent_groups: tuple[str, ...] = ()  # sorted names of INTENT_GROUPS hit
    contact_fields: tuple[str, ...] = ()  # sorted subset of ("email", "name", "phone")
    disposition: str | None = None
    booking: str | None = None  # "booked", "requested" or None
    escalated: bool = False
    distinct_tools: int = 0
    scenario_tool_count: int = DEFAULT_SCENARIO_TOOL_COUNT


def _round(value: float) -> int:
    """Round half up (deterministic, no banker's rounding)."""
    return math.floor(value + 0.5)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return max(0.0, float(value))


def normalize_text(text: str) -> str:
    """Lower case without accents, so "Cuánto" matches "cuanto"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def intent_groups_in(texts: Iterable[str]) -> tuple[str, ...]:
    """The sorted intent groups any of `texts` hits."""
    normalized = [normalize_text(text) for text in texts]
    return tuple(sorted(name for name, pattern in INTENT_GROUPS.items() if any(map(pattern.search, normalized))))


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float) and not isinstance(value, bool)


def _contact_kind(key: str) -> str | None:
    normalized = re.sub(r"[^a-z0-9]", "", normalize_text(key))
    if any(marker in normalized for marker in EMAIL_MARKERS):
        return "email"
    if any(marker in normalized for marker in PHONE_MARKERS):
        return "phone"
    if normalized in NAME_KEYS or normalized.endswith(("fullname", "firstname", "lastname")):
        return "name"
    return None


def _contact_fields(data: Any, found: set[str], depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(data, Mapping):
        for key, value in data.items():
            kind = _contact_kind(str(key))
            if kind and _filled(value):
                found.add(kind)
            elif isinstance(value, Mapping | list):
                _contact_fields(value, found, depth + 1)
    elif isinstance(data, list):
        for item in data:
            _contact_fields(item, found, depth + 1)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _user_texts(transcript: Any) -> list[str]:
    texts = []
    for turn in transcript if isinstance(transcript, list) else []:
        if not isinstance(turn, Mapping) or str(turn.get("role", "")).lower() not in USER_ROLES:
            continue
        text = turn.get("text", turn.get("content"))
        if isinstance(text, str) and text.strip():
            texts.append(text)
    return texts


def _scenario_tool_count(session: Mapping[str, Any], scenario: Mapping[str, Any] | None) -> int:
    if scenario is None:
        from shared.catalog import content

        scenario = content.scenarios().get(str(session.get("scenarioId", "")))
    tools = scenario.get("tools") if scenario else None
    return len(tools) if isinstance(tools, list) and tools else DEFAULT_SCENARIO_TOOL_COUNT


def signals_from_session(session: Mapping[str, Any], *, scenario: Mapping[str, Any] | None = None) -> LeadSignals:
    """The lead signals of a finalized session (finalize payload or stored session shape).

    `scenario` is the catalog scenario; when omitted it is looked up by `session["scenarioId"]`.
    Client-sent `leadScore` / `leadTier` are ignored.
    """
    texts = _user_texts(session.get("transcript"))
    summary = _mapping(session.get("interactionSummary"))

    contacts: set[str] = set()
    _contact_fields(session.get("extractedData"), contacts)
    contact = _mapping(summary.get("contact"))
    for kind, key in (("name", "displayName"), ("email", "email"), ("phone", "phoneNumber")):
        if _filled(contact.get(key)):
            contacts.add(kind)

    disposition = summary.get("disposition")
    booking_summary = _mapping(summary.get("booking"))
    outcome_status = _mapping(session.get("bookingOutcome")).get("status")
    if booking_summary.get("status") in BOOKED_SUMMARY_STATUSES or outcome_status in BOOKED_OUTCOME_STATUSES:
        booking: str | None = "booked"
    elif (
        booking_summary.get("requested") is True
        or booking_summary.get("status") in REQUESTED_SUMMARY_STATUSES
        or outcome_status in OPEN_OUTCOME_STATUSES
    ):
        booking = "requested"
    else:
        booking = None

    escalated = any(_mapping(summary.get(part)).get("requested") is True for part in ("escalation", "telephony"))

    tools = session.get("toolsUsed")
    distinct_tools = len({tool for tool in tools if isinstance(tool, str) and tool}) if isinstance(tools, list) else 0

    return LeadSignals(
        user_turns=len(texts),
        duration_seconds=_number(session.get("duration")),
        intent_groups=intent_groups_in(texts),
        contact_fields=tuple(sorted(contacts)),
        disposition=disposition if isinstance(disposition, str) else None,
        booking=booking,
        escalated=escalated,
        distinct_tools=distinct_tools,
        scenario_tool_count=_scenario_tool_count(session, scenario),
    )


def engagement_points(signals: LeadSignals) -> int:
    turns = TURN_POINTS * min(max(signals.user_turns, 0), TURNS_FOR_FULL) / TURNS_FOR_FULL
    duration = DURATION_POINTS * min(_number(signals.duration_seconds), SECONDS_FOR_FULL) / SECONDS_FOR_FULL
    return min(COMPONENT_MAX, _round(turns + duration))


def intent_points(signals: LeadSignals) -> int:
    keywords = min(INTENT_KEYWORD_CAP, POINTS_PER_INTENT_GROUP * len(set(signals.intent_groups) & set(INTENT_GROUPS)))
    contact = sum(CONTACT_POINTS.get(field, 0) for field in set(signals.contact_fields))
    return min(COMPONENT_MAX, keywords + contact)


def action_points(signals: LeadSignals) -> int:
    if signals.disposition == "abandoned":
        return 0
    booking = {"booked": BOOKED_POINTS, "requested": BOOKING_REQUESTED_POINTS}.get(signals.booking or "", 0)
    escalation = ESCALATION_POINTS if signals.escalated else 0
    return min(COMPONENT_MAX, max(DISPOSITION_POINTS.get(signals.disposition or "", 0), booking, escalation))


def tool_usage_points(signals: LeadSignals) -> int:
    target = max(1, math.ceil(TOOL_TARGET_SHARE * max(signals.scenario_tool_count, 0)))
    return _round(COMPONENT_MAX * min(1.0, max(signals.distinct_tools, 0) / target))


def tier_for(score: float) -> str:
    """hot / warm / cold for a 0-100 score."""
    if score >= HOT_THRESHOLD:
        return "hot"
    return "warm" if score >= WARM_THRESHOLD else "cold"


def score_label(tier: str) -> str:
    """The human label of a tier, e.g. "Hot lead"."""
    return TIER_LABELS.get(tier, TIER_LABELS["cold"])


def lead_score(signals: LeadSignals) -> dict[str, Any]:
    """The contract's leadScore object: {"score", "tier", "breakdown": {engagement, intent, action, toolUsage}}."""
    breakdown = {
        "engagement": engagement_points(signals),
        "intent": intent_points(signals),
        "action": action_points(signals),
        "toolUsage": tool_usage_points(signals),
    }
    score = sum(breakdown.values())
    return {"score": score, "tier": tier_for(score), "breakdown": breakdown}
