"""Evidence operations: signed packs and PDFs of a session, verification, and the control-plane evidence index.

Packs and PDFs are built from the stored session only (the grant already read it) and kept in Blob Storage
(`shared.evidence.storage`): a request whose pack or PDF is stored costs the session read and one blob read.
Tool executions and approvals come from the tool execution journal (`shared.tools`: one single-partition query
of the session's items); callers that already hold them pass them in.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.evidence import index, storage
from shared.evidence.bundle import build_bundle, content_sha256, is_finalized, section_sha256, sign_bundle
from shared.evidence.repository import EvidenceIndexRepository
from shared.platform import clock, events
from shared.platform.envelope import success
from shared.platform.errors import Conflict, NotFound, PreconditionFailed
from shared.platform.principal import Principal
from shared.platform.store.registry import EVIDENCE_INDEX_QUEUE, EVIDENCE_PACKS_CONTAINER, PDFS_CONTAINER
from shared.sessions import aggregate
from shared.sessions.access import SessionGrant

logger = logging.getLogger("tellgence.evidence")

rows = EvidenceIndexRepository()

Journal = Sequence[Mapping[str, Any]] | None
# What the session summary PDF shows: its cache key is a digest of exactly these fields.
SUMMARY_FIELDS = (
    "id",
    "scenarioId",
    "scenarioTitle",
    "companyName",
    "createdAt",
    "finalizedAt",
    "duration",
    "requestedLocale",
    "results",
    "transcript",
    "consentRetention",
)
INDEX_ATTEMPTS = 10
AUDIT_FIELDS = ("outcome", "status", "summaryLine", "flags", "ingestionSummary")


@dataclass(frozen=True, slots=True)
class StoredFile:
    """Stored bytes to send: a pack (JSON) or a PDF, with a strong validator."""

    data: bytes
    media_type: str
    etag: str
    filename: str | None = None


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:40] + '"'


def _digest(value: Any) -> str:
    # Cache keys only (not evidence): stable JSON of what a rendering shows.
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=1)
def _renderer_version() -> str:
    """A digest of the PDF renderer's source: a changed renderer renders again instead of serving old PDFs."""
    import shared.pdf.render as render

    return hashlib.sha256(Path(render.__file__).read_bytes()).hexdigest()[:16]


def _not_finalized(what: str) -> NotFound:
    return NotFound(
        f"The session is not finalized yet: {what} exists only for finished sessions", code="session_not_finalized"
    )


def _journal(session: Mapping[str, Any], tool_executions: Journal, approvals: Journal) -> tuple[list, list]:
    """The session's tool calls and approvals: as passed in, else read from the tool execution journal."""
    if tool_executions is not None and approvals is not None:
        return list(tool_executions), list(approvals)
    from shared.tools.service import evidence_journal

    calls, decided = evidence_journal(session["tenantId"], session["id"])
    return (calls if tool_executions is None else list(tool_executions)), (
        decided if approvals is None else list(approvals)
    )


def _pack(
    session: Mapping[str, Any], tool_executions: Journal = None, approvals: Journal = None
) -> tuple[bytes, dict[str, Any]]:
    """The session's stored pack (bytes and parsed), signing and storing it first when its content is new."""
    from shared.evidence.keys import signing_key

    if not is_finalized(session):
        raise _not_finalized("an evidence pack")
    key = signing_key()
    executions, decided = _journal(session, tool_executions, approvals)
    bundle = build_bundle(session, tool_executions=executions, approvals=decided, generated_at=clock.now_iso())
    name = storage.pack_blob_name(session["tenantId"], session["id"], content_sha256(bundle), key.public_key_id)
    stored = storage.read(EVIDENCE_PACKS_CONTAINER, name)
    if stored is not None:
        return stored, json.loads(stored)
    pack = sign_bundle(bundle, key)
    data = json.dumps(pack, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    manifest = pack["manifest"]
    stored = storage.write_once(
        EVIDENCE_PACKS_CONTAINER,
        name,
        data,
        media_type=storage.PACK_MEDIA_TYPE,
        metadata={
            storage.EXPIRY_METADATA: storage.expires_at(session),
            "bundlesha256": manifest["bundleSha256"],
            "packsha256": manifest["packSha256"],
            "publickeyid": key.public_key_id,
            "generatedat": manifest["generatedAt"],
        },
    )
    if stored is data:
        # A new pack means the session changed since the last one: bring its index row up to date.
        request_indexing(session["tenantId"], session["id"])
        return stored, pack
    return stored, json.loads(stored)


def evidence_pack(grant: SessionGrant, *, tool_executions: Journal = None, approvals: Journal = None) -> StoredFile:
    """The signed pack of a finalized session, exactly as stored (the same bytes until the session changes)."""
    data, _ = _pack(aggregate.load(grant), tool_executions, approvals)
    return StoredFile(data, storage.PACK_MEDIA_TYPE, _etag(data))


def _pdf(session: Mapping[str, Any], kind: str, key_material: Any, render: Any) -> StoredFile:
    from shared.pdf.render import filename

    digest = _digest({"renderer": _renderer_version(), "kind": kind, "content": key_material})
    name = storage.pdf_blob_name(session["tenantId"], session["id"], kind, digest)
    data = storage.read(PDFS_CONTAINER, name)
    if data is None:
        data = storage.write_once(
            PDFS_CONTAINER,
            name,
            render(),
            media_type=storage.PDF_MEDIA_TYPE,
            metadata={storage.EXPIRY_METADATA: storage.expires_at(session)},
        )
    return StoredFile(data, storage.PDF_MEDIA_TYPE, _etag(data), filename(kind, session["id"]))


def evidence_pdf(grant: SessionGrant, *, tool_executions: Journal = None, approvals: Journal = None) -> StoredFile:
    """The evidence pack PDF: the stored pack's content, digests, signature and how to verify it."""
    from shared.evidence.keys import signing_key
    from shared.pdf.render import evidence_pack_pdf

    session = aggregate.load(grant)
    if not is_finalized(session):
        raise _not_finalized("the evidence PDF")
    key = signing_key()
    executions, decided = _journal(session, tool_executions, approvals)
    # The PDF shows the stored pack of this content and key, plus what it takes from the session itself.
    content = content_sha256(build_bundle(session, tool_executions=executions, approvals=decided))
    shown = {
        "bundle": content,
        "publicKeyId": key.public_key_id,
        "companyName": session.get("companyName"),
        "requestedLocale": session.get("requestedLocale"),
        "consentRetention": session.get("consentRetention"),
    }

    def render() -> bytes:
        pack = _pack(session, executions, decided)[1]
        return evidence_pack_pdf(pack, section_sha256(pack["bundle"]), session)

    return _pdf(session, "evidence-pack", shown, render)


def session_pdf(grant: SessionGrant) -> StoredFile:
    """The session summary PDF of a finalized session."""
    from shared.pdf.render import session_summary_pdf

    session = aggregate.load(grant)
    if not is_finalized(session):
        raise _not_finalized("the session PDF")
    shown = {name: session.get(name) for name in SUMMARY_FIELDS}
    return _pdf(session, "session-summary", shown, lambda: session_summary_pdf(session))


def verify(body: Any) -> dict[str, Any]:
    """{valid, reason?, publicKeyId?} for a bundle and signature, against the keys this deployment trusts."""
    from shared.evidence.verify import verify_trusted

    signature = body.signature.model_dump(exclude_none=True)
    return verify_trusted(body.bundle, signature)


# The evidence index.


def on_session_finalized(doc: dict[str, Any], extracted: dict[str, Any], created: bool) -> None:
    """Subscriber of `session.finalized`: the evidence index follows finished sessions through its queue."""
    request_indexing(doc["tenantId"], doc["id"])


def on_session_purge(doc: dict[str, Any]) -> None:
    """Subscriber of `session.purging` and `session.purged`: stored packs and PDFs hold the transcript too."""
    from shared.evidence import storage

    storage.purge_session(doc["tenantId"], doc["id"])


def request_indexing(tenant_id: str, session_id: str) -> None:
    """Queue a recomputation of a session's index row; a queue outage is logged (reindex repairs it).

    Platform-owned tenants (anonymous demos) are not indexed: no organization can join them, so no one could
    ever read their rows.
    """
    from shared.platform.store import queues
    from shared.tenants.ids import is_reserved

    if is_reserved(tenant_id):
        return
    try:
        queues.enqueue(EVIDENCE_INDEX_QUEUE, {"tenantId": tenant_id, "sessionId": session_id})
    except Exception:
        logger.warning("could not queue evidence indexing of session %s", session_id, exc_info=True)


def store_row(
    session: Mapping[str, Any], *, tool_executions: Journal = None
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Recompute and store a session's row (ETag-safe, written only when it changed); (before, after)."""
    executions = _journal(session, tool_executions, ())[0]
    tenant_id, session_id = session["tenantId"], session["id"]
    for _ in range(INDEX_ATTEMPTS):
        previous = rows.read(session_id, tenant_id)
        row = index.compute_row(session, tool_executions=executions, previous=previous, now=clock.now_iso())
        try:
            if previous is None:
                stored = rows.create(row)
            elif not index.changed(previous, row):
                return previous, previous
            else:
                stored = rows.replace({**row, "_etag": previous["_etag"]})
        except (Conflict, PreconditionFailed, NotFound):
            continue  # another writer got there first (or the row expired): recompute against what is stored
        events.publish("evidence.indexed", previous, stored)
        return previous, stored
    raise Conflict("The evidence index row is being changed by others; try again", code="write_conflict")


def index_entry(tenant_id: str, session_id: str) -> dict[str, Any] | None:
    """The contract's index item of a session's stored row, or None when it has none (one point read)."""
    row = rows.read(session_id, tenant_id)
    return None if row is None else index.view(row)


def index_session(tenant_id: str, session_id: str) -> str:
    """The queue job: bring one session's row up to date (NotFound when the session is gone)."""
    before, after = store_row(aggregate.read_live(tenant_id, session_id))
    return "unchanged" if before is after else f"indexed ({after['status']}, {after['outcome']})"


def list_rows(principal: Principal) -> dict[str, Any]:
    """The caller's tenant's evidence index, the most recently changed first."""
    tenant_id = principal.tenant_id
    return success(tenantId=tenant_id, evidencePacks=[index.view(row) for row in rows.newest_for_tenant(tenant_id)])


def get_row(principal: Principal, session_id: str) -> dict[str, Any]:
    """One session's row in the caller's tenant; 404 when it has none (another tenant's included)."""
    row = rows.read(session_id, principal.tenant_id)
    if row is None:
        raise NotFound(
            "No evidence index row for this session (a finalized session is indexed shortly; reindex builds it now)",
            code="evidence_not_indexed",
        )
    return success(evidencePack=index.view(row))


def reindex(principal: Principal, session_id: str, *, ip: str | None = None) -> dict[str, Any]:
    """Recompute a session's row from its stored sources (idempotent); a change is audited."""
    from shared.audit import service as audit

    session = aggregate.read_live(principal.tenant_id, session_id)
    before, after = store_row(session)
    if before is not after:
        audit.record(
            principal,
            "evidence.reindex",
            target_type="evidenceIndex",
            target_id=session_id,
            tenant_id=principal.tenant_id,
            changes=audit.diff(before or {}, after, AUDIT_FIELDS),
            ip=ip,
        )
    return success(evidencePack=index.view(after))
