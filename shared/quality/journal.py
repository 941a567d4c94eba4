"""The tool journal the evaluator judges: the session's tool executions, as the tool domain journals them.

Each execution is one journal item (`shared/tools/journal.py`): tool name, status, idempotency key,
start time and latency, which the evaluator reads as toolName, status, idempotencyKey, startedAt and
durationMs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def tool_journal(session: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool-journal entries of a stored session (one single-partition query)."""
    from shared.tools import journal

    entries = []
    for item in journal.for_session(session["tenantId"], session["id"]):
        entry = journal.view(item)
        if entry.get("latencyMs") is not None:
            entry["durationMs"] = entry["latencyMs"]
        entries.append(entry)
    return entries
