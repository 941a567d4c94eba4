"""Capturing leads (post-demo, mid-demo, contact) and sending prospects their demo by email.

**Where a lead lives.** When the request names a session and proves access to it (its key, or an operator
bearer of its tenant: `shared.platform.http.auth.session_grant`), the lead belongs to the session's tenant
and is scored from the session's stored results. Without a session it belongs to the operator bearer's
tenant when one is sent, else to `default-practice`.

**One lead per address.** The submission is folded into the tenant's latest lead with the same email key
when that lead's last submission is at most 24 h old (`shared.leads.merge`); otherwise a new lead is created.
Its id follows from the latest lead of the address (`shared.leads.ids.successor_lead_id`), so simultaneous
first submissions race for one id: the store creates one lead, and the others merge into it. The server
scores the result (`shared.leads.scoring`); client scores are never read. A repeat submission without a
session keeps a score that came from a session.

**Notification.** The sales team of the tenant (`salesNotificationEmail`, or LEADS_NOTIFY_EMAIL for
`default-practice`) gets a notification through the `emails` queue; when the queue is unreachable the
notification is parked and re-queued by a timer (`shared.leads.delivery`). A tenant without a recipient
gets its lead stored and no email.

Cost of one capture: the per-address counter (1), the merge query (1), the write (1), and only when the
queue fails, the parked email (1); the recipient is read once a minute per process (amortized).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.email.models import EmailMessage
from shared.leads import delivery, documents, emails, ids, limits, merge, scoring
from shared.leads.repository import LeadRepository
from shared.platform import clock, events
from shared.platform.envelope import success
from shared.platform.errors import Conflict, PreconditionFailed
from shared.platform.settings import get_settings
from shared.tenants.ids import DEFAULT_TENANT_ID

leads = LeadRepository()


@dataclass(frozen=True, slots=True)
class Captured:
    """A stored lead and what became of its notification."""

    lead: dict[str, Any]
    created: bool
    email_queued: bool
    has_recipient: bool


def lead_tenant(grant: Any, principal: Any) -> str:
    """The tenant a lead is captured in: the proven session's, else the operator bearer's, else the demo tenant."""
    if grant is not None:
        return grant.tenant_id
    if principal is not None and getattr(principal, "has_tenant_access", False):
        return principal.tenant_id
    return DEFAULT_TENANT_ID


def sales_recipients(tenant_id: str) -> list[str]:
    """Who hears about the tenant's leads: its `salesNotificationEmail`, or LEADS_NOTIFY_EMAIL for the demo tenant."""
    if tenant_id == DEFAULT_TENANT_ID:
        address = emails.platform_sales_recipient(get_settings())
    else:
        from shared.tenants import tenant_settings

        address = tenant_settings.sales_notification_email(tenant_id)
    return [address] if address else []


def _scored(lead: dict[str, Any], session: dict[str, Any] | None, previous: dict[str, Any] | None) -> dict[str, Any]:
    if session is None and previous is not None and (previous.get("scoring") or {}).get("basis") == "session":
        # The session's results stay the score until another session replaces them.
        return {**lead, **{name: previous[name] for name in ("score", "tier", "scoreLabel", "scoring")}}
    return scoring.scored(lead, session=session)


def _create(
    submission: dict[str, Any], tenant_id: str, lead_id: str, now: str, session: dict[str, Any] | None
) -> dict[str, Any]:
    doc = documents.new_lead(submission, lead_id=lead_id, tenant_id=tenant_id, now=now)
    return leads.create(_scored(doc, session, None))


def _store(submission: dict[str, Any], tenant_id: str, session: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """The lead after this submission (merged or new) as stored, and whether it was created."""
    email = submission["contact"]["email"]
    key = documents.email_key(email)
    # Latest leads whose derived successor id turned out taken while they stayed the latest: the id belongs to
    # an unrelated lead (an operator changed its address), so a random id is drawn instead.
    taken_after: set[str | None] = set()
    for attempt in range(leads.max_update_attempts):
        if attempt:
            leads.pause_before_retry(attempt - 1)
        now = clock.now_iso()
        existing = leads.latest_for_email(tenant_id, key)
        if existing is None or not merge.is_repeat(existing, tenant_id=tenant_id, email=email, now=now):
            previous = existing["id"] if existing else None
            lead_id = ids.new_lead_id() if previous in taken_after else ids.successor_lead_id(tenant_id, key, previous)
            try:
                created = _create(submission, tenant_id, lead_id, now, session)
            except Conflict:
                taken_after.add(previous)
                continue  # another submission of this address created it first: merge into it
            events.publish("lead.stored", None, created)
            return created, True
        merged = _scored(merge.merge_submission(existing, submission, now=now), session, existing)
        merged["_etag"] = existing["_etag"]
        try:
            stored = leads.replace(merged)
            events.publish("lead.stored", existing, stored)
            return stored, False
        except PreconditionFailed:
            continue  # another submission of this address won the race: fold into its result
    raise Conflict("The lead is being changed by others; try again", code="write_conflict")


def capture(
    kind: documents.Kind,
    body: dict[str, Any],
    *,
    tenant_id: str,
    session_id: str | None = None,
    session: dict[str, Any] | None = None,
    correlation_id: str | None = None,
) -> Captured:
    """Store one submission as a lead of `tenant_id` (merged or new), then notify the tenant's sales team."""
    submission = documents.to_submission(kind, body, session_id=session_id)
    recipients = sales_recipients(tenant_id)
    limits.count_submission(tenant_id, documents.email_key(submission["contact"]["email"]))
    lead, created = _store(submission, tenant_id, session)
    if not recipients:
        return Captured(lead, created, email_queued=False, has_recipient=False)
    message = emails.sales_notification(lead, to=recipients, correlation_id=correlation_id)
    queued = delivery.queue_or_park(message, tenant_id=tenant_id, kind="lead-notification", ref=lead["leadId"])
    return Captured(lead, created, email_queued=queued, has_recipient=True)


def _prospect_email(message: EmailMessage, kind: str) -> bool:
    """Count the email against its recipient's daily budget, then queue (or park) it."""
    limits.count_prospect_email(message.to[0])
    return delivery.queue_or_park(message, tenant_id=DEFAULT_TENANT_ID, kind=kind)


def send_session_summary(summary: dict[str, Any], *, correlation_id: str | None = None) -> bool:
    """Email the prospect their demo summary; True when queued, False when parked for the timer."""
    message = emails.session_summary(summary["email"], summary, correlation_id=correlation_id)
    return _prospect_email(message, "session-summary")


def send_transcript(
    address: str, transcript: list[dict[str, Any]], *, scenario_title: str | None, correlation_id: str | None = None
) -> bool:
    """Email the prospect the transcript alone; True when queued, False when parked for the timer."""
    message = emails.transcript_email(address, transcript, scenario_title=scenario_title, correlation_id=correlation_id)
    return _prospect_email(message, "transcript")


def email_answer(queued: bool, *, what: str) -> tuple[dict[str, Any], int]:
    """The prospect-email operations' answer: 200 when queued, 202 when the email waits for the re-queue timer."""
    if queued:
        return success(emailDelivered=True, message=f"The {what} is on its way"), 200
    return success(
        emailDelivered=False,
        message=f"The {what} could not be queued now; it will be sent when email delivery recovers",
    ), 202
