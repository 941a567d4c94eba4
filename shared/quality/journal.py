"""The tool journal the evaluator judges, read through one function so its source can change in one place.

Today a session holds only the names of the tools its call used (`toolsUsed`, stored by finalize), which
`shared.evidence.recorded.tool_executions` turns into journal-shaped entries (each a successful call recorded at
`finalizedAt`). When tool execution keeps its own journal (one item per execution, with status, duration and
idempotency key), this function reads that instead; the evaluator already understands those entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def tool_journal(session: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The tool-journal entries of a stored session."""
    from shared.evidence import recorded

    return recorded.tool_executions(session)
