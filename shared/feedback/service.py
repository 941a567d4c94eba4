"""Storing feedback: in the proven session's tenant (joined to it by sessionId), else in the demo tenant.

The scenario must be one the catalog knows (a 400 otherwise), so feedback always names a real scenario.
The comment keeps its line breaks; other control characters are dropped. One write per submission.
"""

from __future__ import annotations

from typing import Any

from shared.feedback.models import MAX_COMMENT_CHARS, FeedbackBody
from shared.feedback.repository import FeedbackRepository
from shared.leads import ids
from shared.leads.documents import clean_block
from shared.platform import clock
from shared.platform.envelope import success
from shared.platform.errors import Conflict, ValidationFailed

MAX_ID_ATTEMPTS = 5

feedback = FeedbackRepository()


def submit(
    body: FeedbackBody, *, tenant_id: str, session_id: str | None = None, session: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Store one feedback item; the contract's {success, id}."""
    from shared.catalog import content

    if body.scenarioId not in content.scenarios():
        raise ValidationFailed("body.scenarioId: unknown scenario")
    doc: dict[str, Any] = {
        "tenantId": tenant_id,
        "rating": body.rating,
        "sentiment": "up" if body.rating == 2 else "down",
        "scenarioId": body.scenarioId,
        "createdAt": clock.now_iso(),
    }
    if comment := clean_block(body.comment, MAX_COMMENT_CHARS):
        doc["comment"] = comment
    if session_id is not None:
        doc["sessionId"] = session_id
        if session is not None and isinstance(session.get("scenarioId"), str):
            doc["sessionScenarioId"] = session["scenarioId"]
    for _ in range(MAX_ID_ATTEMPTS):
        feedback_id = ids.new_feedback_id()
        try:
            feedback.create({**doc, "id": feedback_id, "feedbackId": feedback_id})
        except Conflict:
            continue
        return success(id=feedback_id)
    raise Conflict("Could not allocate a feedback id; try again", code="feedback_id_conflict")
