"""ROI of a demo session and the systems it updated, computed by the server from the finalized session.

ROI model (all inputs come from the session and its catalog scenario; nothing the client computed is read):

* tasksAutomated = distinct tools used + timeline events whose type is a system write
  (SYSTEM_EVENT_TYPES: system_update, record_created, record_updated; type compared lower-case, "-"/" " as "_").
* manualTimeEstimateMinutes = tasksAutomated * MANUAL_MINUTES_PER_TASK[industry] — what a person would spend on
  the same tasks by hand (looking the caller up, keying the record, booking, confirming, documenting).
* automated minutes = call duration (seconds) / 60.
* timeSavedMinutes = max(0, manual - automated), 1 decimal.
* costSavedUsd = timeSavedMinutes / 60 * hourly rate, to the cent. The rate is HOURLY_RATE_USD[industry]
  (fully loaded staff cost per hour) unless `hourly_rate` overrides it.
* efficiencyPct = timeSaved / manual * 100 (0 when nothing was automated), 1 decimal.
* completionPct = beatsCompleted / totalBeats * 100, clamped to 0-100 (0 without beats), 1 decimal.
* successRatePct = share of attempts without error, 1 decimal: attempts are toolsUsed entries, timeline events
  and integration outcomes; errors are timeline events whose type says error/fail and integration outcomes with
  status failed. No attempts at all gives 0 (nothing was done, so nothing succeeded).
* grade from gradeScore = 0.6 * efficiencyPct + 0.4 * completionPct: A >= 85, B >= 70, C >= 55, D >= 40, else F.

The per-task minutes and hourly rates are demo assumptions (round numbers in the range of published US
front-office and intake staff costs), not benchmarks; they are returned in `assumptions` so the page can show them.
All rounding is half-up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.platform import clock

MANUAL_MINUTES_PER_TASK: dict[str, float] = {
    "insurance": 18,
    "healthcare": 14,
    "legal": 22,
    "accounting": 16,
    "banking": 12,
    "dental": 10,
    "veterinary": 10,
    "sales": 15,
}
DEFAULT_MANUAL_MINUTES_PER_TASK = 15.0

HOURLY_RATE_USD: dict[str, float] = {
    "insurance": 34,  # claims / service representative
    "healthcare": 28,  # medical front-office and intake
    "legal": 45,  # paralegal intake
    "accounting": 38,  # staff accountant / client service
    "banking": 30,  # member-service representative
    "dental": 26,  # dental front desk
    "veterinary": 24,  # veterinary reception
    "sales": 40,  # sales development representative
}
DEFAULT_HOURLY_RATE_USD = 30.0

SYSTEM_EVENT_TYPES = frozenset({"system_update", "record_created", "record_updated"})
ERROR_TYPE_MARKERS = ("error", "fail")
GRADE_WEIGHTS = {"efficiency": 0.6, "completion": 0.4}
GRADE_THRESHOLDS = (("A", 85.0), ("B", 70.0), ("C", 55.0), ("D", 40.0))

# systemsUpdated: tool registry categories (tools.json) and the label each system shows.
CATEGORY_LABELS: dict[str, str] = {
    "crm": "CRM",
    "scheduling": "Scheduling",
    "messaging": "Messaging",
    "handoff": "Contact Center",
    "knowledge": "Knowledge Base",
    "compliance": "Compliance",
    "policy": "Policy Administration",
    "claims": "Claims",
    "ehr": "EHR",
    "billing": "Billing",
    "triage": "Triage",
    "case_management": "Case Management",
    "accounting": "Accounting",
    "banking": "Core Banking",
    "payments": "Payments",
}
# Names a timeline event's `system` may use for one of the categories above.
SYSTEM_ALIASES: dict[str, str] = {
    "calendar": "scheduling",
    "schedule": "scheduling",
    "scheduler": "scheduling",
    "sms": "messaging",
    "email": "messaging",
    "policy_administration": "policy",
    "contact_center": "handoff",
    "knowledge_base": "knowledge",
    "core_banking": "banking",
    "matter": "case_management",
}
OTHER_SYSTEM = ("other", "Other systems")
MAX_KEY_CHANGES = 5
TOOL_ACRONYMS = frozenset({"crm", "ehr", "fnol", "sms", "dme", "kba", "cpap", "id", "ar"})


def _decimal_round(value: float, places: int) -> float:
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return max(0.0, float(value))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _event_type(event: Mapping[str, Any]) -> str:
    return re.sub(r"[\s-]+", "_", str(event.get("type", "")).strip().lower())


def _events(session: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [event for event in _list(session.get("timelineEvents")) if isinstance(event, Mapping)]


def _tools(session: Mapping[str, Any]) -> list[str]:
    return [tool for tool in _list(session.get("toolsUsed")) if isinstance(tool, str) and tool]


def tasks_automated(session: Mapping[str, Any]) -> int:
    """Distinct tools used plus timeline events that wrote to a system."""
    writes = sum(1 for event in _events(session) if _event_type(event) in SYSTEM_EVENT_TYPES)
    return len(set(_tools(session))) + writes


def completion_pct(session: Mapping[str, Any]) -> float:
    """beatsCompleted / totalBeats as a percentage (0-100, 1 decimal)."""
    total = _number(session.get("totalBeats"))
    if total <= 0:
        return 0.0
    return _decimal_round(min(100.0, _number(session.get("beatsCompleted")) / total * 100), 1)


def success_rate_pct(session: Mapping[str, Any]) -> float:
    """Share of tool calls, timeline events and integration outcomes without error (0-100, 1 decimal)."""
    events = _events(session)
    outcomes = [item for item in _list(session.get("integrationOutcomes")) if isinstance(item, Mapping)]
    attempts = len(_tools(session)) + len(events) + len(outcomes)
    if attempts == 0:
        return 0.0
    failures = sum(1 for event in events if any(marker in _event_type(event) for marker in ERROR_TYPE_MARKERS))
    failures += sum(1 for outcome in outcomes if outcome.get("status") == "failed")
    return _decimal_round((attempts - failures) / attempts * 100, 1)


def grade_for(efficiency_pct: float, completion: float) -> str:
    """A-F from 0.6 * efficiency + 0.4 * completion."""
    score = GRADE_WEIGHTS["efficiency"] * efficiency_pct + GRADE_WEIGHTS["completion"] * completion
    for grade, threshold in GRADE_THRESHOLDS:
        if score >= threshold:
            return grade
    return "F"


def _impact_message(tasks: int, automated: float, manual: float, saved: float, cost: float, eff: float) -> str:
    if tasks == 0:
        return "No tasks were automated in this session, so no time or cost was saved."
    noun = "task" if tasks == 1 else "tasks"
    return (
        f"The agent automated {tasks} {noun} in {automated:.1f} min that would take about {manual:.0f} min by hand, "
        f"saving {saved:.1f} min and ${cost:,.2f} ({eff:.0f}% less staff time)."
    )


def roi_breakdown(
    session: Mapping[str, Any], scenario: Mapping[str, Any], *, hourly_rate: float | None = None
) -> dict[str, Any]:
    """The contract's roiBreakdown object for a finalized session of `scenario` (a catalog scenario)."""
    industry = str(scenario.get("industry", "")).lower()
    per_task = float(MANUAL_MINUTES_PER_TASK.get(industry, DEFAULT_MANUAL_MINUTES_PER_TASK))
    if hourly_rate is None:
        rate = float(HOURLY_RATE_USD.get(industry, DEFAULT_HOURLY_RATE_USD))
    elif isinstance(hourly_rate, bool) or not isinstance(hourly_rate, int | float) or not math.isfinite(hourly_rate):
        raise ValueError("hourly_rate must be a finite number")
    elif hourly_rate < 0:
        raise ValueError("hourly_rate must not be negative")
    else:
        rate = float(hourly_rate)

    tasks = tasks_automated(session)
    manual = tasks * per_task
    automated = _number(session.get("duration")) / 60
    saved = _decimal_round(max(0.0, manual - automated), 1)
    cost = _decimal_round(saved / 60 * rate, 2)
    efficiency = _decimal_round(min(100.0, saved / manual * 100), 1) if manual > 0 else 0.0
    completion = completion_pct(session)
    return {
        "timeSavedMinutes": saved,
        "costSavedUsd": cost,
        "efficiencyPct": efficiency,
        "tasksAutomated": tasks,
        "manualTimeEstimateMinutes": _decimal_round(manual, 1),
        "manualHours": _decimal_round(manual / 60, 2),
        "automatedHours": _decimal_round(automated / 60, 2),
        "grade": grade_for(efficiency, completion),
        "completionPct": completion,
        "successRatePct": success_rate_pct(session),
        "impactMessage": _impact_message(tasks, automated, manual, saved, cost, efficiency),
        "assumptions": {"hourlyRate": rate, "manualTimePerTask": per_task},
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _instant(value: Any) -> datetime | None:
    """An ISO 8601 string (naive = UTC) or an epoch number (milliseconds when above 1e11) as an aware datetime."""
    try:
        if isinstance(value, str) and value.strip():
            return clock.parse_iso(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def tool_title(tool_id: str) -> str:
    """A readable title for a tool id: "create_fnol_claim" -> "Create FNOL claim"."""
    words = [word.upper() if word in TOOL_ACRONYMS else word for word in tool_id.split("_") if word]
    if not words:
        return tool_id
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _event_system(raw: Any) -> tuple[str, str]:
    text = raw.strip() if isinstance(raw, str) else ""
    slug = _slug(text)
    if not slug:
        return OTHER_SYSTEM
    category = SYSTEM_ALIASES.get(slug, slug)
    if category in CATEGORY_LABELS:
        return category, CATEGORY_LABELS[category]
    for known, label in CATEGORY_LABELS.items():
        if slug == _slug(label):
            return known, label
    return slug, text


def systems_updated(
    session: Mapping[str, Any], *, now: str, registry: Mapping[str, Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The contract's systemsUpdated items: one per system the session touched.

    Timeline events are grouped by their `system` (names of a registry category or an alias join that category);
    tools used are grouped by their registry `category` (`registry` defaults to the catalog tool registry).
    updates = events + tool uses of the system; lastUpdated = the latest event timestamp (UTC ISO 8601), or `now`
    when none of its events has a readable timestamp; keyChanges = the first MAX_KEY_CHANGES distinct titles,
    event titles in timeline order before tool titles. Items are ordered by updates (most first), then label.
    """
    if registry is None:
        from shared.catalog import content

        registry = content.tools()
    groups: dict[str, dict[str, Any]] = {}

    def group(system: str, label: str) -> dict[str, Any]:
        return groups.setdefault(system, {"label": label, "updates": 0, "latest": None, "titles": []})

    for event in _events(session):
        entry = group(*_event_system(event.get("system")))
        entry["updates"] += 1
        moment = _instant(event.get("timestamp"))
        if moment is not None and (entry["latest"] is None or moment > entry["latest"]):
            entry["latest"] = moment
        title = event.get("title")
        if isinstance(title, str) and title.strip() and title.strip() not in entry["titles"]:
            entry["titles"].append(title.strip())

    for tool in _tools(session):
        category = str((registry.get(tool) or {}).get("category", ""))
        entry = group(category, CATEGORY_LABELS[category]) if category in CATEGORY_LABELS else group(*OTHER_SYSTEM)
        entry["updates"] += 1
        title = tool_title(tool)
        if title not in entry["titles"]:
            entry["titles"].append(title)

    items = [
        {
            "system": system,
            "label": entry["label"],
            "updates": entry["updates"],
            "lastUpdated": clock.iso(entry["latest"]) if entry["latest"] is not None else now,
            "keyChanges": entry["titles"][:MAX_KEY_CHANGES],
        }
        for system, entry in groups.items()
    ]
    return sorted(items, key=lambda item: (-item["updates"], item["label"], item["system"]))
