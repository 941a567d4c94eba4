"""Repeat submissions: the same email in the same tenant within 24 hours updates one lead instead of adding one.

A submission is a repeat of a stored lead when the tenant and the email key (the normalized address in lower
case) match and it arrives at most MERGE_WINDOW after the lead's latest submission (`lastSubmittedAt`): a
prospect who comes back the next morning is still the same conversation, one who returns a week later is a
new lead. A submission whose time is before the latest one was made at the same moment (a concurrent writer
merged first) or on a skewed clock: within MERGE_WINDOW it is a repeat too, and `lastSubmittedAt` never moves
back. `merge_submission` folds it in, as a pure function returning a new document:

* contact and interest: a non-empty incoming value replaces the stored one (people correct typos, add a
  phone); nothing is ever erased by a blank field;
* attribution stays the first touch; every distinct UTM triple is kept in `utmTouches`, every source in
  `sources`, every scenario tried in `scenarios` (first-seen order);
* demo: the same scenario updates field by field (tools united, the longest duration and most beats kept,
  reachedResults once true stays true); another scenario replaces it (the latest demo); the timeline follows
  the latest submission that has one, or is emptied with the demo it described;
* history gets one entry ({event, at, kind, source, scenarioId, sessionId, utm, changed}), `submissionCount`
  counts every submission; status, CRM ids and createdAt are untouched; the caller rescores the result
  (`shared.leads.scoring.scored`) because the signals changed.

Every list is capped (CAPS); the history keeps its first entry and the latest ones.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from shared.leads import documents
from shared.platform import clock

MERGE_WINDOW = timedelta(hours=24)
MAX_SOURCES = 20
MAX_SCENARIOS = 50
MAX_UTM_TOUCHES = 20
MAX_HISTORY = 50

_MERGEABLE_BLOCKS = ("contact", "interest")


def within_window(lead: Mapping[str, Any], now: str) -> bool:
    """Whether `now` is within MERGE_WINDOW of the lead's latest submission (before it: a concurrent one)."""
    try:
        last = clock.parse_iso(str(lead.get("lastSubmittedAt") or lead.get("createdAt") or ""))
        moment = clock.parse_iso(now)
    except ValueError:
        return False
    return abs(moment - last) <= MERGE_WINDOW


def is_repeat(lead: Mapping[str, Any], *, tenant_id: str, email: str, now: str) -> bool:
    """Whether a submission from `email` in `tenant_id` at `now` merges into `lead`."""
    return (
        lead.get("tenantId") == tenant_id
        and lead.get("emailKey") == documents.email_key(email)
        and within_window(lead, now)
    )


def _union(existing: Any, additions: list[Any], cap: int) -> list[Any]:
    merged = [item for item in existing if item] if isinstance(existing, list) else []
    for item in additions:
        if item and item not in merged and len(merged) < cap:
            merged.append(item)
    return merged


def _merge_fields(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    merged = dict(stored)
    changed = []
    for name, value in incoming.items():
        if value not in (None, "", []) and merged.get(name) != value:
            merged[name] = value
            changed.append(name)
    return merged, changed


def _larger(first: Any, second: Any) -> Any:
    numbers = [value for value in (first, second) if isinstance(value, int | float) and not isinstance(value, bool)]
    return max(numbers) if numbers else None


def merge_demo(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """The demo block after a submission: same scenario → field by field, another scenario → the new demo."""
    if not incoming:
        return dict(stored)
    if incoming.get("scenarioId") and stored.get("scenarioId") and incoming["scenarioId"] != stored["scenarioId"]:
        return copy.deepcopy(dict(incoming))
    merged, _ = _merge_fields(stored, incoming)
    for name in ("sessionDurationSeconds", "beatsCompleted", "totalBeats"):
        if (value := _larger(stored.get(name), incoming.get(name))) is not None:
            merged[name] = value
    tools = _union(stored.get("toolsInvoked"), list(incoming.get("toolsInvoked") or []), documents.MAX_TOOLS)
    if tools:
        merged["toolsInvoked"] = tools
    if "reachedResults" in stored or "reachedResults" in incoming:
        merged["reachedResults"] = bool(stored.get("reachedResults")) or bool(incoming.get("reachedResults"))
    return merged


def _capped_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(history) <= MAX_HISTORY:
        return history
    # The first entry says how the lead began; the rest are the most recent submissions.
    return [history[0], *history[-(MAX_HISTORY - 1) :]]


def merge_submission(lead: Mapping[str, Any], submission: Mapping[str, Any], *, now: str) -> dict[str, Any]:
    """The lead with `submission` folded in (a new dict; `lead` is not modified)."""
    merged = copy.deepcopy(dict(lead))
    changed: list[str] = []
    for block in _MERGEABLE_BLOCKS:
        merged[block], block_changed = _merge_fields(merged.get(block) or {}, submission.get(block) or {})
        changed += [f"{block}.{name}" for name in block_changed]

    attribution = submission.get("attribution") or {}
    if not merged.get("attribution"):
        merged["attribution"] = dict(attribution)
    merged["sources"] = _union(merged.get("sources"), [submission.get("source")], MAX_SOURCES)
    utm = documents.utm_of(attribution)
    merged["utmTouches"] = _union(merged.get("utmTouches"), [utm] if utm else [], MAX_UTM_TOUCHES)

    demo = submission.get("demo") or {}
    stored_scenario = (merged.get("demo") or {}).get("scenarioId")
    merged["demo"] = merge_demo(merged.get("demo") or {}, demo)
    merged["scenarios"] = _union(merged.get("scenarios"), [demo.get("scenarioId")], MAX_SCENARIOS)
    if submission.get("timeline") or merged["demo"].get("scenarioId") != stored_scenario:
        # The timeline belongs to the demo block: it follows a new scenario even when the new one has none yet.
        merged["timeline"] = copy.deepcopy(list(submission.get("timeline") or []))

    history = [*(merged.get("history") or []), documents.history_entry("merged", submission, at=now, changed=changed)]
    merged["history"] = _capped_history(history)
    merged["submissionCount"] = int(merged.get("submissionCount") or 1) + 1
    merged["lastSubmittedAt"] = max(now, str(merged.get("lastSubmittedAt") or now))
    merged["updatedAt"] = max(now, str(merged.get("updatedAt") or now))
    return merged
