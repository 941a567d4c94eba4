"""Tool execution: policy, approval, validation, idempotency, bounded retries and the journal.

POST /api/tools/execute, in order:

1. the tool must be in the registry (404 `tool_not_found`); parameters over MAX_PARAMETER_CHARS of JSON
   are 413; they are held to the tool's JSON Schema (400 naming each problem, never a value) unless an
   operator asked to skip (a key holder may not: 403);
2. the idempotency key is the caller's, else sha256 of tool + tenant + session + canonical parameters
   (+ businessKey); the execution id is derived from it (`journal.execution_id`);
3. the tool policy decides (`toolpolicy.service.decision`): denied → a `denied` journal item and 403
   with the reason;
4. a tool the registry marks `requiresApproval` → a `pending_approval` item and an approval exception on
   the desk (id = approvalId) → 202. An operator resolves it (approve) or ignores it (reject) with the
   desk's action; the `exception.resolved` event queues the decision on `tool-approvals`, whose job runs
   the tool with the stored parameters (or records the rejection) in the same journal item;
5. otherwise the item is claimed (created if absent) and the tool runs: a retryable failure is tried
   again after TOOL_RETRY_BASE_DELAY_SECONDS doubled per attempt, at most TOOL_RETRY_MAX_ATTEMPTS times
   and within TOOL_EXECUTION_DEADLINE_SECONDS (`useRetry: false` runs once); the item is finished with
   status, latency, attempts, previews and the result; a succeeded tool joins the session's `toolsUsed`,
   a failed one opens a tool exception for the session; `tool.executed` is published (metrics).

A repeat with the same key answers the stored result (`idempotentReplay: true`) without running the
tool; a repeat while the first is still running waits for it (up to its lease).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from shared.catalog import content
from shared.platform import clock, events
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, NotFound, PayloadTooLarge, ServiceError, ValidationFailed
from shared.platform.settings import get_settings
from shared.platform.store.repository import Document
from shared.tools import journal
from shared.tools.auth import ToolForbidden
from shared.tools.implementations import IMPLEMENTATIONS, Outcome, ToolContext

logger = logging.getLogger("tellgence.tools")

MAX_PARAMETER_CHARS = 16 * 1024
WAIT_POLL_SECONDS = 0.05
APPROVAL_ERROR_TYPE = "tool_approval_required"
FAILURE_ERROR_TYPE = "tool_execution_failed"
APPROVAL_QUEUE_NAME = "exceptions-desk"


def _schema_problems(schema: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """Every way the parameters miss the tool's JSON Schema, named by path (no value is echoed)."""
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    problems = []
    for error in sorted(validator.iter_errors(params), key=lambda e: list(e.absolute_path)):
        path = ".".join(["parameters", *(str(p) for p in error.absolute_path)])
        rule = error.validator
        if rule == "required":
            missing = error.message.split("'")[1] if "'" in error.message else "a field"
            problems.append(f"{path}.{missing}: is required")
        elif rule == "additionalProperties":
            problems.append(f"{path}: has a field the tool does not take")
        elif rule in ("type", "enum", "pattern", "format", "minimum", "maximum", "minLength", "maxLength"):
            problems.append(f"{path}: does not satisfy {rule} {error.validator_value!s}"[:300])
        else:
            problems.append(f"{path}: does not satisfy {rule}")
    return problems[:20]


def _runtime(doc: Document, status: str, correlation_id: str) -> dict[str, Any]:
    runtime = {
        "status": status,
        "executionId": doc["id"],
        "idempotencyKey": doc["idempotencyKey"],
        "correlationId": correlation_id,
    }
    approval = doc.get("approval")
    if isinstance(approval, dict):
        runtime["approvalId"] = approval["id"]
    return runtime


def answer(doc: Document, correlation_id: str, *, replay: bool) -> tuple[int, dict[str, Any]]:
    """The HTTP status and body for a journal item (a first answer or a replay)."""
    status = doc.get("status")
    common = {"toolName": doc["toolName"]}
    if doc.get("callId"):
        common["callId"] = doc["callId"]
    if status == "denied" or status == "rejected":
        raise ToolForbidden(
            doc.get("error") or "Denied by the tool policy",
            tool_name=doc["toolName"],
            runtime=_runtime(doc, "denied", correlation_id),
        )
    if status == "pending_approval":
        approval = doc["approval"]
        return 202, success(
            status="pending_approval",
            message="The tool needs an operator's approval; it runs once approved on the exceptions desk",
            **common,
            result={
                "approvalQueued": True,
                "approvalId": approval["id"],
                "queue": APPROVAL_QUEUE_NAME,
                "deduped": replay,
            },
            runtime=_runtime(doc, "pending_approval", correlation_id),
        )
    ok = status == "succeeded"
    return 200, {
        "success": ok,
        **common,
        "result": doc.get("result") if ok else None,
        "error": None if ok else doc.get("error"),
        "runtime": _runtime(doc, "allowed" if ok else "failed", correlation_id),
        "executionTime": doc.get("latencyMs", 0),
        "retries": doc.get("retries", 0),
        "executionId": doc["id"],
        "idempotentReplay": replay,
    }


def _new_item(
    tool: dict[str, Any],
    tenant_id: str,
    session: Document | None,
    session_id: str | None,
    params: dict[str, Any],
    key: str,
    *,
    caller: str,
    call_id: str | None,
    status: str,
) -> Document:
    now = clock.utc_now()
    paths: list[str] = []
    journal.redact(params, None, paths)
    doc: Document = {
        "id": journal.execution_id(tenant_id, key),
        "tenantId": tenant_id,
        "kind": "execution",
        "toolName": tool["id"],
        "category": tool.get("category"),
        "idempotencyKey": key,
        "caller": caller,
        "status": status,
        "startedAt": clock.iso(now),
        "attempts": 0,
        "retries": 0,
        "inputPreview": journal.preview(params),
        "ttl": journal.ttl_seconds(tenant_id),
    }
    if paths:
        doc["redactedPaths"] = paths[:20]
    if session_id:
        doc["sessionId"] = session_id
        if session and session.get("scenarioId"):
            doc["scenarioId"] = session["scenarioId"]
    if call_id:
        doc["callId"] = call_id
    if status == "running":
        lease = get_settings().tool_execution_deadline_seconds + journal.LEASE_MARGIN_SECONDS
        doc["leaseUntil"] = clock.iso(now + _seconds(lease))
    return doc


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)


def _caller(grant: Any, principal: Any) -> str:
    if grant is not None and grant.via != "bearer":
        return f"session:{grant.via}"
    return f"user:{principal.user_id}" if principal is not None else "operator"


def execute(body: Any, *, principal: Any, grant: Any, correlation_id: str) -> tuple[int, dict[str, Any]]:
    """Run (or replay) one tool execution; returns the HTTP status and body."""
    tool = content.tools().get(body.toolName)
    if tool is None:
        # The contract's error shape for this operation (it documents no 404): a 400 naming the problem.
        raise BadRequest(
            "Unknown tool: the registry has no tool of that name (see GET /api/tools)", code="tool_not_found"
        )
    params = body.parameters
    if len(journal.canonical(params)) > MAX_PARAMETER_CHARS:
        raise PayloadTooLarge(f"The tool parameters exceed {MAX_PARAMETER_CHARS} characters of JSON")
    is_operator = grant is None or grant.via == "bearer"
    if body.skipValidation and not is_operator:
        raise ToolForbidden("Only an operator may skip parameter validation", tool_name=tool["id"])
    if not body.skipValidation:
        problems = _schema_problems(tool["parameters"], params)
        if problems:
            raise ValidationFailed(
                f"The parameters do not fit {tool['id']}: " + "; ".join(problems),
                code="invalid_parameters",
                fields={"details": problems},
            )
    tenant_id = grant.tenant_id if grant is not None else principal.tenant_id
    if not tenant_id:
        raise BadRequest("The caller belongs to no tenant: name a sessionId", code="tenant_required")
    session = grant.session if grant is not None else None
    session_id = grant.session_id if grant is not None else None
    key = body.idempotencyKey or journal.default_key(tool["id"], tenant_id, session_id, params, body.businessKey)
    caller = _caller(grant, principal)

    from shared.toolpolicy import service as policy

    allowed, reason = policy.decision(tenant_id, tool["id"])
    if not allowed:
        return _denied(tool, tenant_id, session, session_id, params, key, caller, body.callId, reason, correlation_id)
    if tool.get("requiresApproval"):
        return _request_approval(tool, tenant_id, session, session_id, params, key, caller, body.callId, correlation_id)

    fresh = _new_item(
        tool, tenant_id, session, session_id, params, key, caller=caller, call_id=body.callId, status="running"
    )
    item, mine = journal.claim(fresh)
    if not mine:
        item = _settle(item, fresh)
        if item.get("_claimed"):
            item.pop("_claimed")
        else:
            return answer(item, correlation_id, replay=True)
    done = run(item, tool, params, session=session, use_retry=body.useRetry)
    return answer(done, correlation_id, replay=False)


def _denied(tool, tenant_id, session, session_id, params, key, caller, call_id, reason, correlation_id):
    fresh = _new_item(
        tool, tenant_id, session, session_id, params, key, caller=caller, call_id=call_id, status="denied"
    )
    fresh.update(finishedAt=fresh["startedAt"], latencyMs=0, error=reason, errorClass="policy_denied")
    item, mine = journal.claim(fresh)
    if not mine and item.get("status") == "running" and not journal.lease_expired(item):
        item = _wait(item)
    if mine or item.get("status") in ("denied", "rejected"):
        logger.info("tool %s denied for tenant %s: %s", tool["id"], tenant_id, reason)
        return answer(item, correlation_id, replay=not mine)
    return answer(item, correlation_id, replay=True)


def _request_approval(tool, tenant_id, session, session_id, params, key, caller, call_id, correlation_id):
    fresh = _new_item(
        tool, tenant_id, session, session_id, params, key, caller=caller, call_id=call_id, status="pending_approval"
    )
    approval = journal.approval_id(fresh["id"])
    fresh["approval"] = {"id": approval, "requestedAt": fresh["startedAt"], "decision": "pending"}
    fresh["pendingParameters"] = params
    fresh.pop("leaseUntil", None)
    item, mine = journal.claim(fresh)
    if mine:
        _open_approval_exception(item, session)
        return answer(item, correlation_id, replay=False)
    if item.get("status") == "denied":
        # The policy allows the tool now: the earlier refusal does not stand for the same request.
        taken = journal.take_over(item, fresh)
        if taken is not None:
            _open_approval_exception(taken, session)
            return answer(taken, correlation_id, replay=False)
        item = journal.read(tenant_id, fresh["id"]) or item
    return answer(item, correlation_id, replay=True)


def _open_approval_exception(item: Document, session: Document | None) -> None:
    from shared.exceptions import service as exceptions

    exceptions.open_exception(
        item["tenantId"],
        item.get("sessionId") or item["id"],
        category="tool",
        error_type=APPROVAL_ERROR_TYPE,
        title=f"Approve {item['toolName']}?",
        message=(
            f"{item['toolName']} needs an operator's approval before it runs (execution {item['id']}). "
            "Resolve this exception to approve and run it, ignore it to reject it."
        ),
        suggested_actions=("mark_resolved", "assign_escalate"),
        exception_id=item["approval"]["id"],
        session=session,
    )


def _settle(item: Document, fresh: Document) -> Document:
    """Wait for another caller's execution of the same key, or take the claim over when it cannot finish."""
    if item.get("status") == "running" and not journal.lease_expired(item):
        item = _wait(item)
    takeable = journal.lease_expired(item) or item.get("status") == "denied"
    if takeable:
        taken = journal.take_over(item, fresh)
        if taken is not None:
            taken["_claimed"] = True
            return taken
        return _wait(journal.read(item["tenantId"], item["id"]) or item)
    return item


def _wait(item: Document) -> Document:
    """Poll a running item until it finishes or its lease runs out."""
    deadline = time.monotonic() + get_settings().tool_execution_deadline_seconds + journal.LEASE_MARGIN_SECONDS
    current = item
    while current.get("status") == "running" and not journal.lease_expired(current) and time.monotonic() < deadline:
        time.sleep(WAIT_POLL_SECONDS)
        current = journal.read(item["tenantId"], item["id"]) or current
    return current


def _attempt(ctx: ToolContext) -> Outcome:
    kind, implementation = IMPLEMENTATIONS[ctx.tool["id"]]
    try:
        return implementation(ctx)
    except ServiceError as exc:
        return Outcome(
            False, None, exc.message, "store_unavailable" if exc.status >= 500 else "rejected", exc.status >= 500
        )
    except Exception:
        logger.exception("tool %s (%s) raised", ctx.tool["id"], kind)
        return Outcome(False, None, "The tool failed unexpectedly", "internal_error", False)


def run(
    item: Document,
    tool: dict[str, Any],
    params: dict[str, Any],
    *,
    session: Document | None,
    use_retry: bool = True,
) -> Document:
    """Run a claimed execution with bounded retries and write the finished journal item."""
    settings = get_settings()
    started = time.monotonic()
    deadline = started + settings.tool_execution_deadline_seconds
    ctx = ToolContext(
        tool=tool,
        tenant_id=item["tenantId"],
        session_id=item.get("sessionId"),
        session=session,
        params=params,
        idempotency_key=item["idempotencyKey"],
        execution_id=item["id"],
        actor=f"tool:{tool['id']}",
    )
    attempts, outcome = 0, Outcome(False)
    while True:
        attempts += 1
        outcome = _attempt(ctx)
        if outcome.ok or not outcome.retryable or not use_retry or attempts >= settings.tool_retry_max_attempts:
            break
        delay = settings.tool_retry_base_delay_seconds * (2 ** (attempts - 1))
        if time.monotonic() + delay >= deadline:
            break
        time.sleep(delay)
    latency = int((time.monotonic() - started) * 1000)
    finished = dict(item)
    finished.pop("leaseUntil", None)
    finished.pop("pendingParameters", None)
    finished.update(
        status="succeeded" if outcome.ok else "failed",
        finishedAt=clock.now_iso(),
        latencyMs=latency,
        attempts=attempts,
        retries=attempts - 1,
    )
    if outcome.ok:
        finished["result"] = journal.redact(outcome.result or {})
        finished["outputPreview"] = journal.preview(outcome.result or {})
        for name in ("error", "errorClass", "retryable"):
            finished.pop(name, None)
    else:
        finished.update(
            error=outcome.error or "The tool failed", errorClass=outcome.error_class, retryable=outcome.retryable
        )
    stored = journal.save(finished)
    _after(stored, outcome, session)
    return stored


def _after(item: Document, outcome: Outcome, session: Document | None) -> None:
    """The session's record of the run, the failure on the desk, and the domain event."""
    session_id = item.get("sessionId")
    if session_id:
        loaded = outcome.session or session
        try:
            if outcome.ok:
                _mark_used(item, loaded)
            else:
                _open_failure(item, loaded)
        except ServiceError:
            logger.warning("tool %s: the session %s could not record the run", item["id"], session_id, exc_info=True)
    events.publish("tool.executed", item)


def _mark_used(item: Document, loaded: Document | None) -> None:
    from shared.sessions import aggregate

    tool = item["toolName"]

    def add(doc: Document) -> Document | None:
        used = [name for name in doc.get("toolsUsed") or [] if isinstance(name, str)]
        if tool not in used:
            doc["toolsUsed"] = [*used, tool]
        return None

    if loaded is not None and tool in (loaded.get("toolsUsed") or []):
        return
    aggregate.update(item["tenantId"], item["sessionId"], add, loaded=loaded)


def _open_failure(item: Document, loaded: Document | None) -> None:
    from shared.exceptions import service as exceptions

    exceptions.open_exception(
        item["tenantId"],
        item["sessionId"],
        category="tool",
        error_type=FAILURE_ERROR_TYPE,
        title=f"{item['toolName']} failed",
        message=(
            f"{item.get('error') or 'The tool failed'} (execution {item['id']}, {item.get('attempts', 1)} attempt(s))"
        ),
        suggested_actions=("assign_escalate", "mark_resolved"),
        exception_id="exc-" + item["id"].removeprefix("tx-"),
        session=loaded,
    )


# --- approvals -------------------------------------------------------------------------------------------


def on_exception_resolved(doc: dict[str, Any]) -> None:
    """Subscriber of `exception.resolved`: an approval decided on the desk is queued for its tool run."""
    from shared.platform.store import queues
    from shared.platform.store.registry import TOOL_APPROVALS_QUEUE

    if doc.get("category") != "tool" or doc.get("errorType") != APPROVAL_ERROR_TYPE:
        return
    message = {
        "tenantId": doc["tenantId"],
        "approvalId": doc["id"],
        "decision": "approved" if doc.get("status") == "resolved" else "rejected",
    }
    if doc.get("resolvedBy"):
        message["decidedBy"] = str(doc["resolvedBy"])[:200]
    if doc.get("resolutionNotes"):
        message["note"] = str(doc["resolutionNotes"])[:2000]
    queues.enqueue(TOOL_APPROVALS_QUEUE, message)


def decide_approval(message: Any) -> str:
    """The tool-approvals job: record the decision and, when approved, run the tool in the same journal item."""
    item = journal.read(message.tenantId, journal.execution_of_approval(message.approvalId))
    if item is None:
        raise NotFound("The approval's execution is gone")
    approval = dict(item.get("approval") or {})
    if item.get("status") != "pending_approval":
        return f"already {item.get('status')}"
    tool = content.tools().get(item["toolName"])
    now = clock.now_iso()
    approval.update(decision=message.decision, decidedAt=now)
    if message.decidedBy:
        approval["reviewer"] = message.decidedBy
    if message.note:
        approval["note"] = message.note
    params = item.get("pendingParameters") or {}
    if message.decision == "rejected" or tool is None:
        rejected = {**item, "approval": approval, "status": "rejected", "finishedAt": now, "latencyMs": 0}
        rejected["error"] = "An operator rejected the approval" if tool is not None else "The tool left the registry"
        rejected.pop("pendingParameters", None)
        stored = journal.save(rejected)
        events.publish("tool.executed", stored)
        return "rejected"
    lease = get_settings().tool_execution_deadline_seconds + journal.LEASE_MARGIN_SECONDS
    claimed = journal.take_over(
        item,
        {
            **item,
            "approval": approval,
            "status": "running",
            "leaseUntil": clock.iso(clock.utc_now() + _seconds(lease)),
            "startedAt": now,
        },
    )
    if claimed is None:
        return "decided elsewhere"
    session = None
    if claimed.get("sessionId"):
        from shared.sessions import aggregate

        try:
            session = aggregate.read_live(claimed["tenantId"], claimed["sessionId"])
        except NotFound:
            session = None
    done = run(claimed, tool, params, session=session)
    return f"approved and {done['status']}"


# --- the control plane -----------------------------------------------------------------------------------


def get_execution(tenant_id: str, execution_id: str) -> dict[str, Any]:
    """One journal item of the caller's tenant (404 for another tenant's or an expired one)."""
    doc = journal.read(tenant_id, execution_id)
    if doc is None:
        raise NotFound("Tool execution not found", code="execution_not_found")
    return {"source": "persisted", "execution": journal.view(doc)}


def session_executions(tenant_id: str, session_id: str) -> dict[str, Any]:
    """A session's journal (one partition): persisted items; the journal is never kept in memory only."""
    return {
        "sessionId": session_id,
        "persisted": [journal.view(doc) for doc in journal.for_session(tenant_id, session_id)],
        "memory": [],
    }


def evidence_journal(tenant_id: str, session_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A session's tool calls and approvals in the evidence bundle's shapes."""
    items = journal.for_session(tenant_id, session_id)
    return journal.evidence_calls(items), journal.evidence_approvals(items)
