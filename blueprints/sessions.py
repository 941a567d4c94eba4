"""Sessions: create, finalize, read and manage the call state of demo sessions."""

from __future__ import annotations

import azure.functions as func

from shared.bookings import service as bookings
from shared.identity.auth import VIEWER, OptionalBearer
from shared.onboarding import service as onboarding
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, Forbidden, NotFound, ServiceError, Unauthorized
from shared.platform.http.adapter import operation
from shared.platform.http.cookies import build_cookie
from shared.platform.http.request import Reply, Request
from shared.platform.principal import Role
from shared.platform.ratelimit.service import RateLimit
from shared.platform.settings import get_settings
from shared.sessions import access, aggregate, finalize, state
from shared.sessions import service as sessions
from shared.sessions.auth import SessionAccess, session_grant

bp = func.Blueprint()

# Operators' viewers may read a session of their tenant; changing one takes an operator.
SESSION_READ = SessionAccess(admin_role=Role.VIEWER)
SESSION_WRITE = SessionAccess(admin_role=Role.OPERATOR)
# The call state lives on the session's handle: proving access reads it.
STATE_READ = SessionAccess(admin_role=Role.VIEWER, reads="handle")
STATE_WRITE = SessionAccess(admin_role=Role.OPERATOR, reads="handle")
# Anonymous visitors create demo sessions; an operator's valid token places the session in their tenant.
OPTIONAL_OPERATOR = OptionalBearer(Role.OPERATOR)
CREATE_LIMIT = RateLimit(limit=30, window_seconds=60)
FINALIZE_LIMIT = RateLimit(limit=30, window_seconds=60)
READ_LIMIT = RateLimit(limit=300, window_seconds=60)
WRITE_LIMIT = RateLimit(limit=120, window_seconds=60)
# Evidence packs and PDFs: the session's key, or an operator of its tenant.
EVIDENCE = SessionAccess(admin_role=Role.OPERATOR)
PDF_LIMIT = RateLimit(limit=30, window_seconds=60)


def _access_cookie(key: str) -> str:
    """The session_access cookie (HttpOnly, Secure, SameSite=None), living as long as the session."""
    return build_cookie(access.ACCESS_COOKIE, key, max_age=get_settings().session_ttl_seconds)


@operation(
    bp,
    "api/sessions",
    methods=["POST"],
    auth=OPTIONAL_OPERATOR,
    body="shared.sessions.models:CreateSessionBody",
    status=201,
    rate_limit=CREATE_LIMIT,
)
def create_session(request: Request) -> Reply:
    """Start a demo session; the access key comes back in the body and as an HttpOnly cookie."""
    onboarding_binding = None
    if request.body.onboardingProfileId:
        # A fast-start profile's test call: only an operator of the profile's tenant may start one.
        if request.principal is None or not request.principal.tenant_id:
            raise Unauthorized("Starting a session for an onboarding profile needs an operator bearer token")
        onboarding_binding = onboarding.session_binding(request.principal.tenant_id, request.body.onboardingProfileId)
    body, key = sessions.create_session(
        request.body,
        principal=request.principal,
        locale_header=request.header("x-tellgence-locale-hint"),
        origin=request.header("origin"),
        onboarding=onboarding_binding,
    )
    return Reply(body, status=201, cookies=[_access_cookie(key)])


def _held_session_grant(request: Request, session_id: str):
    # The finalize contract has no 401/404: proof of a held session that fails is a bad request.
    try:
        return session_grant(request, session_id)
    except (Unauthorized, NotFound, Forbidden) as exc:
        raise BadRequest(exc.message, code=exc.code) from exc


def _finalize_error_fields(error: ServiceError) -> dict:
    # The contract's finalize 400 always names the domain module and lists details.
    return {"domainModuleId": "sessions.finalize", "details": [error.message]}


@operation(
    bp,
    "api/sessions/finalize",
    methods=["POST"],
    auth=OPTIONAL_OPERATOR,
    body="shared.sessions.models:FinalizeBody",
    rate_limit=FINALIZE_LIMIT,
    error_fields=_finalize_error_fields,
)
def finalize_session(request: Request) -> Reply:
    """Store the completed call and answer the server-computed results."""
    held = request.body.sessionId
    grant = _held_session_grant(request, held) if held else None
    presented = request.header(access.ACCESS_HEADER) or request.cookies.get(access.ACCESS_COOKIE)
    body = finalize.finalize(
        request.body,
        grant=grant,
        principal=None if held else request.principal,
        presented_key=presented,
        origin=request.header("origin"),
    )
    cookies = [] if held else [_access_cookie(body["accessKey"])]
    return Reply(body, cookies=cookies)


@operation(bp, "api/sessions", auth=VIEWER, query="shared.sessions.models:SessionListQuery", rate_limit=READ_LIMIT)
def list_sessions(request: Request) -> dict:
    """The caller's tenant's sessions: search, filters, sort and paging."""
    return sessions.list_sessions(request.principal.tenant_id, request.query)


@operation(bp, "api/sessions/{id}", auth=SESSION_READ, rate_limit=READ_LIMIT)
def get_session(request: Request) -> dict:
    """One session, to its key holder or its tenant's operators."""
    return sessions.session_view(aggregate.load(request.principal))


@operation(
    bp,
    "api/sessions/{id}/realtime-snapshot",
    methods=["PATCH"],
    auth=SESSION_WRITE,
    body="shared.sessions.models:RealtimeSnapshotBody",
    rate_limit=WRITE_LIMIT,
)
def patch_session_realtime_snapshot(request: Request) -> dict:
    """Record the client's effective realtime settings; secrets are refused."""
    return sessions.save_snapshot(request.principal, request.body)


@operation(bp, "api/sessions/{id}/cost", auth=SESSION_READ, rate_limit=READ_LIMIT)
def get_session_cost(request: Request) -> dict:
    """Token usage and the estimated cost."""
    return sessions.session_cost(request.principal)


@operation(bp, "api/sessions/{id}/results", auth=SESSION_READ)
def get_session_results(request: Request) -> dict:
    """The server-authoritative results."""
    return sessions.session_results(request.principal)


@operation(bp, "api/sessions/{id}/state", auth=STATE_READ, rate_limit=READ_LIMIT)
def get_session_state(request: Request) -> dict:
    """The call state, created on first read."""
    return state.get_state(request.principal)


@operation(
    bp,
    "api/sessions/{id}/state",
    methods=["PATCH"],
    auth=STATE_WRITE,
    body="shared.sessions.models:StatePatch",
    rate_limit=WRITE_LIMIT,
)
def patch_session_state(request: Request) -> dict:
    """Move the call: phase, persona hand-off, completed steps, escalation."""
    return state.patch_state(request.principal, request.body)


@operation(bp, "api/sessions/{id}/channel-events", auth=STATE_READ, rate_limit=READ_LIMIT)
def get_session_channel_events(request: Request) -> dict:
    """The session's ordered channel-event log."""
    return sessions.channel_events_view(request.principal)


@operation(
    bp,
    "api/sessions/{id}/booking-lifecycle",
    methods=["PATCH"],
    auth=SESSION_WRITE,
    body="shared.bookings.models:BookingLifecycleBody",
    rate_limit=WRITE_LIMIT,
)
def patch_session_booking_lifecycle(request: Request) -> dict:
    """Apply an explicit booking transition; an illegal one is a 400 that says why."""
    grant, body = request.principal, request.body
    doc = bookings.transition(
        grant.session_id,
        grant.tenant_id,
        body.action,
        actor=f"session:{grant.via}",
        scheduled_for=body.scheduledFor,
        selected_suggestion_id=body.selectedSuggestionId,
        reference_id=body.referenceId,
        note=body.note,
        loaded=grant.session,
    )
    return success(session=sessions.session_view(doc))


def _file_reply(request: Request, stored) -> Reply:
    """A stored pack or PDF: the exact bytes, a strong ETag, a 304 when the caller's copy is current."""
    from shared.platform.http.caching import etag_matches

    headers = {"ETag": stored.etag}
    if stored.filename:
        headers["Content-Disposition"] = f'attachment; filename="{stored.filename}"'
    if etag_matches(request, stored.etag):
        return Reply(status=304, headers=headers)
    return Reply(body=stored.data, headers=headers, media_type=stored.media_type)


def _evidence_pack(request: Request) -> Reply:
    from shared.evidence import service as evidence

    return _file_reply(request, evidence.evidence_pack(request.principal))


def _evidence_pdf(request: Request) -> Reply:
    from shared.evidence import service as evidence

    # The full pack PDF exists, so the contract's fallback header (X-Voxops-Evidence-Pack-Pdf) is never sent.
    return _file_reply(request, evidence.evidence_pdf(request.principal))


def _verify_evidence(request: Request) -> dict:
    from shared.evidence import service as evidence

    return evidence.verify(request.body)


@operation(bp, "api/sessions/{id}/evidence-packs", auth=EVIDENCE)
def get_evidence_packs(request: Request) -> Reply:
    """The session's signed evidence pack (the same bytes until the session changes)."""
    return _evidence_pack(request)


@operation(bp, "api/sessions/{id}/evidence-pack", auth=EVIDENCE)
def get_evidence_pack(request: Request) -> Reply:
    """Compatibility alias of get_evidence_packs."""
    return _evidence_pack(request)


@operation(bp, "api/sessions/{id}/evidence-packs.pdf", auth=EVIDENCE)
def get_evidence_packs_pdf(request: Request) -> Reply:
    """The evidence pack as a PDF: content, digests, signature and how to verify."""
    return _evidence_pdf(request)


@operation(bp, "api/sessions/{id}/evidence-pack.pdf", auth=EVIDENCE)
def get_evidence_pack_pdf(request: Request) -> Reply:
    """Compatibility alias of get_evidence_packs_pdf."""
    return _evidence_pdf(request)


@operation(
    bp,
    "api/sessions/{id}/evidence-packs/verify",
    methods=["POST"],
    auth=EVIDENCE,
    body="shared.evidence.models:VerifyBody",
)
def verify_evidence_packs(request: Request) -> dict:
    """Check a bundle's ed25519 signature against the keys Tellgence signs with (current and retired)."""
    return _verify_evidence(request)


@operation(
    bp,
    "api/sessions/{id}/evidence-pack/verify",
    methods=["POST"],
    auth=EVIDENCE,
    body="shared.evidence.models:VerifyBody",
)
def verify_evidence_pack(request: Request) -> dict:
    """Compatibility alias of verify_evidence_packs."""
    return _verify_evidence(request)


@operation(bp, "api/sessions/{id}/pdf", auth=EVIDENCE, rate_limit=PDF_LIMIT)
def get_session_pdf(request: Request) -> Reply:
    """The session summary PDF of a finalized session."""
    from shared.evidence import service as evidence

    return _file_reply(request, evidence.session_pdf(request.principal))
