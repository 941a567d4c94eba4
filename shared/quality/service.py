"""Quality scorecards (computed on first read, stored, replaced by a recompute) and the funnel's rollup counters.

Scorecards. `GET /api/cp/quality/session/{id}` answers the stored scorecard of a session of the caller's tenant;
the first read of a finalized session evaluates it (`shared.quality.evaluator`, deterministic: the same stored
session, call state and tool journal always give the same scores) and stores the result. A recompute evaluates
again and replaces it (audited as `quality.recomputed` with what changed). A session of another tenant, one that
expired or one not finalized yet is a 404.

The funnel is never computed by scanning sessions: each tenant has one counters document (`funnel`), moved by
the facts each session contributes (`shared.quality.funnel`: the session's own facts, its scorecard's and its
evidence-index row's). A session's quality record keeps the facts already applied; a change of facts is made in
two steps that can each be repeated safely:

1. the record is written (ETag) with the new facts as `pending`, under a fresh token — so of two concurrent
   writers only one moves a record from one state to the next;
2. the counters apply the difference between the applied facts and the pending ones (`funnel.apply_*`) unless
   they already list the token (they keep the last MAX_TOKENS), then the record's `pending` becomes its `facts`.

Whoever finds a record with `pending` set finishes step 2 first, so a crash between the steps is repaired by
the next writer and never counts twice. Facts arrive from three places: storing a scorecard (the session's and
the scorecard's facts, read anyway), and the `quality-facts` queue, fed by `session.finalized` (every finalized
session of a customer tenant counts, scored or not) and by `evidence.indexed` (knowledge-gap facts of the
session's evidence row). Counters are cumulative: a record expiring with its session does not lower them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from shared.platform import clock
from shared.platform.envelope import success
from shared.platform.errors import Conflict, NotFound, PreconditionFailed, ServiceUnavailable
from shared.platform.principal import Principal
from shared.platform.store.repository import Document
from shared.quality import funnel
from shared.quality.evaluator import SCORECARD_FIELDS, Evaluation, quality_score_id, scorecard_view
from shared.quality.repository import FUNNEL, FUNNEL_ID, RECORD, QualityRepository

logger = logging.getLogger("tellgence.quality")

MAX_TOKENS = 500
MAX_ATTEMPTS = 10
AUDITED_FIELDS = ("totalScore", "dimensions", "qualitySummary.overallBand", "qualitySummary.pass", "evaluatorVersion")
_UNREAD: Any = object()

records = QualityRepository()

Build = Callable[[Document | None], tuple[Document, Document] | None]


def _tenant(principal: Principal) -> str:
    if not principal.tenant_id:
        raise NotFound("Session not found")
    return principal.tenant_id


# ------------------------------------------------------------------------------------------------ the funnel


def apply_facts(counters: Document | None, previous: Document, new: Document) -> Document:
    """Counters after a session's facts move from `previous` to `new` (per source: session, scorecard, evidence)."""
    result = funnel.counters_of(counters)
    for source, apply in (
        ("session", funnel.apply_session),
        ("scorecard", funnel.apply_scorecard),
        ("evidence", funnel.apply_evidence),
    ):
        after, before = new.get(source), previous.get(source)
        if after is not None and after != before:
            result = apply(result, after, before)
    return result


def _apply_to_counters(tenant_id: str, token: str, previous: Document, new: Document) -> None:
    """Apply one transition to the tenant's counters unless they applied its token already (ETag-safe)."""
    for _ in range(MAX_ATTEMPTS):
        current = records.read(FUNNEL_ID, tenant_id)
        tokens = [item for item in (current or {}).get("appliedTokens") or [] if isinstance(item, str)]
        if token in tokens:
            return
        doc: Document = {
            "id": FUNNEL_ID,
            "type": FUNNEL,
            "tenantId": tenant_id,
            **apply_facts(current, previous, new),
            "appliedTokens": [*tokens, token][-MAX_TOKENS:],
            "updatedAt": clock.now_iso(),
        }
        try:
            if current is None:
                records.create(doc)
            else:
                records.replace({**doc, "_etag": current["_etag"]})
            return
        except (Conflict, PreconditionFailed):
            continue
    raise ServiceUnavailable("The quality funnel is contended; try again", code="store_unavailable")


def _settle(tenant_id: str, record: Document) -> Document:
    """Finish a record's pending transition: counters first (idempotent by token), then the record."""
    pending = record.get("pending")
    if not isinstance(pending, dict):
        return record
    _apply_to_counters(tenant_id, str(pending.get("token")), record.get("facts") or {}, pending.get("facts") or {})
    settled = {key: value for key, value in record.items() if key != "pending"}
    settled["facts"] = pending.get("facts") or {}
    try:
        return records.replace(settled)
    except (PreconditionFailed, NotFound):
        # Another writer settled it first (and perhaps moved on): what is stored now is the answer.
        fresh = records.read(record["id"], tenant_id)
        return fresh if fresh is not None else settled


def commit(tenant_id: str, session_id: str, build: Build, *, current: Any = _UNREAD) -> Document | None:
    """Write a session's quality record as `build(record)` says ((fields, facts), or None: leave it), then settle.

    `current` is the record as this request already read it (None: it does not exist); without it, it is read.
    """
    record_id = quality_score_id(session_id)
    for _ in range(MAX_ATTEMPTS):
        if current is _UNREAD:
            current = records.read(record_id, tenant_id)
        if current is not None and current.get("pending"):
            settled = _settle(tenant_id, current)
            current = _UNREAD if settled.get("pending") else settled
            continue
        change = build(current)
        if change is None:
            return current
        fields, facts = change
        previous = dict((current or {}).get("facts") or {})
        doc: Document = {
            **(current or {}),
            **fields,
            "id": record_id,
            "type": RECORD,
            "tenantId": tenant_id,
            "sessionId": session_id,
            "facts": previous,
            "updatedAt": clock.now_iso(),
        }
        if facts != previous:
            doc["pending"] = {"token": uuid.uuid4().hex, "facts": facts}
        try:
            stored = records.create(doc) if current is None else records.replace(doc)
        except (Conflict, PreconditionFailed):
            current = _UNREAD
            continue
        return _settle(tenant_id, stored)
    raise Conflict("The quality record is being changed by others; try again", code="write_conflict")


def _ttl(session: Document) -> dict[str, int]:
    ttl = session.get("ttl")
    return {"ttl": ttl} if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl > 0 else {}


# ------------------------------------------------------------------------------------------------ scorecards


def _evaluate(tenant_id: str, session_id: str) -> tuple[Document, Evaluation]:
    """The tenant's finalized session and its evaluation now (NotFound when absent, expired or unfinished)."""
    from shared.quality import evaluator, journal
    from shared.sessions import aggregate
    from shared.sessions.state import STATE_FIELDS

    session = aggregate.read_live(tenant_id, session_id)
    if not session.get("finalizedAt"):
        raise NotFound("The session is not finalized yet", code="session_not_finalized")
    try:
        handle = aggregate.read_handle(session_id)
        call_state = {name: handle[name] for name in STATE_FIELDS if name in handle}
    except NotFound:
        call_state = None
    evaluation = evaluator.evaluate(
        session, tool_journal=journal.tool_journal(session), call_state=call_state, now=clock.now_iso()
    )
    return session, evaluation


def _scorecard_change(session: Document, evaluation: Evaluation, current: Document | None) -> tuple[Document, Document]:
    scorecard = evaluation.scorecard
    fields = {
        **{name: scorecard[name] for name in SCORECARD_FIELDS if name in scorecard},
        "findings": [finding.as_dict() for finding in evaluation.findings],
        "workflowId": evaluation.workflow_id,
        "critical": evaluation.critical,
        "inputsFingerprint": evaluation.inputs_fingerprint,
        **_ttl(session),
    }
    facts = dict((current or {}).get("facts") or {})
    facts["session"] = funnel.session_facts(session)
    facts["scorecard"] = funnel.scorecard_facts(scorecard)
    return fields, facts


def _is_scored(record: Document | None) -> bool:
    return record is not None and "totalScore" in record and "dimensions" in record


def get_scorecard(principal: Principal, session_id: str) -> dict[str, Any]:
    """The stored scorecard of a session of the caller's tenant, computed and stored on the first read."""
    tenant_id = _tenant(principal)
    record = records.read(quality_score_id(session_id), tenant_id)
    if _is_scored(record) and not (record or {}).get("pending"):
        return success(scorecard=scorecard_view(record))
    session, evaluation = _evaluate(tenant_id, session_id)

    def build(current: Document | None) -> tuple[Document, Document] | None:
        if _is_scored(current):
            return None  # computed by a concurrent first read: that one stands
        return _scorecard_change(session, evaluation, current)

    stored = commit(tenant_id, session_id, build, current=record)
    return success(scorecard=scorecard_view(stored or {}))


def _audit_view(record: Document | None) -> dict[str, Any]:
    record = record or {}
    summary = record.get("qualitySummary") or {}
    return {
        "totalScore": record.get("totalScore"),
        "dimensions": record.get("dimensions"),
        "qualitySummary.overallBand": summary.get("overallBand"),
        "qualitySummary.pass": summary.get("pass"),
        "evaluatorVersion": record.get("evaluatorVersion"),
    }


def recompute(principal: Principal, session_id: str, *, ip: str | None = None) -> dict[str, Any]:
    """Evaluate a session again and replace its stored scorecard (audited with what changed)."""
    from shared.audit import service as audit

    tenant_id = _tenant(principal)
    record = records.read(quality_score_id(session_id), tenant_id)
    session, evaluation = _evaluate(tenant_id, session_id)
    before = _audit_view(record) if _is_scored(record) else {}
    stored = commit(
        tenant_id, session_id, lambda current: _scorecard_change(session, evaluation, current), current=record
    )
    audit.record(
        principal,
        "quality.recomputed",
        target_type="qualityScore",
        target_id=quality_score_id(session_id),
        tenant_id=tenant_id,
        changes=audit.diff(before, _audit_view(stored), AUDITED_FIELDS),
        ip=ip,
    )
    return success(scorecard=scorecard_view(stored or {}))


def list_scorecards(principal: Principal) -> dict[str, Any]:
    """The tenant's stored scorecards, most recently computed first (at most 200; one query)."""
    tenant_id = _tenant(principal)
    return success(tenantId=tenant_id, scorecards=[scorecard_view(doc) for doc in records.newest_scored(tenant_id)])


def get_funnel(principal: Principal) -> dict[str, Any]:
    """The tenant's quality funnel from its counters document (one point read, however many sessions)."""
    tenant_id = _tenant(principal)
    return funnel.funnel_response(records.read(FUNNEL_ID, tenant_id), tenant_id=tenant_id, now=clock.now_iso())


# ------------------------------------------------------------------------------------------------ facts from events


def _queue_facts(tenant_id: str, session_id: str, source: str) -> None:
    from shared.platform.store import queues
    from shared.platform.store.registry import QUALITY_FACTS_QUEUE
    from shared.tenants.ids import is_reserved

    if is_reserved(tenant_id):
        return  # the platform's own tenants have no members: no one reads their funnel
    try:
        queues.enqueue(QUALITY_FACTS_QUEUE, {"tenantId": tenant_id, "sessionId": session_id, "source": source})
    except Exception:
        logger.warning("could not queue %s quality facts of session %s", source, session_id, exc_info=True)


def on_session_finalized(doc: dict[str, Any], extracted: dict[str, Any], created: bool) -> None:
    """Subscriber of `session.finalized`: the session's funnel facts follow through the queue."""
    _queue_facts(doc["tenantId"], doc["id"], "session")


def on_evidence_indexed(before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    """Subscriber of `evidence.indexed`: queue the row's knowledge-gap facts when they changed."""
    if before is not None and funnel.evidence_facts(before) == funnel.evidence_facts(after):
        return
    _queue_facts(after["tenantId"], after["sessionId"], "evidence")


def apply_source_facts(tenant_id: str, session_id: str, source: str) -> str:
    """The queue job: fold a session's current facts of one source into its record and the funnel."""
    if source == "session":
        from shared.sessions import aggregate

        session = aggregate.read_live(tenant_id, session_id)
        if not session.get("finalizedAt"):
            return "not finalized: nothing to count"
        facts, extra = funnel.session_facts(session), _ttl(session)
    else:
        from shared.evidence import service as evidence

        entry = evidence.index_entry(tenant_id, session_id)
        if entry is None:
            raise NotFound("The session has no evidence index row")
        facts, extra = funnel.evidence_facts(entry), {}

    def build(current: Document | None) -> tuple[Document, Document] | None:
        applied = dict((current or {}).get("facts") or {})
        if applied.get(source) == facts:
            return None
        return extra, {**applied, source: facts}

    commit(tenant_id, session_id, build)
    return f"{source} facts of {session_id} up to date"
