"""The control-plane pilots: create, read, change, annotate; the contract and ROI assumptions as versioned documents.

The tenant is always the caller's (from the organization, never from the request). A pilot and everything the
console shows about it (notes, current contract and ROI, weekly snapshots) is one single-partition query;
another tenant's pilot is simply not in the partition (404), and an id that is not a pilot id is a 404 before
any store call.

Status moves follow `shared.pilots.machine` (400 for a skipped or backward move), are written with the pilot's
ETag, kept in its `statusHistory` and published as `pilot.moved` (before, after) — creation included — for the
metrics. A pilot created from a lead (`sourceLeadId`) drags that lead along (`machine.lead_move`) through the
lead desk's own code path (`shared.leads.desk.advance`: the lead's history, `lead.stored`, an audit event).
Every change is audited: `pilot.created`, `pilot.updated` (the changed fields), `pilot.note_added`,
`pilot.contract_updated`, `pilot.roi_updated`.

Contract and ROI assumptions are their own documents: the current one (`<pilotId>:contract`, `<pilotId>:roi`)
carries a `version` that every PUT raises by one (an ETag write, so two concurrent PUTs cannot both become
version n), and every version is also kept as an immutable item (`...:v<n>`), so the snapshot that valued a
week with version 3 of the ROI assumptions can be explained later. A PUT replaces the terms whole; writing the
same terms again stores nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from typing import Any

from shared.audit import service as audit
from shared.pilots import documents, machine
from shared.pilots import repository as repo
from shared.pilots.ids import is_pilot_id, new_pilot_id
from shared.pilots.models import (
    PilotContractBody,
    PilotCreateBody,
    PilotListQuery,
    PilotPatchBody,
    PilotRoiBody,
)
from shared.platform import clock, events
from shared.platform.errors import BadRequest, Conflict, NotFound, PreconditionFailed, ServiceError
from shared.platform.principal import Principal
from shared.platform.store.repository import Document

logger = logging.getLogger("tellgence.pilots")

MAX_WRITE_ATTEMPTS = 5
MAX_AUTHOR_NAME = 200

pilots = repo.PilotRepository()


class UnknownLead(BadRequest):
    """sourceLeadId names no lead of the caller's tenant (createPilot documents no 404)."""

    code = "unknown_lead"


def tenant_of(principal: Principal) -> str:
    """The caller's tenant (the auth mode guarantees a member)."""
    if not principal.tenant_id:
        raise NotFound("Pilot not found")
    return principal.tenant_id


def split(items: list[Document]) -> dict[str, list[Document]]:
    """A pilot's items by type, each list in query order."""
    by_type: dict[str, list[Document]] = defaultdict(list)
    for item in items:
        by_type[str(item.get("type"))].append(item)
    return by_type


def load(tenant_id: str, pilot_id: str, types: tuple[str, ...] = repo.VIEW_TYPES) -> dict[str, list[Document]]:
    """A pilot's items by type (one query); NotFound for an unknown id or another tenant's pilot."""
    if not is_pilot_id(pilot_id):
        raise NotFound("Pilot not found", code="pilot_not_found")
    by_type = split(pilots.items_of(tenant_id, pilot_id, types))
    if not by_type.get(repo.PILOT):
        raise NotFound("Pilot not found", code="pilot_not_found")
    return by_type


def _one(by_type: dict[str, list[Document]], kind: str) -> Document | None:
    found = by_type.get(kind) or []
    return found[0] if found else None


# ------------------------------------------------------------------------------------------------ reads


def list_pilots(principal: Principal, query: PilotListQuery) -> dict[str, Any]:
    """The tenant's pilots, newest first, filtered by status and vertical pack, each with its notes."""
    tenant_id = tenant_of(principal)
    filters = {name: value for name, value in (("status", query.status), ("verticalPack", query.verticalPack)) if value}
    found = pilots.pilots_of(tenant_id, filters)
    notes: dict[str, list[Document]] = defaultdict(list)
    for note in pilots.notes_of(tenant_id, [pilot["pilotId"] for pilot in found]):
        notes[note["pilotId"]].append(note)
    views = [documents.pilot_view(pilot, notes.get(pilot["pilotId"], [])) for pilot in found]
    return {"tenantId": tenant_id, "count": len(views), "pilots": views}


def get_pilot(principal: Principal, pilot_id: str) -> dict[str, Any]:
    """A pilot with its notes, current contract and ROI assumptions and weekly snapshots (one query)."""
    from shared.pilots.snapshots import snapshot_view

    by_type = load(tenant_of(principal), pilot_id)
    snapshots = sorted(by_type.get(repo.SNAPSHOT, []), key=lambda doc: str(doc.get("weekId")))
    return {
        "pilot": documents.pilot_view(by_type[repo.PILOT][0], by_type.get(repo.NOTE, [])),
        "contract": documents.contract_view(_one(by_type, repo.CONTRACT)),
        "roi": documents.roi_view(_one(by_type, repo.ROI)),
        "snapshots": [snapshot_view(doc) for doc in snapshots],
    }


def list_snapshots(principal: Principal, pilot_id: str) -> dict[str, Any]:
    """A pilot's weekly snapshots, oldest week first (one query: the pilot and its snapshots)."""
    from shared.pilots.snapshots import snapshot_view

    tenant_id = tenant_of(principal)
    by_type = load(tenant_id, pilot_id, (repo.PILOT, repo.SNAPSHOT))
    snapshots = sorted(by_type.get(repo.SNAPSHOT, []), key=lambda doc: str(doc.get("weekId")))
    return {"tenantId": tenant_id, "pilotId": pilot_id, "snapshots": [snapshot_view(doc) for doc in snapshots]}


# ------------------------------------------------------------------------------------------------ pilots


def _history_entry(previous: str | None, status: str, actor: str, now: str) -> dict[str, Any]:
    return {"from": previous, "to": status, "at": now, "actor": actor}


def _follow_lead(principal: Principal, pilot: Document, *, ip: str | None) -> None:
    """Drag the pilot's source lead to the stage the pilot's status implies (idempotent)."""
    lead_id = pilot.get("sourceLeadId")
    if not lead_id:
        return
    from shared.leads import desk

    status = pilot["status"]
    desk.advance(
        principal,
        lead_id,
        lambda lead_status: machine.lead_move(lead_status, status),
        reason=f"pilot {pilot['pilotId']} is {status}",
        ip=ip,
    )


def create_pilot(principal: Principal, body: PilotCreateBody, *, ip: str | None = None) -> dict[str, Any]:
    """Create a pilot in the caller's tenant (invited unless it starts in setup or active), audited."""
    tenant_id = tenant_of(principal)
    status = machine.initial_status(body.status)
    start, end = body.pilotStartDate or None, body.pilotEndDate or None
    machine.check_dates(start, end)
    lead_id = body.sourceLeadId or None
    if lead_id is not None:
        from shared.leads import desk

        if desk.lead_status(principal, lead_id) is None:
            raise UnknownLead("sourceLeadId: no lead of this tenant has that id")
    now = clock.now_iso()
    pilot: Document = {
        "id": "",
        "pilotId": "",
        "tenantId": tenant_id,
        "organizationName": body.organizationName,
        "primaryContact": documents.contact(body.primaryContact.model_dump()),
        "verticalPack": body.verticalPack,
        "status": status,
        "statusHistory": [_history_entry(None, status, principal.user_id, now)],
        "statusChangedAt": now,
        "createdBy": principal.user_id,
        "createdAt": now,
        "updatedAt": now,
        **documents.present(
            {
                "sourceLeadId": lead_id,
                "successCriteria": body.successCriteria,
                "pilotStartDate": start,
                "pilotEndDate": end,
            },
            ("sourceLeadId", "successCriteria", "pilotStartDate", "pilotEndDate"),
        ),
    }
    stored = None
    for _ in range(MAX_WRITE_ATTEMPTS):
        pilot["id"] = pilot["pilotId"] = new_pilot_id()
        try:
            stored = pilots.create(dict(pilot))
            break
        except Conflict:
            continue  # an id collision: draw another
    if stored is None:
        raise Conflict("Could not allocate a pilot id; try again", code="write_conflict")
    try:
        _follow_lead(principal, stored, ip=ip)
    except ServiceError:
        # Nothing half-written: a pilot whose lead could not follow is taken back, so a retry starts clean.
        pilots.delete(stored["id"], tenant_id)
        raise
    events.publish("pilot.moved", None, stored)
    audit.record(
        principal,
        "pilot.created",
        target_type="pilot",
        target_id=stored["pilotId"],
        tenant_id=tenant_id,
        changes={
            name: {"from": None, "to": stored[name]}
            for name in documents.PILOT_FIELDS
            if name not in ("pilotId", "tenantId") and stored.get(name) is not None
        },
        ip=ip,
    )
    return documents.pilot_view(stored, [])


def _patched(pilot: Document, body: PilotPatchBody, actor: str, now: str) -> tuple[Document, str | None]:
    """The pilot with the patch applied (a new dict) and the previous status when the status moved."""
    changes = body.model_dump(exclude_unset=True)
    updated = dict(pilot)
    moved_from = None
    if "status" in changes:
        target = machine.check_move(pilot["status"], changes["status"])
        if not machine.is_noop(pilot["status"], target):
            moved_from = pilot["status"]
            history = [dict(entry) for entry in pilot.get("statusHistory") or []]
            history.append(_history_entry(moved_from, target, actor, now))
            updated.update(status=target, statusHistory=history, statusChangedAt=now)
    for name in ("organizationName", "verticalPack", "successCriteria", "pilotStartDate", "pilotEndDate"):
        if name in changes:
            value = changes[name]
            if isinstance(value, str) and not value.strip():
                updated.pop(name, None)  # a blank optional field clears it
            else:
                updated[name] = value
    if "primaryContact" in changes:
        updated["primaryContact"] = documents.contact(changes["primaryContact"])
    machine.check_dates(updated.get("pilotStartDate"), updated.get("pilotEndDate"))
    return updated, moved_from


def patch_pilot(principal: Principal, pilot_id: str, body: PilotPatchBody, *, ip: str | None = None) -> dict:
    """Change a pilot's fields or move its status (ETag-safe, audited); the same values again change nothing."""
    tenant_id = tenant_of(principal)
    by_type = load(tenant_id, pilot_id, (repo.PILOT, repo.NOTE))
    pilot, notes = by_type[repo.PILOT][0], by_type.get(repo.NOTE, [])
    for _ in range(MAX_WRITE_ATTEMPTS):
        now = clock.now_iso()
        updated, moved_from = _patched(pilot, body, principal.user_id, now)
        changes = audit.diff(pilot, updated, documents.EDITABLE_FIELDS)
        if not changes:
            stored = pilot
            break
        updated["updatedAt"] = now
        try:
            stored = pilots.replace(updated)
        except PreconditionFailed:
            pilot = pilots.get(pilot_id, tenant_id, what="Pilot")
            continue
        if moved_from is not None:
            events.publish("pilot.moved", pilot, stored)
        audit.record(
            principal, "pilot.updated", target_type="pilot", target_id=pilot_id, tenant_id=tenant_id,
            changes=changes, ip=ip,
        )  # fmt: skip
        break
    else:
        raise Conflict("The pilot is being changed by others; try again", code="write_conflict")
    if body.status is not None:
        # Also when the status did not move: a retry after a failed lead update repairs the lead.
        _follow_lead(principal, stored, ip=ip)
    return documents.pilot_view(stored, notes)


def _author_name(principal: Principal) -> str | None:
    name = principal.claims.get("name") if isinstance(principal.claims, dict) else None
    if isinstance(name, str) and name.strip():
        return " ".join(name.split())[:MAX_AUTHOR_NAME]
    return principal.email or None


def append_note(principal: Principal, pilot_id: str, text: str, *, ip: str | None = None) -> dict[str, Any]:
    """Append one note (author from the token) to a pilot, audited; the pilot with its notes."""
    tenant_id = tenant_of(principal)
    body = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise BadRequest("body.body: must not be blank", code="validation_error")
    by_type = load(tenant_id, pilot_id, (repo.PILOT, repo.NOTE))
    pilot, notes = by_type[repo.PILOT][0], by_type.get(repo.NOTE, [])
    note: Document = {
        "id": f"note-{uuid.uuid4().hex}",
        "type": repo.NOTE,
        "pilotId": pilot_id,
        "tenantId": tenant_id,
        "authorUserId": principal.user_id,
        "body": body,
        "createdAt": clock.now_iso(),
    }
    if author := _author_name(principal):
        note["authorDisplayName"] = author
    stored = pilots.create(note)
    audit.record(
        principal,
        "pilot.note_added",
        target_type="pilot",
        target_id=pilot_id,
        tenant_id=tenant_id,
        changes={"notes": {"from": len(notes), "to": len(notes) + 1}},
        ip=ip,
    )
    return documents.pilot_view(pilot, [*notes, stored])


# ------------------------------------------------------------------------------------------------ versioned terms


def _put_versioned(
    principal: Principal,
    pilot_id: str,
    *,
    kind: str,
    version_kind: str,
    current_id: str,
    values: dict[str, Any],
    fields: tuple[str, ...],
    action: str,
    ip: str | None,
) -> Document:
    """Store `values` as the next version of a pilot's contract or ROI document (see the module docstring)."""
    tenant_id = tenant_of(principal)
    if not is_pilot_id(pilot_id):
        raise NotFound("Pilot not found", code="pilot_not_found")
    for _ in range(MAX_WRITE_ATTEMPTS):
        by_type = split(pilots.with_ids(tenant_id, pilot_id, (repo.PILOT,), [current_id]))
        if not by_type.get(repo.PILOT):
            raise NotFound("Pilot not found", code="pilot_not_found")
        current = _one(by_type, kind)
        before = documents.present(current or {}, fields)
        if current is not None and before == values:
            return current
        now = clock.now_iso()
        version = int((current or {}).get("version") or 0) + 1
        doc: Document = {
            "id": current_id,
            "type": kind,
            "pilotId": pilot_id,
            "tenantId": tenant_id,
            **values,
            "version": version,
            "createdAt": (current or {}).get("createdAt") or now,
            "updatedAt": now,
            "updatedByUserId": principal.user_id,
        }
        try:
            stored = pilots.create(doc) if current is None else pilots.replace({**doc, "_etag": current["_etag"]})
        except (Conflict, PreconditionFailed):
            continue  # another PUT took this version: start again from what it stored
        history = {key: value for key, value in stored.items() if key != "_etag"}
        history.update(id=repo.version_id(current_id, version), type=version_kind, versionOf=current_id)
        try:
            pilots.create(history)
        except ServiceError:
            # The version must exist as an item too: without it, put the current document back as it was.
            try:
                if current is None:
                    pilots.delete(current_id, tenant_id)
                else:
                    pilots.replace({**current, "_etag": stored["_etag"]})
            except ServiceError:
                logger.exception("could not undo %s of pilot %s after its version item failed", kind, pilot_id)
            raise
        audit.record(
            principal,
            action,
            target_type="pilot",
            target_id=pilot_id,
            tenant_id=tenant_id,
            changes={
                **audit.diff(before, values, fields),
                "version": {"from": version - 1 or None, "to": version},
            },
            ip=ip,
        )
        return stored
    raise Conflict("The pilot's terms are being changed by others; try again", code="write_conflict")


def put_contract(principal: Principal, pilot_id: str, body: PilotContractBody, *, ip: str | None = None) -> dict:
    """Store the pilot's commercial terms as a new version (admins; audited)."""
    values = documents.present(body.model_dump(), documents.CONTRACT_FIELDS)
    stored = _put_versioned(
        principal,
        pilot_id,
        kind=repo.CONTRACT,
        version_kind=repo.CONTRACT_VERSION,
        current_id=repo.contract_id(pilot_id),
        values=values,
        fields=documents.CONTRACT_FIELDS,
        action="pilot.contract_updated",
        ip=ip,
    )
    return documents.contract_view(stored)


def put_roi(principal: Principal, pilot_id: str, body: PilotRoiBody, *, ip: str | None = None) -> dict:
    """Store the pilot's ROI assumptions as a new version (admins; audited); snapshots value weeks with them."""
    values = documents.present(body.model_dump(), documents.ROI_FIELDS)
    stored = _put_versioned(
        principal,
        pilot_id,
        kind=repo.ROI,
        version_kind=repo.ROI_VERSION,
        current_id=repo.roi_id(pilot_id),
        values=values,
        fields=documents.ROI_FIELDS,
        action="pilot.roi_updated",
        ip=ip,
    )
    return documents.roi_view(stored)
