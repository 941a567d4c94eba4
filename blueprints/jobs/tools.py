"""Tool approvals decided on the exceptions desk: the approved tool runs, a rejection is journaled."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import queue_job
from shared.platform.store.registry import TOOL_APPROVALS_QUEUE

bp = func.Blueprint()


@queue_job(bp, TOOL_APPROVALS_QUEUE, message="shared.tools.models:ApprovalDecisionMessage")
def decide_tool_approval(message) -> str:
    """Apply one approval decision to its journal item (a repeat changes nothing)."""
    from shared.tools import service as tools

    return tools.decide_approval(message)
