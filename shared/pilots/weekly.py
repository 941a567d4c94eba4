"""Weekly pilot snapshots from stored data, stored once per pilot and week, and their attestation emails.

Where the numbers come from (all single-partition reads of the pilot's tenant; `shared.pilots.snapshots` holds
the model):

* sessions — one projected query over the tenant's sessions (`shared.sessions.aggregate`) for those finalized in
  the week, first confirmed in the week (`bookingConfirmedAt`, which the bookings domain stamps on the session
  at the first confirm) or whose no-show recovery completed and changed since the week began; read in pages of
  1,000. The booking ledger (partition = session) is not read for confirmations: the session carries them.
  Only sessions whose recovery completed have their ledger read, for the `complete_no_show_recovery` instant.
* exceptions — the exceptions desk's items open at some moment of the week (`shared.exceptions`), in pages.
* ROI — the pilot's current ROI assumptions (their version is stored on the snapshot).

Storage: the snapshot is the item `<pilotId>:<weekId>`, created with If-None-Match semantics (a concurrent first
computation loses to the winner and re-reads) and replaced with its ETag. A recompute that changes no metric
writes nothing; one that does replaces the item and records the change (`lastChange`, `{metric: {from, to}}`),
which the recompute answers in `X-Snapshot-Changes` and audits.

Attestation email: when the week is over, nobody attested it yet and the pilot is running or over (active,
completed or converted), the pilot's primary contact is sent a link
(`<WEB_PUBLIC_BASE_URL>/attest/<token>`, token from `shared.pilots.attestations`) through the `emails` queue,
once per distinct set of numbers (the idempotency key carries their digest, so a retried job re-sends the same
email, which the providers recognise). The snapshot records the email's key and whether the queue took it; a
failed send is retried by the next computation of the week (the queue job raises, so the queue retries it).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.pilots import attestations, machine, snapshots
from shared.pilots import repository as repo
from shared.pilots.ids import is_pilot_id
from shared.pilots.service import pilots, split
from shared.pilots.weeks import IsoWeek, last_complete_week, parse_past_or_current_week, parse_week_id
from shared.platform import clock
from shared.platform.errors import Conflict, NotFound, PreconditionFailed, ServiceUnavailable
from shared.platform.store.repository import Document

logger = logging.getLogger("tellgence.pilots.snapshots")

SESSION_PAGE = 1_000
MAX_STORE_ATTEMPTS = 5
CHANGES_HEADER = "X-Snapshot-Changes"
SESSION_FIELDS = (
    "id",
    "tenantId",
    "finalizedAt",
    "workflowPolicy",
    "interactionSummary",
    "bookingRequest",
    "bookingOutcome",
    "bookingConfirmedAt",
    "toolsUsed",
    "updatedAt",
)


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored snapshot document and what this computation changed (empty when nothing did)."""

    doc: Document
    changes: dict[str, dict[str, Any]]
    created: bool


def _iso(moment: datetime) -> str:
    return clock.iso(moment)


def week_sessions(tenant_id: str, week: IsoWeek) -> list[Document]:
    """The tenant's sessions the week's numbers can depend on, projected, in pages of SESSION_PAGE."""
    from shared.sessions import aggregate

    projection = ", ".join(f"c.{name}" for name in SESSION_FIELDS)
    sql = (
        f"SELECT {projection}, c.extractedData.promiseToPayDate AS promiseToPayDate FROM c"
        " WHERE c.tenantId = @tenantId AND ("
        "(c.finalizedAt >= @start AND c.finalizedAt < @end)"
        " OR (c.bookingConfirmedAt >= @start AND c.bookingConfirmedAt < @end)"
        " OR (c.bookingOutcome.noShowRecoveryStatus = 'completed' AND c.bookingOutcome.updatedAt >= @start))"
    )
    params = {"start": _iso(week.start), "end": _iso(week.end)}
    found: list[Document] = []
    continuation: str | None = None
    while True:
        page = aggregate.page(tenant_id, sql, params, page_size=SESSION_PAGE, continuation=continuation)
        for doc in page.items:
            promise = doc.pop("promiseToPayDate", None)
            doc["extractedData"] = {"promiseToPayDate": promise} if promise is not None else {}
            found.append(doc)
        if not page.continuation:
            return found
        continuation = page.continuation


def booking_entries(tenant_id: str, sessions: list[Document]) -> list[Document]:
    """Ledger-shaped entries: each session's first confirmation and completed no-show recovery.

    A recovery that was the booking's last move is dated by the outcome's `updatedAt`; only a session whose
    booking moved again after its recovery has its ledger read for the recovery's instant.
    """
    from shared.bookings import service as bookings

    entries: list[Document] = []
    for doc in sessions:
        if isinstance(doc.get("bookingConfirmedAt"), str):
            entries.append(
                {
                    "id": f"{doc['id']}:first-confirm",
                    "tenantId": tenant_id,
                    "sessionId": doc["id"],
                    "action": "confirm",
                    "at": doc["bookingConfirmedAt"],
                }
            )
        outcome = doc.get("bookingOutcome") if isinstance(doc.get("bookingOutcome"), dict) else {}
        if outcome.get("noShowRecoveryStatus") != "completed":
            continue
        if outcome.get("lastTransitionAction") == "complete_no_show_recovery" and outcome.get("updatedAt"):
            # The recovery was the booking's last move, so the outcome's updatedAt is its instant.
            entries.append(
                {
                    "id": f"{doc['id']}:no-show-recovery",
                    "tenantId": tenant_id,
                    "sessionId": doc["id"],
                    "action": "complete_no_show_recovery",
                    "at": outcome["updatedAt"],
                }
            )
        else:
            for entry in bookings.ledger_of(doc["id"]):
                if entry.get("action") == "complete_no_show_recovery":
                    entries.append({**entry, "tenantId": tenant_id})
    return entries


def compute(tenant_id: str, pilot_id: str, week: IsoWeek, roi: Document | None) -> dict[str, Any]:
    """The contract's snapshot of one pilot's week, from the tenant's stored data."""
    from shared.exceptions import service as exceptions

    sessions = week_sessions(tenant_id, week)
    return snapshots.compute_snapshot(
        tenant_id=tenant_id,
        pilot_id=pilot_id,
        week=week,
        sessions=sessions,
        ledger_entries=booking_entries(tenant_id, sessions),
        exceptions=exceptions.touching_window(tenant_id, _iso(week.start), _iso(week.end)),
        roi=roi,
        now=clock.now_iso(),
    )


def metrics_digest(snapshot: dict[str, Any]) -> str:
    """A short digest of a snapshot's numbers: the same numbers, the same attestation email."""
    numbers = {name: snapshot.get(name) for name in snapshots.METRIC_FIELDS}
    return hashlib.sha256(json.dumps(numbers, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def attestation_link(token: str) -> str | None:
    """Where the customer opens the attestation form, or None when WEB_PUBLIC_BASE_URL (or FRONTEND_URLS) is unset."""
    from shared.platform.settings import get_settings

    settings = get_settings()
    base = settings.web_public_base_url or (settings.frontend_urls[0] if settings.frontend_urls else "")
    return f"{base.rstrip('/')}/attest/{token}" if base else None


def _email_body(pilot: Document, snapshot: dict[str, Any], link: str) -> tuple[str, str]:
    contact = pilot.get("primaryContact") or {}
    lines = [
        f"Hello {contact.get('name') or ''},".replace(" ,", ","),
        "",
        f"Here are the numbers of your Tellgence pilot ({pilot.get('organizationName')}) for the week "
        f"{snapshot['weekId']} ({snapshot['weekStart']} to {snapshot['weekEnd']}):",
        "",
        f"  Calls handled: {snapshot['callsHandled']}",
        f"  Missed calls recovered: {snapshot['missedCallsRecovered']}",
        f"  Bookings requested: {snapshot['bookingsRequested']}",
        f"  Bookings confirmed: {snapshot['bookingsConfirmed']}",
        f"  Exceptions open at the end of the week: {snapshot['exceptionsOpen']}",
        f"  Exceptions resolved: {snapshot['exceptionsResolved']}",
        f"  Estimated staff time saved: {snapshot['estimatedTimeSavedHours']} hours",
        f"  Estimated value recovered: ${snapshot['estimatedValueRecoveredUsd']}",
        "",
        "Please confirm the numbers you agree with (the link works once):",
        link,
        "",
        "Tellgence",
    ]
    text = "\n".join(lines)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td><td>{html.escape(str(value))}</td></tr>"
        for label, value in (
            ("Calls handled", snapshot["callsHandled"]),
            ("Missed calls recovered", snapshot["missedCallsRecovered"]),
            ("Bookings requested", snapshot["bookingsRequested"]),
            ("Bookings confirmed", snapshot["bookingsConfirmed"]),
            ("Exceptions open at the end of the week", snapshot["exceptionsOpen"]),
            ("Exceptions resolved", snapshot["exceptionsResolved"]),
            ("Estimated staff time saved (hours)", snapshot["estimatedTimeSavedHours"]),
            ("Estimated value recovered (USD)", snapshot["estimatedValueRecoveredUsd"]),
        )
    )
    body = (
        f"<p>Hello {html.escape(str(contact.get('name') or ''))},</p>"
        f"<p>Here are the numbers of your Tellgence pilot ({html.escape(str(pilot.get('organizationName')))}) for "
        f"the week {html.escape(snapshot['weekId'])} ({snapshot['weekStart']} to {snapshot['weekEnd']}):</p>"
        f"<table>{rows}</table>"
        f'<p><a href="{html.escape(link, quote=True)}">Confirm the numbers</a> (the link works once).</p>'
        "<p>Tellgence</p>"
    )
    return text, body


def _send_attestation(pilot: Document, snapshot: dict[str, Any], week: IsoWeek, key: str) -> dict[str, Any]:
    """Queue the attestation email; the record of it the snapshot keeps ({idempotencyKey, status, at})."""
    from shared.email.models import EmailMessage
    from shared.email.service import enqueue_email

    record = {"idempotencyKey": key, "at": clock.now_iso()}
    recipient = (pilot.get("primaryContact") or {}).get("email")
    token = attestations.issue_token(pilot["tenantId"], pilot["pilotId"], week.week_id)
    link = attestation_link(token)
    if not recipient or link is None:
        logger.warning("attestation email of %s %s not sent: no recipient or no web base URL", pilot["pilotId"], week)
        return {**record, "status": "not_configured"}
    text, body = _email_body(pilot, snapshot, link)
    message = EmailMessage(
        to=[recipient],
        subject=f"Please confirm your pilot numbers for {week.week_id}",
        text=text,
        html=body,
        tags={"kind": "pilot-attestation", "pilot": pilot["pilotId"], "week": week.week_id},
        idempotency_key=key,
    )
    try:
        enqueue_email(message)
    except Exception:
        logger.warning("attestation email %s could not be queued", key, exc_info=True)
        return {**record, "status": "failed"}
    return {**record, "status": "queued"}


# Pilots whose weeks are worth attesting: running or over, not those still being set up or lost.
ATTESTED_STATUSES = frozenset({"active", "completed", "converted"})


def _email_due(pilot: Document, doc: Document | None, attested: bool, week: IsoWeek, key: str) -> bool:
    if attested or pilot.get("status") not in ATTESTED_STATUSES or not week.is_complete(clock.utc_now()):
        return False
    sent = (doc or {}).get("attestationEmail") or {}
    return not (sent.get("idempotencyKey") == key and sent.get("status") in ("queued", "not_configured"))


def store_snapshot(tenant_id: str, pilot_id: str, week: IsoWeek, *, computed_by: str) -> Stored:
    """Compute one pilot's week and store it (see the module docstring); NotFound for an unknown pilot."""
    if not is_pilot_id(pilot_id):
        raise NotFound("Pilot not found", code="pilot_not_found")
    snapshot_id = snapshots.snapshot_id(pilot_id, week)
    ids = [snapshot_id, repo.attestation_id(pilot_id, week.week_id)]
    for _ in range(MAX_STORE_ATTEMPTS):
        by_type = split(pilots.with_ids(tenant_id, pilot_id, (repo.PILOT, repo.ROI), ids))
        if not by_type.get(repo.PILOT):
            raise NotFound("Pilot not found", code="pilot_not_found")
        pilot = by_type[repo.PILOT][0]
        roi = (by_type.get(repo.ROI) or [None])[0]
        previous = (by_type.get(repo.SNAPSHOT) or [None])[0]
        attested = bool(by_type.get(repo.ATTESTATION))
        snapshot = compute(tenant_id, pilot_id, week, roi)
        changes = snapshots.diff_snapshots(previous, snapshot)
        key = f"attestation:{pilot_id}:{week.week_id}:{metrics_digest(snapshot)}"
        email_due = _email_due(pilot, previous, attested, week, key)
        if previous is not None and not changes and not email_due:
            return Stored(previous, {}, False)
        doc: Document = {
            **(previous or {}),
            "id": snapshot_id,
            "type": repo.SNAPSHOT,
            **snapshot,
            "roiVersion": (roi or {}).get("version"),
            "computedBy": computed_by,
        }
        if changes:
            doc["lastChange"] = changes
        else:
            doc["createdAt"] = previous["createdAt"]  # the numbers are the ones computed then
        if email_due:
            doc["attestationEmail"] = _send_attestation(pilot, snapshot, week, key)
        try:
            stored = pilots.create(doc) if previous is None else pilots.replace(doc)
        except (Conflict, PreconditionFailed):
            continue  # another computation stored this week meanwhile: compare against it
        return Stored(stored, changes, previous is None)
    raise Conflict("The snapshot is being recomputed by others; try again", code="write_conflict")


def recompute(principal: Any, pilot_id: str, week_id: str, *, ip: str | None = None) -> tuple[dict, dict[str, str]]:
    """cpPostPilotSnapshotRecompute: the week's snapshot recomputed and stored; (view, headers naming changes)."""
    from shared.audit import service as audit
    from shared.pilots.service import tenant_of

    tenant_id = tenant_of(principal)
    week = parse_past_or_current_week(week_id, clock.utc_now())
    result = store_snapshot(tenant_id, pilot_id, week, computed_by=principal.user_id)
    if result.changes:
        audit.record(
            principal,
            "pilot.snapshot_recomputed",
            target_type="pilot",
            target_id=pilot_id,
            tenant_id=tenant_id,
            changes={"weekId": {"from": None, "to": week.week_id}, **result.changes},
            ip=ip,
        )
    changed = ",".join(result.changes) if result.changes else "none"
    return snapshots.snapshot_view(result.doc), {CHANGES_HEADER: changed}


# ------------------------------------------------------------------------------------------------ jobs


def queue_last_week(now: datetime | None = None) -> int:
    """The Monday timer: one `pilot-snapshots` message per active pilot for the last complete week."""
    from shared.platform.store import queues
    from shared.platform.store.registry import PILOT_SNAPSHOTS_QUEUE

    week = last_complete_week(now or clock.utc_now())
    queued = 0
    for item in pilots.in_status_everywhere(sorted(machine.SNAPSHOT_STATUSES)):
        queues.enqueue(
            PILOT_SNAPSHOTS_QUEUE, {"tenantId": item["tenantId"], "pilotId": item["pilotId"], "weekId": week.week_id}
        )
        queued += 1
    return queued


def run_snapshot_job(tenant_id: str, pilot_id: str, week_id: str) -> str:
    """The queue job: store one pilot's week; a failed attestation email makes the queue retry it."""
    week = parse_week_id(week_id)
    result = store_snapshot(tenant_id, pilot_id, week, computed_by="system:weekly-snapshots")
    if (result.doc.get("attestationEmail") or {}).get("status") == "failed":
        raise ServiceUnavailable("the attestation email could not be queued", code="email_queue_unavailable")
    changed = ",".join(result.changes) or "nothing"
    return f"{pilot_id} {week.week_id}: {'created' if result.created else 'changed ' + changed}"
