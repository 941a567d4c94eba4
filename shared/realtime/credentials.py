"""POST /api/realtime/credentials: a short-lived Azure OpenAI realtime key shaped by the persona's policy.

1. A held demo session (`sessionId`) is found through its handle (404 when unknown or expired); its stored
   scenario and requested locale steer the selection, and it gets its own rate limit
   (PER_SESSION_LIMIT; RATE_LIMITS may override `create_realtime_credentials_per_session`) on top of the
   per-client limit the adapter applies.
2. The persona and language come from the selection ladder (shared.realtime.selection).
3. The runtime is the same composition `GET /api/personas/{id}/runtime` answers (shared.catalog.runtime.compose:
   scenario parameterization, brand replacement, the session's prompt-profile variant).
4. One call to the provider mints the client secret (shared.realtime.provider); nothing about the answer is
   made up here: token and expiry are the provider's, or the request fails (502 / 503).

The answer adds what a client needs around the secret: `voicePipeline` (always `azure-openai-realtime`: the
secret opens that pipeline, and a persona configured for Azure Voice Live is served on it with a built-in
voice standing in for its neural voice), `fallbackVoice` (the voice the session speaks with),
`fallbackInstructions` (the exact instructions the session was minted with, for a client that must re-send
them in a `session.update`, e.g. after reconnecting), and `wsUrl` (the GA WebSocket endpoint of the same
deployment, for server-side transports that connect with the secret in a header). `voiceLiveSessionConfig`
is never sent: Voice Live would need a server-side relay this API does not have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from shared.platform.ratelimit import service as ratelimit
from shared.platform.ratelimit.service import RateLimit
from shared.platform.settings import get_settings
from shared.realtime import provider
from shared.realtime.selection import select_persona

if TYPE_CHECKING:
    from shared.realtime.models import CredentialsBody

PER_SESSION_OPERATION = "create_realtime_credentials_per_session"
# A call mints one credential, a reconnect another; ten in five minutes is a browser in trouble or a script.
PER_SESSION_LIMIT = RateLimit(limit=10, window_seconds=300)
VOICE_PIPELINE = "azure-openai-realtime"
REALTIME_WS_PATH = "/openai/v1/realtime"


def ws_url(endpoint: str, deployment: str) -> str:
    """The GA realtime WebSocket URL of a deployment on the resource `endpoint` (https → wss)."""
    parts = urlsplit(endpoint)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path + REALTIME_WS_PATH, f"model={quote(deployment, safe='')}", ""))


def _held_session(session_id: str) -> dict[str, Any]:
    """The demo session a credential request names (its handle, then the session: two point reads)."""
    from shared.platform.errors import NotFound
    from shared.sessions import aggregate

    try:
        return aggregate.read_live(aggregate.locate(session_id), session_id)
    except NotFound:
        raise NotFound("Session not found", code="session_not_found") from None


def _session_profile(held: dict[str, Any] | None) -> dict[str, Any] | None:
    """The fast-start profile a held session was started for (its context and published workflow), if any."""
    if not held or not held.get("onboardingProfileId"):
        return None
    from shared.onboarding import service as onboarding
    from shared.platform.errors import NotFound

    try:
        return onboarding.runtime_profile(held["tenantId"], held["onboardingProfileId"])
    except NotFound:
        return None


def create_credentials(body: CredentialsBody) -> dict[str, Any]:
    """Select the persona, compose its runtime, mint the client secret and assemble the contract's answer."""
    from shared.catalog.runtime import compose

    held = None
    if body.sessionId:
        held = _held_session(body.sessionId)
        ratelimit.hit(PER_SESSION_OPERATION, body.sessionId, PER_SESSION_LIMIT)

    selection = select_persona(
        persona_id=body.personaId,
        scenario_id=body.scenarioId,
        requested_locale=body.requestedLocale,
        user_hint_language=body.userHintLanguage,
        session_scenario_id=(held or {}).get("scenarioId"),
        session_locale=(held or {}).get("requestedLocale"),
    )
    runtime = compose(
        selection.persona_id,
        scenario_id=selection.scenario_id,
        session_id=body.sessionId,
        onboarding_profile=_session_profile(held),
    )
    language = selection.language
    settings = get_settings()
    credential = provider.mint_client_secret(
        runtime,
        transcription_language=language.transcription_language_code,
        extra_instructions=language.instructions,
        settings=settings,
    )
    # The same pure function built the body the provider received, so these are the instructions it holds.
    session = provider.session_config(
        runtime,
        settings=settings,
        transcription_language=language.transcription_language_code,
        extra_instructions=language.instructions,
    )
    return {
        **credential.contract_fields(),
        **selection.contract_fields(),
        "fallbackInstructions": session["instructions"],
        "fallbackVoice": credential.voice,
        "voicePipeline": VOICE_PIPELINE,
        "wsUrl": ws_url(provider.endpoint_base(settings), credential.realtime_deployment),
    }
