"""Call state: phase, persona, steps, handoffs, escalation and metrics of a live session.

The call state lives on the session's handle (partition = session id), created with the session, so
reading it is the point read that proves access and a change is that read plus one ETag write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.catalog import content
from shared.platform import clock
from shared.platform.errors import BadRequest
from shared.platform.store.repository import Document
from shared.sessions import aggregate
from shared.sessions.access import SessionGrant

if TYPE_CHECKING:
    from shared.sessions.models import StatePatch

PHASES = ("greeting", "qualification", "data_capture", "action", "handoff", "closure")
STATE_FIELDS = (
    "sessionId",
    "workflowId",
    "workflowDefinitionId",
    "workflowRouting",
    "currentPhase",
    "currentPersonaId",
    "completedSteps",
    "pendingSteps",
    "nextPersonaId",
    "handoffContext",
    "escalationReason",
    "escalationTimestamp",
    "metrics",
    "createdAt",
    "updatedAt",
)


def _view(doc: Document) -> dict[str, Any]:
    return {name: doc[name] for name in STATE_FIELDS if name in doc}


def initial_state(
    scenario: dict[str, Any],
    persona: dict[str, Any] | None,
    *,
    now: str,
    published: dict[str, Any] | None = None,
) -> Document:
    """The call state a session starts with: its persona and that persona's workflow.

    A session started for a fast-start profile runs the profile's published workflow (`published`: its id,
    definition id and steps, from `shared.onboarding.service.published_workflow`) instead.
    """
    workflow_id = persona["runtime"]["workflowProfileId"] if persona else "service-intake"
    workflow = content.workflows().get(workflow_id, {})
    definition_id = f"{workflow_id}/standard/v1"
    pending = [f"capture_{field}" for field in workflow.get("requiredFields", [])]
    reason = "default routing for a demo session"
    if published:
        workflow_id, definition_id, pending = published["id"], published["definitionId"], list(published["steps"])
        reason = "the practice's published workflow"
    return {
        "workflowId": workflow_id,
        "workflowDefinitionId": definition_id,
        "workflowRouting": {
            "tag": "standard",
            "reason": reason,
            "businessHoursOpen": True,
        },
        "currentPhase": "greeting",
        "currentPersonaId": persona["id"] if persona else "",
        "completedSteps": [],
        "pendingSteps": pending,
        "metrics": {
            "totalToolCallsAttempted": 0,
            "successfulToolCalls": 0,
            "failedToolCalls": 0,
            "avgToolDurationMs": 0,
            "dataCapturedness": 0,
        },
        "createdAt": now,
        "updatedAt": now,
    }


def get_state(grant: SessionGrant) -> dict[str, Any]:
    """The session's call state."""
    return _view(aggregate.load_handle(grant))


def _check_phase_move(current: str, target: str) -> None:
    """Phases only move forward (greeting → … → closure); closure ends the call."""
    if PHASES.index(target) < PHASES.index(current):
        raise BadRequest(f"The call cannot go back from {current} to {target}", code="invalid_phase_transition")


def patch_state(grant: SessionGrant, patch: StatePatch) -> dict[str, Any]:
    """Apply a validated change; concurrent patches are all kept (ETag retries re-apply each change)."""
    changes = patch.model_dump(exclude_unset=True)
    loaded = aggregate.load_handle(grant)
    if not changes:
        return _view(loaded)
    for persona_field in ("currentPersonaId", "nextPersonaId"):
        if persona_field in changes and changes[persona_field] not in content.personas():
            raise BadRequest(f"{persona_field}: unknown persona {changes[persona_field]!r}", code="unknown_persona")

    def apply(doc: Document) -> None:
        now = clock.now_iso()
        if "currentPhase" in changes:
            _check_phase_move(doc.get("currentPhase", "greeting"), changes["currentPhase"])
            doc["currentPhase"] = changes["currentPhase"]
        new_persona = changes.get("currentPersonaId")
        if new_persona and new_persona != doc.get("currentPersonaId"):
            doc["handoffContext"] = {
                "fromPersonaId": doc.get("currentPersonaId") or "",
                "toPersonaId": new_persona,
                "summary": f"Hand-off during {doc.get('currentPhase', 'greeting')} after "
                f"{len(doc.get('completedSteps', []))} completed step(s)",
                "keyFacts": list(doc.get("completedSteps", []))[-5:],
                "timestamp": now,
            }
            doc["currentPersonaId"] = new_persona
            if doc.get("nextPersonaId") == new_persona:
                doc.pop("nextPersonaId", None)
        if "nextPersonaId" in changes:
            doc["nextPersonaId"] = changes["nextPersonaId"]
        step = changes.get("completedStep")
        if step and step not in doc.setdefault("completedSteps", []):
            doc["completedSteps"].append(step)
            doc["pendingSteps"] = [pending for pending in doc.get("pendingSteps", []) if pending != step]
        if "pendingSteps" in changes:
            done = set(doc.get("completedSteps", []))
            doc["pendingSteps"] = [s for s in dict.fromkeys(changes["pendingSteps"]) if s not in done]
        if "escalationReason" in changes:
            doc["escalationReason"] = changes["escalationReason"]
            doc["escalationTimestamp"] = now
            doc["currentPhase"] = "handoff"
        total = len(doc.get("completedSteps", [])) + len(doc.get("pendingSteps", []))
        doc["metrics"]["dataCapturedness"] = round(len(doc.get("completedSteps", [])) / total, 3) if total else 0
        doc["updatedAt"] = now

    return _view(aggregate.update_handle(grant.session_id, apply, loaded=loaded))
