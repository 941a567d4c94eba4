"""Workflows of fast-start profiles: the draft, publishing immutable versions, and triggering executions.

Storage (`workflows`, partition = tenantId): a profile's **draft** (`<profileId>:draft`: nodes, edges,
the vocabulary it was saved under, its content hash and a `revision`) and its **published versions**
(`<profileId>:v<N>`, written once, never changed). The profile (owned by `shared.onboarding`) points at
the current version (`publishedWorkflowId`, `publishedWorkflowVersion`) and carries a copy of its graph
(`workflow`), so the persona runtime and new sessions read one document.

- **Draft saves** are validated (`graph.validate`, every problem named: 400 `invalid_workflow`) and
  optimistic: the draft's `revision` is its ETag; a save names the revision it replaces by `If-Match`
  (or a body `revision`), and a stale one is a 409 `stale_draft`. Two saves of the same revision race
  on the stored document's own ETag, so exactly one wins and the other is a 409. The first save (no
  draft yet) may name revision 0 or nothing; two first saves at once also give one 409.
- **Publish** re-validates the draft under the current vocabulary and checks what the graph needs from
  the practice now (a connected connector for each connector kind its tool calls use, an escalation
  email or webhook for hand-offs, a booking link for bookings): 400 `invalid_workflow` naming each
  problem. Publishing the published content again changes nothing; otherwise version N+1 is created
  (a concurrent publish of the same N loses with a 409) and the profile is pointed at it.
- **Reading**: `GET …/{profileId}` answers the draft (status `draft`) while it differs from the
  published version, else the published version (status `published`), else an empty draft; with
  `?version=N` (an extension of the contract's operation) version N, `archived` when a later one is
  published. The ETag is always the draft's revision (`"0"` before the first save).
- **Trigger** runs an action of the published workflow — `run` (from the start node) or the id of one
  of its intake, tool call, handoff or booking nodes (from there) — for a profile, or for a session
  (its extracted data and contact feed the run; a session started for a profile names it). The request
  stores the execution (`workflow_executions`, status `queued`) and queues it on `workflow-executions`;
  the job runs it (`shared.workflows.engine`), journaling each step as an item of its own.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from shared.audit import service as audit
from shared.onboarding import service as onboarding
from shared.platform import clock
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, Conflict, NotFound, PreconditionFailed, ServiceError, ValidationFailed
from shared.platform.store.repository import Document
from shared.workflow_graphs import graph, vocabulary
from shared.workflows.repository import ExecutionRepository, WorkflowRepository, draft_id, version_id

if TYPE_CHECKING:
    from shared.platform.principal import Principal
    from shared.workflows.models import DraftBody, TriggerBody

logger = logging.getLogger("tellgence.workflows")

TARGET_TYPE = "workflow"
RUN_ACTION = "run"
EXECUTION_TTL_SECONDS = 90 * 24 * 60 * 60

workflows = WorkflowRepository()
executions = ExecutionRepository()


class StaleDraft(Conflict):
    """The draft changed since the caller read it."""

    code = "stale_draft"
    default_message = "The workflow draft was saved by someone else; read it again and reapply your change"


def _invalid(problems: list[str], *, publishing: bool = False) -> ValidationFailed:
    what = "The draft cannot be published" if publishing else "The workflow is not valid"
    shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
    return ValidationFailed(f"{what}: {shown}", code="invalid_workflow", fields={"details": problems[:100]})


def draft_etag(draft: Document | None) -> str:
    """The ETag of a profile's draft: its revision (0 before the first save)."""
    return f'"{int((draft or {}).get("revision") or 0)}"'


def expected_revision(if_match: str | None, body_revision: int | None) -> int | None:
    """The draft revision a save names by If-Match (`"3"`) and/or `revision`; None when it names none."""
    from_header = None
    if if_match is not None and if_match.strip():
        text = if_match.strip().removeprefix("W/").strip().strip('"')
        if not text.isdigit() or len(text) > 10:
            raise BadRequest('If-Match must be the draft\'s ETag, e.g. "3"', code="invalid_if_match")
        from_header = int(text)
    if from_header is not None and body_revision is not None and from_header != body_revision:
        raise BadRequest("If-Match and revision name different revisions", code="invalid_if_match")
    return from_header if from_header is not None else body_revision


def _draft_view(profile: Document, draft: Document | None) -> dict[str, Any]:
    if draft is None:
        return {
            "id": draft_id(profile["id"]),
            "profileId": profile["id"],
            "status": "draft",
            "nodes": [],
            "edges": [],
            "updatedAt": profile["createdAt"],
        }
    return {
        "id": draft["id"],
        "profileId": profile["id"],
        "status": "draft",
        "nodes": draft["nodes"],
        "edges": draft["edges"],
        "updatedAt": draft["updatedAt"],
    }


def _published_view(profile_id: str, item: Document, current_version: int) -> dict[str, Any]:
    return {
        "id": version_id(profile_id, int(item["version"])),
        "profileId": profile_id,
        "status": "published" if int(item["version"]) == current_version else "archived",
        "nodes": item["nodes"],
        "edges": item["edges"],
        "updatedAt": item["publishedAt"],
        "publishedAt": item["publishedAt"],
    }


def _current_published(profile: Document) -> dict[str, Any]:
    version = int(profile["publishedWorkflowVersion"])
    item = {"version": version, "publishedAt": profile["publishedAt"], **profile["workflow"]}
    return _published_view(profile["id"], item, version)


def workflow_state(
    principal: Principal, profile_id: str, version: int | None = None
) -> tuple[dict[str, Any], str | None]:
    """The draft or published workflow of a profile (or one published version), and the draft's ETag."""
    tenant_id = principal.tenant_id
    profile = onboarding.profile_for_workflows(tenant_id, profile_id)
    current = int(profile.get("publishedWorkflowVersion") or 0)
    if version is not None:
        item = workflows.version(tenant_id, profile_id, version) if version <= current else None
        if item is None:
            raise NotFound("This workflow version does not exist", code="workflow_version_not_found")
        return success(workflow=_published_view(profile_id, item, current)), None
    draft = workflows.draft(tenant_id, profile_id)
    if current and (draft is None or draft.get("contentHash") == profile.get("publishedWorkflowHash")):
        return success(workflow=_current_published(profile)), draft_etag(draft)
    return success(workflow=_draft_view(profile, draft)), draft_etag(draft)


def save_draft(
    principal: Principal, profile_id: str, body: DraftBody, *, if_match: str | None, ip: str | None
) -> tuple[dict[str, Any], str]:
    """Validate and store the whole draft graph with optimistic concurrency (audited)."""
    tenant_id = principal.tenant_id
    expected = expected_revision(if_match, body.revision)
    profile = onboarding.profile_for_workflows(tenant_id, profile_id)
    checked = graph.validate(body.nodes, body.edges)
    if not checked.ok:
        raise _invalid(checked.problems)
    content_hash = graph.content_hash(checked.as_dict())
    draft = workflows.draft(tenant_id, profile_id)
    now = clock.now_iso()
    if draft is None:
        if expected not in (None, 0):
            raise StaleDraft()
        doc: Document = {
            "id": draft_id(profile_id),
            "tenantId": tenant_id,
            "profileId": profile_id,
            "status": "draft",
            "vocabulary": vocabulary.VERSION,
            **checked.as_dict(),
            "contentHash": content_hash,
            "revision": 1,
            "createdAt": now,
            "updatedAt": now,
            "updatedBy": principal.user_id,
        }
        try:
            saved = workflows.create(doc)
        except Conflict as exc:
            raise StaleDraft() from exc
        before_revision, before_nodes, before_edges = 0, 0, 0
    else:
        if expected is None:
            raise BadRequest(
                "Name the draft you are replacing: send If-Match with its ETag (or its revision)",
                code="precondition_required",
            )
        if expected != int(draft.get("revision") or 0):
            raise StaleDraft()
        if draft.get("contentHash") == content_hash and draft.get("vocabulary") == vocabulary.VERSION:
            return success(workflow=_draft_view(profile, draft)), draft_etag(draft)
        before_revision, before_nodes, before_edges = int(draft["revision"]), len(draft["nodes"]), len(draft["edges"])
        candidate = {
            **draft,
            "vocabulary": vocabulary.VERSION,
            **checked.as_dict(),
            "contentHash": content_hash,
            "revision": before_revision + 1,
            "updatedAt": now,
            "updatedBy": principal.user_id,
        }
        try:
            saved = workflows.replace(candidate)
        except (PreconditionFailed, NotFound) as exc:
            raise StaleDraft() from exc
    onboarding.record_draft(tenant_id, profile_id, saved["id"], loaded=profile)
    changes = {"revision": {"from": before_revision, "to": saved["revision"]}}
    if before_nodes != len(saved["nodes"]):
        changes["nodes"] = {"from": before_nodes, "to": len(saved["nodes"])}
    if before_edges != len(saved["edges"]):
        changes["edges"] = {"from": before_edges, "to": len(saved["edges"])}
    audit.record(
        principal,
        "workflow.draft_saved",
        target_type=TARGET_TYPE,
        target_id=saved["id"],
        tenant_id=tenant_id,
        changes=changes,
        ip=ip,
    )
    return success(workflow=_draft_view(profile, saved)), draft_etag(saved)


def readiness_problems(tenant_id: str, profile: Document, checked: graph.Graph) -> list[str]:
    """What the practice lacks today for this graph to run (connectors, escalation route, booking link)."""
    from shared.email.models import is_address

    problems: list[str] = []
    kinds = {
        node["data"]["connector"]
        for node in checked.nodes
        if node["type"] == "tool_call" and "connector" in node["data"]
    }
    if kinds:
        from shared.integrations import connectors

        live = connectors.live_connectors(tenant_id)
        for node in checked.nodes:
            kind = node["data"].get("connector") if node["type"] == "tool_call" else None
            if kind and kind not in live:
                problems.append(f"node {node['id']!r}: no {kind} connector is connected for this practice")
    escalation = str(profile.get("escalationContact") or "")
    can_hand_off = is_address(escalation) or bool((profile.get("webhook") or {}).get("baseUrl"))
    for node in checked.nodes:
        if node["type"] == "handoff" and not can_hand_off:
            problems.append(
                f"node {node['id']!r}: a handoff needs the profile's escalation contact as an email address, "
                "or a webhook"
            )
        if node["type"] == "booking" and not profile.get("bookingLink"):
            problems.append(f"node {node['id']!r}: a booking needs the profile's booking link")
    return problems


def publish(principal: Principal, profile_id: str, *, ip: str | None) -> dict[str, Any]:
    """Freeze the draft as the next immutable version and make it the profile's published workflow."""
    tenant_id = principal.tenant_id
    profile = onboarding.profile_for_workflows(tenant_id, profile_id)
    draft = workflows.draft(tenant_id, profile_id)
    if draft is None:
        raise BadRequest("The profile has no workflow draft to publish; save one first", code="no_draft")
    problems: list[str] = []
    if draft.get("vocabulary") != vocabulary.VERSION:
        problems.append(
            f"the draft was saved under the vocabulary {draft.get('vocabulary')!r}; save it again under "
            f"{vocabulary.VERSION!r}"
        )
    checked = graph.validate(draft.get("nodes"), draft.get("edges"))
    problems.extend(checked.problems)
    if checked.ok:
        problems.extend(readiness_problems(tenant_id, profile, checked))
    if problems:
        raise _invalid(problems, publishing=True)
    current = int(profile.get("publishedWorkflowVersion") or 0)
    content_hash = graph.content_hash(checked.as_dict())
    if current and profile.get("publishedWorkflowHash") == content_hash:
        return success(workflow=_current_published(profile))
    version = current + 1
    now = clock.now_iso()
    item: Document = {
        "id": version_id(profile_id, version),
        "tenantId": tenant_id,
        "profileId": profile_id,
        "status": "published",
        "version": version,
        "vocabulary": vocabulary.VERSION,
        **checked.as_dict(),
        "contentHash": content_hash,
        "draftRevision": draft.get("revision"),
        "publishedAt": now,
        "publishedBy": principal.user_id,
    }
    try:
        workflows.create(item)
    except Conflict as exc:
        raise Conflict("Another publish of this workflow won the race; read it again", code="publish_conflict") from exc
    try:
        onboarding.record_publication(
            tenant_id,
            profile_id,
            version=version,
            workflow_id=item["id"],
            graph=checked.as_dict(),
            content_hash=content_hash,
            published_at=now,
            loaded=profile,
        )
    except ServiceError:
        # Nothing half-done: without the profile pointing at it, the version must not exist.
        workflows.delete(item["id"], tenant_id)
        raise
    audit.record(
        principal,
        "workflow.published",
        target_type=TARGET_TYPE,
        target_id=item["id"],
        tenant_id=tenant_id,
        changes={"publishedWorkflowVersion": {"from": current or None, "to": version}},
        ip=ip,
    )
    return success(workflow=_published_view(profile_id, item, version))


def trigger_actions(workflow: dict[str, Any]) -> list[str]:
    """The actions a published workflow can be triggered with: `run` and the ids of its acting nodes."""
    return [RUN_ACTION, *workflow["steps"]]


def _start_node(workflow: dict[str, Any], action: str) -> str:
    allowed = trigger_actions(workflow)
    if action not in allowed:
        raise BadRequest(
            "Unknown action for this workflow; use one of: " + ", ".join(allowed[:50]),
            code="unknown_action",
            fields={"details": allowed[:50]},
        )
    if action == RUN_ACTION:
        return graph.starts(workflow["graph"]["nodes"], workflow["graph"]["edges"])[0]
    return action


def trigger(principal: Principal, body: TriggerBody, *, correlation_id: str, ip: str | None) -> dict[str, Any]:
    """Queue a run of a published workflow action; answers its executionId (the job journals its steps)."""
    from shared.platform.store import queues
    from shared.platform.store.registry import WORKFLOW_EXECUTIONS_QUEUE
    from shared.sessions import aggregate

    tenant_id = principal.tenant_id
    session = None
    if body.sessionId:
        try:
            session = aggregate.read_live(tenant_id, body.sessionId)
        except NotFound as exc:
            raise BadRequest("No live session of this practice has this id", code="unknown_session") from exc
    bound = (session or {}).get("onboardingProfileId")
    if body.profileId and bound and body.profileId != bound:
        raise BadRequest("The session was started for another profile", code="session_profile_mismatch")
    profile_id = body.profileId or bound
    if not profile_id:
        raise BadRequest("Name the profile (profileId), or a session started for one", code="profile_required")
    try:
        profile = onboarding.profile_for_workflows(tenant_id, profile_id)
    except NotFound as exc:
        raise BadRequest("No onboarding profile of this practice has this id", code="unknown_profile") from exc
    workflow = onboarding.published_workflow(profile)
    if workflow is None:
        raise BadRequest(
            "The profile's workflow is only a draft; publish it before triggering it", code="workflow_not_published"
        )
    start = _start_node(workflow, body.action)
    execution_id = f"wfx_{uuid.uuid4().hex}"
    now = clock.now_iso()
    doc: Document = {
        "id": execution_id,
        "tenantId": tenant_id,
        "executionId": execution_id,
        "profileId": profile_id,
        "workflowId": workflow["id"],
        "workflowVersion": workflow["version"],
        "action": body.action,
        "startNodeId": start,
        "payload": body.payload,
        "status": "queued",
        "stepCount": 0,
        "requestedBy": principal.user_id,
        "createdAt": now,
        "updatedAt": now,
        "ttl": EXECUTION_TTL_SECONDS,
    }
    if session is not None:
        doc["sessionId"] = session["id"]
    executions.create(doc)
    try:
        queues.enqueue(
            WORKFLOW_EXECUTIONS_QUEUE,
            {"tenantId": tenant_id, "executionId": execution_id, "correlationId": correlation_id},
            retries=1,
        )
    except Exception as exc:
        executions.delete(execution_id, tenant_id)
        from shared.platform.errors import ServiceUnavailable

        logger.warning("workflow execution %s not queued: %s", execution_id, type(exc).__name__)
        raise ServiceUnavailable("The workflow queue is unavailable; try again", code="queue_unavailable") from exc
    audit.record(
        principal,
        "workflow.triggered",
        target_type="workflowExecution",
        target_id=execution_id,
        tenant_id=tenant_id,
        changes={
            "action": {"from": None, "to": body.action},
            "workflowVersion": {"from": None, "to": workflow["version"]},
        },
        ip=ip,
    )
    return success(executionId=execution_id)
