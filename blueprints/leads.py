"""Leads: the post-demo and mid-demo lead captures and the prospect's summary and transcript emails."""

from __future__ import annotations

import azure.functions as func

from shared.identity.auth import OptionalBearer
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, NotFound
from shared.platform.http.adapter import operation
from shared.platform.http.auth import PUBLIC
from shared.platform.http.request import Reply, Request
from shared.platform.principal import Role
from shared.platform.ratelimit.service import RateLimit
from shared.sessions.auth import session_grant

bp = func.Blueprint()

# Anonymous prospects submit; an operator's valid token places a session-less lead in the operator's tenant.
OPTIONAL_OPERATOR = OptionalBearer(Role.OPERATOR)
CAPTURE_LIMIT = RateLimit(limit=10, window_seconds=60)
EMAIL_LIMIT = RateLimit(limit=5, window_seconds=60)


def proven_session(request: Request, session_id: str | None):
    """The grant of a session named in the body (its key, or an operator of its tenant); None when none is named.

    These operations document no 404, so an unknown or expired session is a 400 `session_not_found`; a wrong
    key stays a 401.
    """
    if not session_id:
        return None
    try:
        return session_grant(request, session_id, admin_role=Role.OPERATOR)
    except NotFound:
        raise BadRequest("sessionId: no live session has this id", code="session_not_found") from None


def _capture(request: Request, kind: str):
    """Store the lead in the right tenant (scored from the proven session when there is one)."""
    from shared.leads import service
    from shared.sessions import aggregate

    body = request.body.model_dump(exclude_none=True)
    grant = proven_session(request, request.body.sessionId if kind != "contact" else None)
    session = aggregate.load(grant) if grant is not None else None
    return service.capture(
        kind,
        body,
        tenant_id=service.lead_tenant(grant, request.principal),
        session_id=grant.session_id if grant is not None else None,
        session=session,
        correlation_id=request.correlation_id,
    )


def capture_message(captured) -> str:
    """What the prospect's browser is told about the lead and its notification."""
    what = "Lead captured" if captured.created else "Lead updated"
    if captured.email_queued:
        return f"{what}; the sales team has been notified"
    if captured.has_recipient:
        return f"{what}; the sales team will be notified when email delivery recovers"
    return f"{what}; no sales notification recipient is configured"


def capture_status(captured, ok: int) -> int:
    """202 while the sales notification waits for the queue (a recipient, nothing queued yet), else ok."""
    return 202 if captured.has_recipient and not captured.email_queued else ok


@operation(
    bp, "api/leads", methods=["POST"], auth=OPTIONAL_OPERATOR, body="shared.leads.models:LeadBody",
    rate_limit=CAPTURE_LIMIT,
)  # fmt: skip
def create_lead(request: Request) -> Reply:
    """Capture a post-demo lead, scored by the server; 202 when the notification waits for the queue."""
    captured = _capture(request, "lead")
    lead = captured.lead
    body = success(
        message=capture_message(captured),
        leadId=lead["leadId"],
        score=lead["score"],
        tier=lead["tier"],
        emailDelivered=captured.email_queued,
    )
    return Reply(body, status=capture_status(captured, 200))


@operation(
    bp, "api/leads/mid-demo", methods=["POST"], auth=OPTIONAL_OPERATOR, body="shared.leads.models:MidDemoLeadBody",
    status=201, rate_limit=CAPTURE_LIMIT,
)  # fmt: skip
def create_mid_demo_lead(request: Request) -> Reply:
    """Capture a lead during a demo; 202 when the notification waits for the queue."""
    captured = _capture(request, "mid_demo")
    lead = captured.lead
    body = success(
        message=capture_message(captured),
        leadId=lead["leadId"],
        email=lead["contact"]["email"],
        scenario=request.body.scenario,
        timestamp=lead["lastSubmittedAt"],
        emailDelivered=captured.email_queued,
        source="mid-demo-capture",
    )
    return Reply(body, status=capture_status(captured, 201))


@operation(
    bp, "api/leads/session-summary", methods=["POST"], auth=PUBLIC,
    body="shared.leads.models:SessionSummaryBody", rate_limit=EMAIL_LIMIT,
)  # fmt: skip
def send_session_summary(request: Request) -> Reply:
    """Email the prospect their demo summary (at most a few emails per address a day)."""
    from shared.leads import service

    queued = service.send_session_summary(
        request.body.model_dump(exclude_none=True), correlation_id=request.correlation_id
    )
    body, status = service.email_answer(queued, what="demo summary")
    return Reply(body, status=status)


@operation(
    bp, "api/leads/transcript-email", methods=["POST"], auth=PUBLIC,
    body="shared.leads.models:TranscriptEmailBody", rate_limit=EMAIL_LIMIT,
)  # fmt: skip
def send_transcript_email(request: Request) -> Reply:
    """Email the prospect the transcript alone (at most a few emails per address a day)."""
    from shared.leads import service

    body = request.body
    queued = service.send_transcript(
        body.email,
        [turn.model_dump() for turn in body.transcript],
        scenario_title=body.scenarioTitle,
        correlation_id=request.correlation_id,
    )
    answer, status = service.email_answer(queued, what="transcript")
    return Reply(answer, status=status)
