"""The tool execution journal: one durable item per execution, claimed before the tool runs.

An execution's id is derived from its idempotency key (`tx-` + the first 32 hex digits of
sha256("<tenant>\\n<key>")), so the item is created if absent: of twenty identical concurrent calls one
creates it and runs the tool, the others read it and answer its result once it is finished. A claim
carries a lease (the execution deadline plus a margin): a `running` item whose lease ran out belonged
to a process that died, and the next identical call takes it over with an ETag write.

Items hold: tool, tenant, session (and its scenario), caller, idempotency key, status (running,
succeeded, failed, denied, pending_approval, rejected), startedAt / finishedAt / latencyMs, attempts
and retries, the input and output previews with every secret-looking key or value replaced by
`[redacted]` (`shared.sessions.secret_guard`), the result the caller got (redacted the same way), the
error, and for tools that need approval the approval (id, requestedAt, decision, decidedAt, reviewer,
note) with the parameters to run once approved (dropped when decided).

Retention is what the `tool_execution_persistence` flag guards: on, items are kept
TOOL_JOURNAL_RETENTION_DAYS for inspection and evidence; off, they are kept only for the idempotency
window (24 hours), enough for replays and the session's evidence while the call is fresh. The journal
itself is always durable: there is no in-process journal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from shared.platform import clock
from shared.platform.errors import Conflict, NotFound, PreconditionFailed
from shared.platform.store.repository import Document
from shared.tools.repository import ToolExecutionRepository

executions = ToolExecutionRepository()

IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60
LEASE_MARGIN_SECONDS = 5
PREVIEW_MAX_CHARS = 4000
PREVIEW_STRING_CHARS = 500
REDACTED = "[redacted]"
FINISHED = frozenset({"succeeded", "failed", "denied", "rejected"})
VIEW_FIELDS = (
    "id",
    "toolName",
    "tenantId",
    "sessionId",
    "scenarioId",
    "callId",
    "caller",
    "idempotencyKey",
    "status",
    "startedAt",
    "finishedAt",
    "latencyMs",
    "attempts",
    "retries",
    "inputPreview",
    "outputPreview",
    "error",
    "errorClass",
    "retryable",
    "approval",
    "redactedPaths",
)


def canonical(value: Any) -> str:
    """Stable JSON (sorted keys, no spaces) for digests."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def default_key(
    tool_id: str, tenant_id: str, session_id: str | None, params: Mapping[str, Any], business: str | None
) -> str:
    """sha256 of tool + tenant + session + canonical parameters (+ the caller's business key)."""
    material = canonical({"tool": tool_id, "tenant": tenant_id, "session": session_id or "", "params": params})
    if business:
        material += "\n" + business
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


def execution_id(tenant_id: str, key: str) -> str:
    """The execution id of one idempotency key in one tenant."""
    return "tx-" + hashlib.sha256(f"{tenant_id}\n{key}".encode()).hexdigest()[:32]


def approval_id(execution: str) -> str:
    """The approval (and its desk exception) of an execution."""
    return "apr-" + execution.removeprefix("tx-")


def execution_of_approval(approval: str) -> str:
    """The execution an approval belongs to."""
    return "tx-" + approval.removeprefix("apr-")


def redact(value: Any, key: str | None = None, paths: list[str] | None = None, path: str = "$") -> Any:
    """A copy with every secret-named key's value and every secret-shaped string replaced by [redacted]."""
    from shared.sessions.secret_guard import is_secret_key, looks_like_secret

    if key is not None and is_secret_key(key) and value not in (None, "", True, False):
        if paths is not None:
            paths.append(path)
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact(v, str(k), paths, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, None, paths, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, str) and looks_like_secret(value, key=key):
        if paths is not None:
            paths.append(path)
        return REDACTED
    return value


def preview(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A bounded, redacted preview of inputs or outputs (long strings cut; the whole kept under 4,000 chars)."""
    if value is None:
        return None

    def cut(item: Any) -> Any:
        if isinstance(item, str):
            return item if len(item) <= PREVIEW_STRING_CHARS else item[:PREVIEW_STRING_CHARS] + "…"
        if isinstance(item, Mapping):
            return {k: cut(v) for k, v in item.items()}
        if isinstance(item, list):
            return [cut(v) for v in item[:20]]
        return item

    shown = cut(redact(dict(value)))
    if len(canonical(shown)) > PREVIEW_MAX_CHARS:
        return {"truncated": True, "fields": sorted(shown)[:50]}
    return shown


def ttl_seconds(tenant_id: str) -> int:
    """How long a journal item is kept: the retention while persistence is on, else the idempotency window."""
    from shared import flags
    from shared.flags.registry import TOOL_EXECUTION_PERSISTENCE
    from shared.platform.settings import get_settings

    if flags.is_enabled(TOOL_EXECUTION_PERSISTENCE, tenant_id):
        return get_settings().tool_journal_retention_days * 86400
    return IDEMPOTENCY_WINDOW_SECONDS


def claim(doc: Document) -> tuple[Document, bool]:
    """Create the item if absent: (the item, True) when this call created it, (the stored one, False) otherwise."""
    try:
        return executions.create(doc), True
    except Conflict:
        existing = executions.read(doc["id"], doc["tenantId"])
        if existing is None:  # expired between the two calls: try once more
            try:
                return executions.create(doc), True
            except Conflict:
                existing = executions.get(doc["id"], doc["tenantId"], what="Tool execution")
        return existing, False


def take_over(existing: Document, doc: Document) -> Document | None:
    """Replace a stale or re-decidable item with a new claim (ETag); None when someone else was faster."""
    try:
        return executions.replace({**doc, "_etag": existing["_etag"]})
    except (PreconditionFailed, NotFound):
        return None


def lease_expired(doc: Document) -> bool:
    """Whether a running item's owner is gone (its lease ran out)."""
    lease = doc.get("leaseUntil")
    return doc.get("status") == "running" and (not lease or clock.parse_iso(lease) <= clock.utc_now())


def save(doc: Document) -> Document:
    """Write a claimed item's new state with its ETag, re-applying the fields on a lost race."""
    fields = {k: v for k, v in doc.items() if not k.startswith("_")}
    try:
        return executions.replace(doc)
    except PreconditionFailed:
        return executions.update(doc["id"], doc["tenantId"], lambda current: current.update(fields))


def read(tenant_id: str, execution: str) -> Document | None:
    """One item of a tenant (one point read)."""
    return executions.read(execution, tenant_id)


def for_session(tenant_id: str, session_id: str) -> list[Document]:
    """A session's items in start order (one single-partition query)."""
    return executions.for_session(tenant_id, session_id)


def view(doc: Document) -> dict[str, Any]:
    """The journal item as the control plane shows it (never the parameters kept for an approval)."""
    shown = {name: doc[name] for name in VIEW_FIELDS if doc.get(name) is not None}
    shown["executionId"] = doc["id"]
    return shown


EVIDENCE_STATUS = {
    "succeeded": "success",
    "failed": "failed",
    "denied": "failed",
    "rejected": "failed",
    "running": "pending",
    "pending_approval": "pending",
}


def evidence_calls(items: list[Document]) -> list[dict[str, Any]]:
    """The journal as the evidence bundle's toolCalls."""
    calls = []
    for doc in items:
        call: dict[str, Any] = {
            "id": doc["id"],
            "tool": doc["toolName"],
            "startedAt": doc["startedAt"],
            "status": EVIDENCE_STATUS.get(doc.get("status"), "pending"),
        }
        if isinstance(doc.get("latencyMs"), int | float):
            call["latencyMs"] = doc["latencyMs"]
        if isinstance(doc.get("inputPreview"), dict):
            call["inputsPreview"] = doc["inputPreview"]
        if isinstance(doc.get("outputPreview"), dict):
            call["outputsPreview"] = doc["outputPreview"]
        if doc.get("retryable") is True:
            call["retryable"] = True
        calls.append(call)
    return calls


def evidence_approvals(items: list[Document]) -> list[dict[str, Any]]:
    """The journal's approvals as the evidence bundle's approvals."""
    approvals = []
    for doc in items:
        approval = doc.get("approval")
        if not isinstance(approval, dict):
            continue
        item = {"id": approval["id"], "requestedAt": approval["requestedAt"], "decision": approval["decision"]}
        for name in ("decidedAt", "reviewer", "note"):
            if approval.get(name):
                item[name] = approval[name]
        approvals.append(item)
    return approvals
