"""Realtime runtime sessions: the record of one live voice connection, its utterances and its media stats.

Who may touch one. A runtime session's id is `rt_` + 256 random bits (base64url): it cannot be guessed or
enumerated, and whoever created the session holds it, so the id is the capability to read it and to post
its utterances and stats. On top of that every realtime operation needs the realtime API key when
API_KEY_FOR_REALTIME is set (the browser app's key). Creating one takes the tenant from an operator bearer,
else from the body under the public-demo rule of demo sessions, else from the linked demo session, else
`default-practice`. Linking a demo session (metadata `demoSessionId`) needs proof of access to it (its key,
or a bearer of its tenant), because the link writes the runtime session's latency onto that session.

Storage (partition = the runtime session id everywhere, so nothing fans out):
- `realtime_sessions`: the session document — state, counters, the latest media stats, the latency summary
  of its reports, the recent state transitions (the answer's `evidence`) and the link.
- `realtime_utterances`: one item per utterance, numbered by the session's server-side counter.
- `realtime_stats`: one item per stats report, as received.
Everything expires with the session (SESSION_TTL_SECONDS after creation, per-item ttl).

Counting without a race. An utterance reads the session (absent, expired or closed: nothing is written),
then counts itself with one server-side patch (`incr` of utteranceCount, interruptionCount, toolCallCount)
guarded by the state it read: no ETag, no read-modify-write, so 50 concurrent posts all land and the
counter is exact. The number the patch returns is the utterance's sequence number. Only a post that changes
the state (the first utterance moves initializing/connected/paused to active) writes the document with its
ETag. If storing the utterance then fails, the counts are patched back. Stats reports change the state
machine and a mergeable latency summary, so they are ETag writes that re-read and re-apply on a lost race.

Answers. Every operation answers the session; GET adds the most recent TRANSCRIPT_TAIL utterances in order,
a posted utterance answers itself as the transcript, and `stats` is the latest report (by lastActivity).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared.catalog import content
from shared.platform import clock, events
from shared.platform.errors import BadRequest, NotFound, PreconditionFailed, ServiceError
from shared.platform.settings import get_settings
from shared.platform.store.repository import Document
from shared.realtime import states
from shared.realtime.latency import LatencySummary
from shared.realtime.repository import RuntimeSessionRepository, StatsReportRepository, UtteranceRepository
from shared.realtime.selection import normalize_locale
from shared.sessions.secret_guard import find_secrets
from shared.tenants.ids import DEFAULT_TENANT_ID

if TYPE_CHECKING:
    from shared.platform.principal import Principal
    from shared.realtime.models import RuntimeSessionBody, StatsBody, UtteranceBody
    from shared.sessions.access import SessionGrant

logger = logging.getLogger(__name__)

ID_PREFIX = "rt_"
ID_RANDOM_BYTES = 32
LINK_KEY = "demoSessionId"
TRANSCRIPT_TAIL = 100
MAX_TRANSITIONS = 50
MAX_STATE_ATTEMPTS = 40
# An utterance's metadata marks what the counters count.
INTERRUPTED_KEY = "interrupted"
TOOL_CALL_KEYS = ("toolCall", "toolName")
# Confidence of a transcript the client did not score: the text is taken as given.
DEFAULT_CONFIDENCE = 1.0

SESSION_FIELDS = (
    "sessionId",
    "tenantId",
    "personaId",
    "personaName",
    "locale",
    "transportMode",
    "channelId",
    "metadata",
    "createdAt",
    "updatedAt",
    "state",
    "utteranceCount",
    "interruptionCount",
    "toolCallCount",
    "lastUtteranceId",
    "mediaStats",
)
UTTERANCE_FIELDS = ("id", "sessionId", "speaker", "text", "startTime", "endTime", "confidence", "locale", "metadata")

runtime_sessions = RuntimeSessionRepository()
utterances = UtteranceRepository()
reports = StatsReportRepository()


def now_ms() -> int:
    """The current time in epoch milliseconds (the contract's session times are numbers)."""
    return int(clock.utc_now().timestamp() * 1000)


def _refuse_secrets(metadata: dict[str, Any] | None, where: str) -> None:
    leaks = find_secrets(metadata or {})
    if leaks:
        raise BadRequest(
            f"{where} must not carry keys or tokens: " + ", ".join(sorted(leaks)[:10]), code="secret_in_payload"
        )


# --- create -------------------------------------------------------------------------------------------


def linked_session_id(body: RuntimeSessionBody) -> str | None:
    """Check a create body before anything is read: persona, locale, metadata; returns the demo session to link.

    BadRequest for an unknown persona (the operation has no 404), a malformed locale, a secret-shaped value in
    metadata, or a `demoSessionId` that is not an id.
    """
    from shared.platform.ids import is_valid_id

    if body.personaId not in content.personas():
        raise BadRequest(f"Persona {body.personaId!r} not found", code="unknown_persona")
    normalize_locale(body.locale, "locale")
    _refuse_secrets(body.metadata, "metadata")
    link = (body.metadata or {}).get(LINK_KEY)
    if link is None:
        return None
    if not is_valid_id(link):
        raise BadRequest(f"metadata.{LINK_KEY} must be a session id", code="validation_error")
    return link


def create(
    body: RuntimeSessionBody,
    *,
    principal: Principal | None,
    origin: str | None,
    link: SessionGrant | None,
) -> dict[str, Any]:
    """Create a runtime session in `initializing` (and link it to the demo session `link` opens)."""
    from shared.realtime import demo_link
    from shared.sessions import service as demo_sessions

    if principal is not None and principal.tenant_id:
        tenant_id = principal.tenant_id
    elif body.tenantId is not None:
        tenant_id = demo_sessions.resolve_tenant(None, body.tenantId, origin)
    elif link is not None:
        tenant_id = link.tenant_id
    else:
        tenant_id = DEFAULT_TENANT_ID
    if link is not None:
        if link.tenant_id != tenant_id:
            raise BadRequest("The linked demo session belongs to another tenant", code="session_tenant_mismatch")
        demo_link.check_room(link)

    ttl = max(1, get_settings().session_ttl_seconds)
    now = now_ms()
    session_id = ID_PREFIX + secrets.token_urlsafe(ID_RANDOM_BYTES)
    doc: Document = {
        "id": session_id,
        "sessionId": session_id,
        "tenantId": tenant_id,
        "personaId": body.personaId,
        "personaName": body.personaName,
        "locale": normalize_locale(body.locale, "locale"),
        "transportMode": body.transportMode,
        "createdAt": now,
        "updatedAt": now,
        "expiresAt": clock.iso(clock.utc_now() + timedelta(seconds=ttl)),
        "state": states.INITIAL_STATE,
        "utteranceCount": 0,
        "interruptionCount": 0,
        "toolCallCount": 0,
        "statsReportCount": 0,
        "transitions": [{"type": "state_transition", "to": states.INITIAL_STATE, "at": now}],
        "ttl": ttl,
    }
    if body.channelId:
        doc["channelId"] = body.channelId
    if body.metadata is not None:
        doc["metadata"] = body.metadata
    if link is not None:
        doc["link"] = {"sessionId": link.session_id, "tenantId": link.tenant_id}

    stored = runtime_sessions.create(doc)
    if link is not None:
        try:
            demo_link.link(link, session_id)
        except ServiceError:
            # Nothing half-written: without its link the runtime session would never reach the demo session.
            with contextlib.suppress(ServiceError):
                runtime_sessions.delete(session_id, session_id)
            raise
    return detail(stored, transcript=[])


# --- read ---------------------------------------------------------------------------------------------


def _is_expired(doc: Document) -> bool:
    expires_at = doc.get("expiresAt")
    return bool(expires_at) and clock.parse_iso(expires_at) <= clock.utc_now()


def read_live(session_id: str) -> Document:
    """A runtime session by id; NotFound when absent or expired."""
    doc = runtime_sessions.read(session_id, session_id)
    if doc is None or _is_expired(doc):
        raise NotFound("Runtime session not found", code="session_not_found")
    return doc


def get(session_id: str) -> dict[str, Any]:
    """The session with its most recent TRANSCRIPT_TAIL utterances (one point read and one range query)."""
    doc = read_live(session_id)
    count = int(doc.get("utteranceCount") or 0)
    tail = utterances.tail(session_id, count, TRANSCRIPT_TAIL) if count else []
    return detail(doc, transcript=[utterance_view(item) for item in tail])


def session_view(doc: Document) -> dict[str, Any]:
    """The contract's runtime session object."""
    return {name: doc[name] for name in SESSION_FIELDS if name in doc}


def utterance_view(item: Document) -> dict[str, Any]:
    """The contract's transcript item."""
    return {name: item[name] for name in UTTERANCE_FIELDS if name in item}


def detail(doc: Document, *, transcript: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer of every runtime-session operation: session, transcript, evidence (state transitions), stats."""
    return {
        "session": session_view(doc),
        "transcript": transcript,
        "evidence": [dict(entry) for entry in doc.get("transitions") or []],
        "stats": doc.get("mediaStats"),
    }


def _move(doc: Document, target: str, at: int) -> None:
    """Move the document's state to `target` (one allowed step), recording the transition."""
    current = doc["state"]
    new_state = states.transition(current, target)
    if new_state == current:
        return
    doc["state"] = new_state
    entry = {"type": "state_transition", "from": current, "to": new_state, "at": at}
    doc["transitions"] = [*(doc.get("transitions") or []), entry][-MAX_TRANSITIONS:]


# --- utterances ---------------------------------------------------------------------------------------


def _counter_operations(deltas: dict[str, int], extra: dict[str, Any]) -> list[dict[str, Any]]:
    operations = [{"op": "incr", "path": f"/{name}", "value": by} for name, by in deltas.items() if by]
    operations += [{"op": "set", "path": f"/{name}", "value": value} for name, value in extra.items()]
    return operations


def _count_utterance(session_id: str, deltas: dict[str, int], extra: dict[str, Any], now: int) -> Document:
    """Count one utterance on the session; moves it to active when the utterance implies it. Returns the document.

    The session is read first (absent, expired or closed: nothing is written). An active or closing session
    (late transcripts) is counted by one server-side patch guarded by that state, so concurrent posts never
    overwrite each other; initializing, connected and paused move to active along the state machine with an
    ETag write. A lost race (the state moved, or another writer won the ETag) reads again.
    """
    operations = _counter_operations(deltas, extra)
    for _ in range(MAX_STATE_ATTEMPTS):
        doc = read_live(session_id)
        state = doc["state"]
        if states.is_terminal(state):
            raise BadRequest("The runtime session is closed", code="session_closed")
        if state in ("active", "closing"):
            patched = runtime_sessions.patch_if_state(session_id, state, operations)
            if patched is not None:
                return patched
            continue
        candidate = copy.deepcopy(doc)
        for step in states.path_to(state, "active"):
            _move(candidate, step, now)
        for name, by in deltas.items():
            candidate[name] = int(candidate.get(name) or 0) + by
        candidate.update(extra)
        try:
            return runtime_sessions.replace(candidate)
        except PreconditionFailed:
            continue
    raise BadRequest("The runtime session is changing too fast; try again", code="write_conflict")


def record_utterance(session_id: str, body: UtteranceBody) -> dict[str, Any]:
    """Append one utterance (its own item) and count it on the session without a read-modify-write race."""
    _refuse_secrets(body.metadata, "metadata")
    metadata = body.metadata or {}
    if body.locale is not None:
        normalize_locale(body.locale, "locale")
    interrupted = metadata.get(INTERRUPTED_KEY) is True
    tool_call = any(metadata.get(key) for key in TOOL_CALL_KEYS)
    deltas = {"utteranceCount": 1, "interruptionCount": int(interrupted), "toolCallCount": int(tool_call)}
    now = now_ms()
    utterance_id = "u_" + secrets.token_hex(12)
    doc = _count_utterance(session_id, deltas, {"lastUtteranceId": utterance_id, "updatedAt": now}, now)

    start = body.startTime if body.startTime is not None else float(now)
    item: Document = {
        "id": utterance_id,
        "sessionId": session_id,
        "tenantId": doc["tenantId"],
        "seq": int(doc["utteranceCount"]),
        "speaker": body.speaker,
        "text": body.text,
        "startTime": start,
        "endTime": body.endTime if body.endTime is not None else start,
        "confidence": body.confidence if body.confidence is not None else DEFAULT_CONFIDENCE,
        "locale": normalize_locale(body.locale, "locale") if body.locale else doc["locale"],
        "interrupted": interrupted,
        "createdAt": now,
        "ttl": _remaining_ttl(doc),
    }
    if body.metadata is not None:
        item["metadata"] = body.metadata
    try:
        stored = utterances.create(item)
    except ServiceError:
        _undo_counts(session_id, deltas)
        raise
    return detail(doc, transcript=[utterance_view(stored)])


def _undo_counts(session_id: str, deltas: dict[str, int]) -> None:
    """Take back counts of an utterance that was not stored (best effort: the failure is raised anyway)."""
    try:
        runtime_sessions.patch(session_id, _counter_operations({k: -v for k, v in deltas.items()}, {}))
    except ServiceError:
        logger.warning("realtime: could not take back the counts of an unstored utterance on %s", session_id)


def _remaining_ttl(doc: Document) -> int:
    """Seconds until the session expires, so its items go with it."""
    expires_at = doc.get("expiresAt")
    if not expires_at:
        return max(1, get_settings().session_ttl_seconds)
    return max(1, int((clock.parse_iso(expires_at) - clock.utc_now()).total_seconds()))


# --- stats --------------------------------------------------------------------------------------------


def record_stats(session_id: str, body: StatsBody) -> dict[str, Any]:
    """Keep one stats report (its own item), fold it into the session's latest stats and latency summary.

    A report may carry the state the client sees (`state`): one allowed move of the state machine, or a
    repeat of the current state; any other move is a 400 and nothing is written. A session linked to a demo
    session passes the report's latency on to it.
    """
    if body.sessionId != session_id:
        raise BadRequest("The report's sessionId must be the session in the path", code="session_mismatch")
    doc = read_live(session_id)
    now = now_ms()
    if body.state is not None:
        states.transition(doc["state"], body.state)
    report = body.report()

    def fold(current: Document) -> None:
        if _is_expired(current):
            raise NotFound("Runtime session not found", code="session_not_found")
        if body.state is not None:
            _move(current, body.state, now)
        summary = LatencySummary.from_dict(current.get("latency")).add_report(report)
        current["latency"] = summary.to_dict()
        latest = current.get("mediaStats")
        if latest is None or report["lastActivity"] >= latest.get("lastActivity", 0):
            current["mediaStats"] = report
        current["statsReportCount"] = int(current.get("statsReportCount") or 0) + 1
        current["updatedAt"] = now

    item = {
        **report,
        "id": "s_" + secrets.token_hex(12),
        "sessionId": session_id,
        "tenantId": doc["tenantId"],
        "receivedAt": now,
        "ttl": _remaining_ttl(doc),
    }
    if body.state is not None:
        item["state"] = body.state
    reports.create(item)
    try:
        updated = _apply(doc, fold)
    except ServiceError:
        # The report is kept only if the session took it (e.g. a concurrent close made its state move invalid).
        with contextlib.suppress(ServiceError):
            reports.delete(item["id"], session_id)
        raise

    if body.averageLatencyMs is not None:
        # Each report is one latency sample, numbered by the session's report count.
        events.publish("realtime.stats", updated, [body.averageLatencyMs], int(updated["statsReportCount"]) - 1)
    link = updated.get("link")
    if link:
        from shared.realtime import demo_link

        try:
            demo_link.record_latency(
                link["tenantId"],
                link["sessionId"],
                session_id,
                body.averageLatencyMs,
                int(updated.get("interruptionCount") or 0),
            )
        except NotFound:
            # The demo session expired or was purged; the runtime session keeps its own figures.
            logger.info("realtime: linked demo session of %s is gone; latency kept on the runtime session", session_id)
    return detail(updated, transcript=[])


def _apply(loaded: Document, mutate) -> Document:
    """Write `mutate` applied to the copy already read (ETag); on a lost race re-read and re-apply."""
    candidate = copy.deepcopy(loaded)
    mutate(candidate)
    try:
        return runtime_sessions.replace(candidate)
    except PreconditionFailed:
        pass
    return runtime_sessions.update(loaded["id"], loaded["id"], mutate, what="Runtime session")
