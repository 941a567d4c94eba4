"""Running a triggered execution of a published workflow version (the `workflow-executions` job).

The execution names the immutable version it runs and its start node. Each node run is journaled as an
item of its own (`<executionId>:<seq>`, in `workflow_executions`), written once with a deterministic id:
a message delivered again resumes after the last journaled step instead of repeating it, and a step
whose provider call happened but whose item was not written repeats with the same idempotency key
(`workflow:<executionId>:<nodeId>:<attempt>`), which providers and the email queue deduplicate.

What each node does (the context is the trigger's payload, then the session's extracted data, then its
contact: `email`, `name`, `phone`):
- `intake`: checks its fields are in the context; missing ones stop the run as `needs_input`;
- `condition`: follows its `true` or `false` edge;
- `tool_call`: runs the action through the tenant's connector of its kind (or the demo provider),
  `{{field}}` strings of its params filled from the context; a failure follows the `retry` edge (or
  repeats the node) while attempts remain, else the `error` edge, else the run fails;
- `handoff`: emails the profile's escalation contact (when it is an address) and posts a signed
  `workflow.handoff` event to its webhook (when set); it succeeds when one of them took it;
- `booking`: emails the practice's booking link to the caller's `email` (missing: `needs_input`);
- `end`: the run succeeded, with the node's outcome.
A run stops after 100 steps (a retry loop cannot spin: attempts are bounded by `maxRetries`).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from shared.onboarding import service as onboarding
from shared.platform import clock
from shared.platform.errors import BadRequest, Conflict, NotFound, ServiceError
from shared.platform.store.repository import Document
from shared.workflows.repository import ExecutionRepository, WorkflowRepository

logger = logging.getLogger("tellgence.workflows.engine")

MAX_STEPS = 100
FINAL = ("succeeded", "failed", "needs_input")
STEP_TYPE = "workflowStep"
TEMPLATE = re.compile(r"\{\{\s*([A-Za-z][A-Za-z0-9_]{0,63})\s*\}\}")
MAX_SUMMARY = 300

workflows = WorkflowRepository()
executions = ExecutionRepository()


@dataclass
class StepResult:
    """What running one node did: its status, where the run goes next (None: it stops) and why."""

    status: str
    summary: str
    next: str | None = None
    stop_status: str | None = None
    error_class: str | None = None
    external_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class Context:
    """The values a run reads: the trigger's payload, then the session's extracted data and contact."""

    def __init__(self, payload: dict[str, Any], session: Document | None) -> None:
        self.values: dict[str, Any] = {}
        if session:
            contact = (session.get("interactionSummary") or {}).get("contact") or {}
            for name, key in (("email", "email"), ("name", "displayName"), ("phone", "phoneNumber")):
                if contact.get(key):
                    self.values[name] = contact[key]
            self.values.update(session.get("extractedData") or {})
        self.values.update(payload)

    def get(self, name: str) -> Any:
        """A value, or None when absent."""
        return self.values.get(name)

    def present(self, name: str) -> bool:
        """Whether a value is given (not absent, null or blank)."""
        value = self.values.get(name)
        return value is not None and not (isinstance(value, str) and not value.strip()) and value != []

    def _text(self, name: str) -> str:
        value = self.get(name)
        return "" if value is None else str(value)

    def fill(self, value: Any) -> Any:
        """Params with `{{field}}` strings filled (a whole-string template keeps the value's type)."""
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, str):
            whole = TEMPLATE.fullmatch(value.strip())
            if whole:
                return self.get(whole.group(1))
            return TEMPLATE.sub(
                lambda match: "" if self.get(match.group(1)) is None else str(self.get(match.group(1))), value
            )
        return value


def _edge(graph: dict[str, Any], node_id: str, handle: str | None) -> str | None:
    for edge in graph["edges"]:
        if edge["source"] == node_id and edge.get("sourceHandle") == handle:
            return edge["target"]
    return None


def evaluate(operator: str, actual: Any, expected: Any) -> bool:
    """A condition's verdict (a missing value fails every comparison but `missing`)."""
    present = actual is not None and not (isinstance(actual, str) and not actual.strip())
    if operator == "exists":
        return present
    if operator == "missing":
        return not present
    if not present:
        return False
    if operator in ("greater_than", "less_than"):
        try:
            number = float(actual)
        except (TypeError, ValueError):
            return False
        return number > expected if operator == "greater_than" else number < expected
    if operator == "contains":
        if isinstance(actual, list):
            return expected in actual
        return str(expected).lower() in str(actual).lower()
    same = (
        str(actual).strip().lower() == str(expected).strip().lower()
        if isinstance(expected, str)
        else actual == expected
    )
    return same if operator == "equals" else not same


def _queue_email(to: list[str], subject: str, text: str, key: str, kind: str) -> tuple[bool, str]:
    from shared.email.models import EmailMessage
    from shared.email.service import enqueue_email

    try:
        enqueue_email(EmailMessage(to=to, subject=subject[:200], text=text, tags={"kind": kind}, idempotency_key=key))
    except (ServiceError, ValueError) as exc:
        return False, f"the email could not be queued ({type(exc).__name__})"
    return True, "email queued"


class Run:
    """One execution being run: its version's graph, the profile, the context and the journal so far."""

    def __init__(self, execution: Document, version: Document, profile: Document, session: Document | None) -> None:
        self.execution = execution
        self.graph = {"nodes": version["nodes"], "edges": version["edges"]}
        self.nodes = {node["id"]: node for node in version["nodes"]}
        self.profile = profile
        self.session = session
        self.context = Context(execution.get("payload") or {}, session)
        self.tenant_id = execution["tenantId"]
        self.execution_id = execution["id"]
        self.attempts: dict[str, int] = {}

    def key(self, node_id: str) -> str:
        """The idempotency key of this node's current attempt."""
        return f"workflow:{self.execution_id}:{node_id}:{self.attempts.get(node_id, 1)}"

    def intake(self, node: Document) -> StepResult:
        missing = [name for name in node["data"]["fields"] if not self.context.present(name)]
        if missing:
            return StepResult("needs_input", "missing " + ", ".join(missing), stop_status="needs_input")
        return StepResult(
            "succeeded", f"captured {len(node['data']['fields'])} field(s)", next=_edge(self.graph, node["id"], None)
        )

    def condition(self, node: Document) -> StepResult:
        data = node["data"]
        verdict = evaluate(data["operator"], self.context.get(data["field"]), data.get("value"))
        target = _edge(self.graph, node["id"], "true" if verdict else "false")
        return StepResult("succeeded", f"{data['field']} {data['operator']}: {str(verdict).lower()}", next=target)

    def tool_call(self, node: Document) -> StepResult:
        from shared.integrations import connectors

        data = node["data"]
        attempt = self.attempts.get(node["id"], 1)
        params = self.context.fill(data.get("params") or {})
        session_id = self.execution.get("sessionId")
        try:
            if "connector" in data:
                result = connectors.run_action(
                    self.tenant_id,
                    data["connector"],
                    data["action"],
                    params,
                    idempotency_key=self.key(node["id"]),
                    source="workflow",
                    session_id=session_id,
                    attempt=attempt,
                )
            else:
                result = connectors.run_provider_action(
                    self.tenant_id,
                    data["provider"],
                    data["action"],
                    params,
                    idempotency_key=self.key(node["id"]),
                    source="workflow",
                    session_id=session_id,
                )
            ok, summary, error_class, external = result.ok, result.summary, result.error_class, result.external_id
        except (BadRequest, NotFound) as exc:
            # No connector, or params the provider's schema refuses: a failure of this step, not of the job.
            ok, summary, error_class, external = False, exc.message, exc.code, None
        if ok:
            return StepResult("succeeded", summary, next=_edge(self.graph, node["id"], None), external_id=external)
        if attempt <= int(data.get("maxRetries", 0)):
            self.attempts[node["id"]] = attempt + 1
            target = _edge(self.graph, node["id"], "retry") or node["id"]
            return StepResult("failed", f"{summary} (retrying)", next=target, error_class=error_class)
        error_target = _edge(self.graph, node["id"], "error")
        if error_target:
            return StepResult("failed", summary, next=error_target, error_class=error_class)
        return StepResult("failed", summary, stop_status="failed", error_class=error_class)

    def handoff(self, node: Document) -> StepResult:
        from shared.email.models import is_address

        reason = node["data"]["reason"]
        company = str(self.profile.get("companyName", ""))
        delivered, notes = [], []
        contact = str(self.profile.get("escalationContact") or "")
        if is_address(contact):
            lines = [f"A caller of {company} needs a person: {reason}.", ""]
            if self.execution.get("sessionId"):
                lines.append(f"Session: {self.execution['sessionId']}")
            lines.append(f"Workflow: {self.execution['workflowId']} (execution {self.execution_id})")
            ok, note = _queue_email(
                [contact], f"Hand-off requested: {company}", "\n".join(lines), self.key(node["id"]), "workflow-handoff"
            )
            (delivered if ok else notes).append(f"escalation {note}")
        if (self.profile.get("webhook") or {}).get("baseUrl"):
            data = {
                "profileId": self.profile["id"],
                "executionId": self.execution_id,
                "sessionId": self.execution.get("sessionId"),
                "nodeId": node["id"],
                "reason": reason,
            }
            outcome = onboarding.send_webhook_event(self.profile, "workflow.handoff", data, self.key(node["id"]))
            onboarding.record_delivery(
                self.tenant_id,
                outcome,
                provider_id=onboarding.PROVIDER_WEBHOOK,
                action="workflow_handoff",
                source="workflow",
                session_id=self.execution.get("sessionId"),
                connector_kind="webhook",
            )
            (delivered if outcome["ok"] else notes).append(f"webhook: {outcome['message']}")
        next_node = _edge(self.graph, node["id"], None)
        if delivered:
            return StepResult(
                "succeeded",
                "; ".join(delivered + notes),
                next=next_node,
                stop_status=None if next_node else "succeeded",
            )
        return StepResult("failed", "; ".join(notes) or "no escalation route", stop_status="failed")

    def booking(self, node: Document) -> StepResult:
        from shared.email.models import is_address

        email = self.context.get("email")
        if not isinstance(email, str) or not is_address(email.strip()):
            return StepResult("needs_input", "missing email", stop_status="needs_input")
        company = str(self.profile.get("companyName", ""))
        link = self.profile.get("bookingLink")
        message = node["data"].get("message") or f"You can book your appointment with {company} here:"
        ok, note = _queue_email(
            [email.strip()],
            f"Book your appointment with {company}",
            f"{message}\n\n{link}\n",
            self.key(node["id"]),
            "workflow-booking",
        )
        if not ok:
            return StepResult("failed", f"booking link {note}", stop_status="failed", error_class="queue_unavailable")
        return StepResult("succeeded", "booking link emailed to the caller", next=_edge(self.graph, node["id"], None))

    def end(self, node: Document) -> StepResult:
        outcome = node["data"].get("outcome")
        return StepResult(
            "succeeded",
            f"ended{f' ({outcome})' if outcome else ''}",
            stop_status="succeeded",
            detail={"outcome": outcome},
        )

    def step(self, node: Document) -> StepResult:
        """Run one node."""
        return getattr(self, node["type"])(node)


def _journal(
    run: Run, seq: int, node: Document, result: StepResult, *, attempt: int, started: str, latency_ms: int
) -> Document:
    item: Document = {
        "id": f"{run.execution_id}:{seq:03d}",
        "type": STEP_TYPE,
        "tenantId": run.tenant_id,
        "executionId": run.execution_id,
        "seq": seq,
        "nodeId": node["id"],
        "nodeType": node["type"],
        "attempt": attempt,
        "status": result.status,
        "summary": result.summary[:MAX_SUMMARY],
        "next": result.next,
        "stopStatus": result.stop_status,
        "startedAt": started,
        "finishedAt": clock.now_iso(),
        "latencyMs": latency_ms,
        "ttl": run.execution.get("ttl"),
    }
    for name, value in (("errorClass", result.error_class), ("externalId", result.external_id)):
        if value:
            item[name] = value
    if result.detail:
        item["detail"] = result.detail
    try:
        return executions.create({key: value for key, value in item.items() if value is not None or key == "next"})
    except Conflict:
        # This step was journaled by an earlier delivery of the message: keep what it recorded.
        return executions.get(item["id"], run.tenant_id, what="Workflow step")


def _finish(execution: Document, status: str, steps: int, *, outcome: str | None, error: str | None) -> None:
    def apply(doc: Document) -> None:
        doc.update(status=status, stepCount=steps, finishedAt=clock.now_iso(), updatedAt=clock.now_iso())
        if outcome:
            doc["outcome"] = outcome
        if error:
            doc["error"] = error[:MAX_SUMMARY]

    executions.update(execution["id"], execution["tenantId"], apply, what="Workflow execution", loaded=execution)


def run_execution(tenant_id: str, execution_id: str) -> str:
    """Run (or resume) one queued execution to its end; returns a one-line outcome for the job log."""
    from shared.sessions import aggregate

    execution = executions.get(execution_id, tenant_id, what="Workflow execution")
    if execution.get("status") in FINAL:
        return f"execution {execution_id} already {execution['status']}"
    version = workflows.version(tenant_id, execution["profileId"], int(execution["workflowVersion"]))
    if version is None:
        _finish(execution, "failed", 0, outcome=None, error="the workflow version no longer exists")
        return f"execution {execution_id} failed: version missing"
    profile = onboarding.profile_for_workflows(tenant_id, execution["profileId"])
    session = None
    if execution.get("sessionId"):
        try:
            session = aggregate.read_live(tenant_id, execution["sessionId"])
        except NotFound:
            session = None  # expired since the trigger: the payload alone feeds the run
    run = Run(execution, version, profile, session)
    journal = executions.steps(tenant_id, execution_id)
    current: str | None = execution["startNodeId"]
    stop: str | None = None
    outcome = error = None
    for item in journal:
        if item.get("nodeType") == "tool_call":
            run.attempts[item["nodeId"]] = run.attempts.get(item["nodeId"], 0) + 1
        current, stop = item.get("next"), item.get("stopStatus")
        outcome = (item.get("detail") or {}).get("outcome") or outcome
        if item.get("status") == "failed":
            error = item.get("summary")
    # Attempts so far name the next attempt's number.
    run.attempts = {node_id: count + 1 for node_id, count in run.attempts.items()}
    if execution.get("status") == "queued":
        execution = executions.update(
            execution_id,
            tenant_id,
            lambda doc: doc.update(status="running", startedAt=clock.now_iso(), updatedAt=clock.now_iso()),
            what="Workflow execution",
            loaded=execution,
        )
    seq = len(journal)
    while stop is None and current is not None and seq < MAX_STEPS:
        node = run.nodes.get(current)
        if node is None:
            stop, error = "failed", f"the run reached an unknown node {current!r}"
            break
        started, clock_start = clock.now_iso(), time.perf_counter()
        attempt = run.attempts.get(node["id"], 1)
        result = run.step(node)
        latency = round((time.perf_counter() - clock_start) * 1000)
        item = _journal(run, seq, node, result, attempt=attempt, started=started, latency_ms=latency)
        seq += 1
        current, stop = item.get("next"), item.get("stopStatus")
        outcome = (item.get("detail") or {}).get("outcome") or outcome
        if item.get("status") == "failed":
            error = item.get("summary")
        elif item.get("status") == "succeeded" and stop == "succeeded":
            error = None
    if stop is None:
        stop = "failed"
        error = error or (
            "the run stopped after the step limit" if seq >= MAX_STEPS else "the run ended without an end node"
        )
    _finish(execution, stop, seq, outcome=outcome, error=error if stop != "succeeded" else None)
    logger.info("workflow execution %s of %s: %s after %d step(s)", execution_id, execution["workflowId"], stop, seq)
    return f"execution {execution_id}: {stop} after {seq} step(s)"
