"""Session: personas, voices, the persona runtime, realtime credentials and realtime runtime sessions."""

from __future__ import annotations

import azure.functions as func

from shared.catalog import runtime
from shared.catalog import service as catalog
from shared.identity.auth import OptionalBearer, RealtimeCaller
from shared.platform.errors import BadRequest, Forbidden, NotFound, Unauthorized
from shared.platform.http.adapter import operation
from shared.platform.http.auth import REALTIME_API_KEY
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request
from shared.platform.principal import Role
from shared.platform.ratelimit.service import RateLimit
from shared.sessions.auth import session_grant

bp = func.Blueprint()

CATALOG_MAX_AGE = 300
# Anyone may read a runtime; a token, when sent, must be valid (it unlocks the caller's onboarding profiles).
SIGNED_IN_OPTIONAL = OptionalBearer()
# Realtime runtime sessions: the realtime API key when set; creating one may name the tenant by an operator bearer.
REALTIME_OPERATOR_OPTIONAL = RealtimeCaller(Role.OPERATOR)


@operation(bp, "api/personas")
def get_personas(request: Request) -> Reply:
    """The persona catalog."""
    return cacheable_json(request, catalog.list_personas(), max_age=CATALOG_MAX_AGE)


@operation(bp, "api/voices")
def get_voices(request: Request) -> Reply:
    """The voice catalog."""
    return cacheable_json(request, catalog.list_voices(), max_age=CATALOG_MAX_AGE)


@operation(
    bp,
    "api/personas/{personaId}/runtime",
    auth=SIGNED_IN_OPTIONAL,
    query="shared.catalog.models:RuntimeQuery",
)
def get_persona_runtime(request: Request) -> dict:
    """The composed runtime; a fast-start profile needs an admin of the profile's tenant."""
    query = request.query
    profile = None
    if query.onboardingProfileId:
        principal = request.principal
        if principal is None:
            raise Unauthorized("An admin bearer token is required to apply an onboarding profile")
        if not principal.can(Role.ADMIN):
            raise Forbidden("Applying an onboarding profile needs the admin role or higher")
        from shared.onboarding import service as onboarding

        profile = onboarding.runtime_profile(principal.tenant_id, query.onboardingProfileId)
    return runtime.compose(
        request.route["personaId"],
        tone=query.tone,
        scenario_id=query.scenarioId,
        session_id=query.sessionId,
        onboarding_profile=profile,
    )


@operation(
    bp,
    "api/realtime/credentials",
    methods=["POST"],
    auth=REALTIME_API_KEY,
    body="shared.realtime.models:CredentialsBody",
    rate_limit=RateLimit(limit=30, window_seconds=60),
)
def create_realtime_credentials(request: Request) -> dict:
    """Mint a short-lived realtime credential shaped by the selected persona's policy."""
    from shared.realtime import credentials

    return credentials.create_credentials(request.body)


@operation(
    bp,
    "api/realtime/sessions",
    methods=["POST"],
    auth=REALTIME_OPERATOR_OPTIONAL,
    body="shared.realtime.models:RuntimeSessionBody",
)
def create_realtime_runtime_session(request: Request) -> dict:
    """Create a runtime session; a demo session named in metadata is linked once access to it is proven."""
    from shared.realtime import runtime_sessions

    link_id = runtime_sessions.linked_session_id(request.body)
    link = None
    if link_id is not None:
        try:
            link = session_grant(request, link_id)
        except NotFound:
            # The contract has no 404 here: an unknown linked session is a bad body.
            raise BadRequest("The linked demo session was not found", code="unknown_session") from None
    return runtime_sessions.create(
        request.body, principal=request.principal, origin=request.header("origin"), link=link
    )


@operation(bp, "api/realtime/sessions/{sessionId}", auth=REALTIME_API_KEY)
def get_realtime_runtime_session(request: Request) -> dict:
    """A runtime session with its recent transcript, state transitions and latest stats."""
    from shared.realtime import runtime_sessions

    return runtime_sessions.get(request.route["sessionId"])


@operation(
    bp,
    "api/realtime/sessions/{sessionId}/utterances",
    methods=["POST"],
    auth=REALTIME_API_KEY,
    body="shared.realtime.models:UtteranceBody",
)
def record_realtime_runtime_utterance(request: Request) -> dict:
    """Append an utterance to a runtime session."""
    from shared.realtime import runtime_sessions

    return runtime_sessions.record_utterance(request.route["sessionId"], request.body)


@operation(
    bp,
    "api/realtime/sessions/{sessionId}/stats",
    methods=["POST"],
    auth=REALTIME_API_KEY,
    body="shared.realtime.models:StatsBody",
)
def record_realtime_runtime_stats(request: Request) -> dict:
    """Keep a media stats report of a runtime session (and move its state when the report says so)."""
    from shared.realtime import runtime_sessions

    return runtime_sessions.record_stats(request.route["sessionId"], request.body)
