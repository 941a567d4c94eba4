"""Session: personas, voices and the persona runtime the browser sends the realtime model."""

from __future__ import annotations

import azure.functions as func

from shared.catalog import runtime
from shared.catalog import service as catalog
from shared.identity.roles import Role
from shared.onboarding.repository import OnboardingProfileRepository
from shared.platform.errors import Forbidden, NotFound, Unauthorized
from shared.platform.http.adapter import operation
from shared.platform.http.auth import OptionalBearer
from shared.platform.http.caching import cacheable_json
from shared.platform.http.request import Reply, Request

bp = func.Blueprint()

CATALOG_MAX_AGE = 300
# Anyone may read a runtime; a token, when sent, must be valid (it unlocks the caller's onboarding profiles).
SIGNED_IN_OPTIONAL = OptionalBearer()
profiles = OnboardingProfileRepository()


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
        profile = profiles.read_profile(principal.tenant_id, query.onboardingProfileId)
        if profile is None:
            raise NotFound("Onboarding profile not found")
    return runtime.compose(
        request.route["personaId"],
        tone=query.tone,
        scenario_id=query.scenarioId,
        session_id=query.sessionId,
        onboarding_profile=profile,
    )
