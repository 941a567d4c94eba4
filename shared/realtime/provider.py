"""Azure OpenAI realtime client secrets (GA protocol): a short-lived key the browser uses for WebRTC.

`POST {AZURE_OPENAI_ENDPOINT}/openai/v1/realtime/client_secrets` (no `api-version`) with
`{"expires_after": {"anchor": "created_at", "seconds": N}, "session": {"type": "realtime", "model": <deployment>,
"instructions", "audio": {"input": {...}, "output": {...}}, "tools", ...}}`; the answer's `value` (an `ek_…`
secret) and `expires_at` (epoch seconds) become the contract's `token` and `expiresAt`, and the browser sends
its SDP offer to `{endpoint}/openai/v1/realtime/calls` with that secret.

The session is built from the persona runtime composition (shared.catalog.runtime.compose, the code path of
GET /api/personas/{id}/runtime), translated to the GA session shape: audio formats as `audio/pcm` at 24 kHz,
turn detection and transcription under `audio.input`, the voice under `audio.output` (an Azure neural voice,
which the realtime API does not speak, is replaced by a built-in voice of the same presented gender), and the
runtime's function tools. The GA session has no temperature field, so the runtime's temperature is not sent.

Auth: the `api-key` header when AZURE_OPENAI_API_KEY is set, else a Microsoft Entra bearer token from
azure-identity's DefaultAzureCredential for the Cognitive Services scope — one credential per process, the
token cached by azure-core until five minutes before it expires. Failures: no endpoint → ServiceUnavailable
(503) saying so; the provider unreachable, timing out or failing → BadGateway (502); the provider refusing
the request (4xx) → BadGateway with a safe message, its error details logged for operators. The ephemeral
secret is never logged or stored: it lives only in the returned RealtimeCredential (hidden from its repr).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shared.platform import clock, lifecycle
from shared.platform.errors import BadGateway, ServiceUnavailable
from shared.platform.settings import REALTIME_SESSION_TIERS, Settings, get_settings

logger = logging.getLogger(__name__)

CLIENT_SECRETS_PATH = "/openai/v1/realtime/client_secrets"
CALLS_PATH = "/openai/v1/realtime/calls"
TOKEN_SCOPE = "https://cognitiveservices.azure.com/.default"
# The realtime API's built-in voices; anything else (an Azure neural voice) is replaced by FALLBACK_VOICES.
REALTIME_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
FALLBACK_VOICES = {"female": "marin", "male": "cedar", "neutral": "alloy"}
PCM_24KHZ = {"type": "audio/pcm", "rate": 24000}
MAX_OUTPUT_TOKENS = 4096
# Transcription models that take no free-text prompt in GA sessions.
PROMPTLESS_TRANSCRIPTION_MODELS = frozenset({"gpt-realtime-whisper"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_LOGGED_TEXT_LIMIT = 300

_lock = threading.Lock()
_token_provider: Callable[[], str] | None = None


@dataclass(frozen=True, slots=True)
class RealtimeCredential:
    """A minted client secret and what it was minted for; the secret itself never appears in its repr."""

    token: str = field(repr=False)
    expires_at: str
    webrtc_url: str
    realtime_deployment: str
    transcription_model: str
    session_tier: str
    reasoning_effort: str | None
    voice: str
    replaced_voice: str | None = None

    def contract_fields(self) -> dict[str, Any]:
        """The credential's part of the createRealtimeCredentials answer, in the contract's names."""
        fields: dict[str, Any] = {
            "token": self.token,
            "expiresAt": self.expires_at,
            "webrtcUrl": self.webrtc_url,
            "realtimeDeployment": self.realtime_deployment,
            "transcriptionModel": self.transcription_model,
            "sessionTier": self.session_tier,
        }
        if self.reasoning_effort:
            fields["effectiveReasoningEffort"] = self.reasoning_effort
        return fields


def endpoint_base(settings: Settings) -> str:
    """The configured resource endpoint without a trailing `/openai[/v1]`; ServiceUnavailable when unusable."""
    raw = settings.azure_openai_endpoint.strip()
    if not raw:
        raise ServiceUnavailable(
            "Azure OpenAI realtime is not configured: AZURE_OPENAI_ENDPOINT is not set", code="realtime_not_configured"
        )
    parts = urlsplit(raw)
    # Plain http is only for a loopback stand-in or fake on a developer's machine or in tests.
    local_http = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS and settings.is_local
    if (
        not (parts.scheme == "https" or local_http)
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ServiceUnavailable(
            "Azure OpenAI realtime is misconfigured: AZURE_OPENAI_ENDPOINT must be an https URL",
            code="realtime_not_configured",
        )
    path = parts.path.rstrip("/")
    for suffix in ("/openai/v1", "/openai"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def webrtc_url(settings: Settings) -> str:
    """Where the browser posts its SDP offer with the client secret."""
    return endpoint_base(settings) + CALLS_PATH


def realtime_voice(voice_id: str) -> tuple[str, str | None]:
    """The voice to send and the catalog voice it replaces (None when the voice is sent as is)."""
    if voice_id in REALTIME_VOICES:
        return voice_id, None
    from shared.catalog import content

    gender = next((voice.get("gender") for voice in content.voices() if voice["id"] == voice_id), None)
    return FALLBACK_VOICES.get(gender or "", FALLBACK_VOICES["neutral"]), voice_id


def session_config(
    runtime: Mapping[str, Any],
    *,
    settings: Settings,
    transcription_language: str | None = None,
    extra_instructions: str = "",
) -> dict[str, Any]:
    """The GA `session` object for a composed persona runtime (no I/O)."""
    voice, _ = realtime_voice(runtime["defaultVoice"])
    transcription_source = runtime.get("inputAudioTranscription") or {}
    transcription: dict[str, Any] = {
        "model": transcription_source.get("model") or settings.azure_openai_transcription_model,
    }
    language = transcription_language or transcription_source.get("language")
    if language:
        transcription["language"] = language
    if runtime.get("transcriptionPrompt") and transcription["model"] not in PROMPTLESS_TRANSCRIPTION_MODELS:
        transcription["prompt"] = runtime["transcriptionPrompt"]

    instructions = [runtime["instructions"], extra_instructions, runtime.get("greetingInstruction") or ""]
    session: dict[str, Any] = {
        "type": "realtime",
        "model": settings.azure_openai_deployment_realtime,
        "instructions": "\n\n".join(part.strip() for part in instructions if part and part.strip()),
        "output_modalities": ["audio"],
        "max_output_tokens": max(1, min(int(runtime.get("maxOutputTokens") or MAX_OUTPUT_TOKENS), MAX_OUTPUT_TOKENS)),
        "audio": {
            "input": {
                "format": dict(PCM_24KHZ),
                # Demo callers talk into laptop microphones, not headsets.
                "noise_reduction": {"type": "far_field"},
                "transcription": transcription,
                "turn_detection": dict(runtime["turnDetectionConfig"]),
            },
            "output": {"format": dict(PCM_24KHZ), "voice": voice},
        },
    }
    tools = [dict(tool) for tool in runtime.get("tools") or ()]
    if tools:
        session["tools"] = tools
        session["tool_choice"] = "auto"
    if settings.realtime_reasoning_effort:
        session["reasoning"] = {"effort": settings.realtime_reasoning_effort}
    return session


def client_secret_request(
    runtime: Mapping[str, Any],
    *,
    settings: Settings,
    transcription_language: str | None = None,
    extra_instructions: str = "",
) -> dict[str, Any]:
    """The complete JSON body of the client_secrets call."""
    return {
        "expires_after": {"anchor": "created_at", "seconds": settings.realtime_credential_ttl_seconds},
        "session": session_config(
            runtime,
            settings=settings,
            transcription_language=transcription_language,
            extra_instructions=extra_instructions,
        ),
    }


def token_provider_for(credential: Any) -> Callable[[], str]:
    """A bearer-token callable over an azure-core credential, cached until near expiry by azure-core."""
    from azure.identity import get_bearer_token_provider

    return get_bearer_token_provider(credential, TOKEN_SCOPE)


def default_token_provider() -> Callable[[], str]:
    """The process-wide token provider over one DefaultAzureCredential (managed identity in Azure)."""
    global _token_provider
    if _token_provider is None:
        with _lock:
            if _token_provider is None:
                from azure.identity import DefaultAzureCredential

                _token_provider = token_provider_for(DefaultAzureCredential())
    return _token_provider


@lifecycle.on_reset
def reset() -> None:
    """Forget the process credential (tests, and the dev host when settings change)."""
    global _token_provider
    with _lock:
        _token_provider = None


def _auth_headers(settings: Settings, token_provider: Callable[[], str] | None) -> dict[str, str]:
    if settings.azure_openai_api_key:
        return {"api-key": settings.azure_openai_api_key}
    from azure.core.exceptions import ClientAuthenticationError

    try:
        token = (token_provider or default_token_provider())()
    except ClientAuthenticationError as exc:
        logger.warning("realtime: no Microsoft Entra token for Azure OpenAI (%s)", type(exc).__name__)
        raise ServiceUnavailable(
            "Azure OpenAI realtime is not configured: set AZURE_OPENAI_API_KEY or give the app's managed identity "
            "access to the Azure OpenAI resource",
            code="realtime_not_configured",
        ) from None
    return {"Authorization": f"Bearer {token}"}


def _clip(value: Any) -> str | None:
    return str(value)[:_LOGGED_TEXT_LIMIT] if value is not None else None


def _provider_error(response: Any) -> dict[str, str | None]:
    """The provider's error type, code, param and message, for the operators' log only."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, Mapping):
        return {key: _clip(error.get(key)) for key in ("type", "code", "param", "message")}
    return {"type": None, "code": None, "param": None, "message": None}


def _refusal(status: int) -> BadGateway:
    if status in (401, 403):
        return BadGateway("Azure OpenAI refused this service's credentials", code="realtime_provider_rejected")
    if status == 404:
        return BadGateway(
            "Azure OpenAI does not know the configured realtime deployment", code="realtime_provider_rejected"
        )
    if status == 429:
        return BadGateway(
            "Azure OpenAI is limiting realtime sessions right now; try again shortly",
            code="realtime_provider_rate_limited",
        )
    return BadGateway("Azure OpenAI rejected the realtime session request", code="realtime_provider_rejected")


def _expiry(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError("expires_at is not a positive epoch time")
    return clock.iso(datetime.fromtimestamp(value, UTC))


def mint_client_secret(
    runtime: Mapping[str, Any],
    *,
    transcription_language: str | None = None,
    extra_instructions: str = "",
    session_tier: str | None = None,
    settings: Settings | None = None,
    token_provider: Callable[[], str] | None = None,
) -> RealtimeCredential:
    """Mint an ephemeral realtime client secret for a composed persona runtime (one provider call)."""
    import httpx

    from shared.platform.outbound import http_client

    settings = settings or get_settings()
    tier = session_tier or settings.realtime_session_tier
    if tier not in REALTIME_SESSION_TIERS:
        raise ValueError(f"unknown session tier {tier!r}")
    base = endpoint_base(settings)
    body = client_secret_request(
        runtime, settings=settings, transcription_language=transcription_language, extra_instructions=extra_instructions
    )
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    headers.update(_auth_headers(settings, token_provider))
    deployment = settings.azure_openai_deployment_realtime

    try:
        response = http_client().post(
            base + CLIENT_SECRETS_PATH,
            json=body,
            headers=headers,
            timeout=httpx.Timeout(settings.realtime_provider_timeout_seconds),
        )
    except httpx.TimeoutException:
        logger.warning("realtime: client_secrets timed out (deployment=%s)", deployment)
        raise BadGateway("Azure OpenAI did not answer in time", code="realtime_provider_timeout") from None
    except httpx.HTTPError as exc:
        logger.warning("realtime: client_secrets unreachable (deployment=%s, %s)", deployment, type(exc).__name__)
        raise BadGateway("Azure OpenAI could not be reached", code="realtime_provider_unreachable") from None

    request_id = response.headers.get("apim-request-id") or response.headers.get("x-request-id")
    if response.status_code != 200:
        details = _provider_error(response)
        logger.warning(
            "realtime: client_secrets answered %s (deployment=%s, request_id=%s, type=%s, code=%s, param=%s): %s",
            response.status_code,
            deployment,
            request_id,
            details["type"],
            details["code"],
            details["param"],
            details["message"],
        )
        if 400 <= response.status_code < 500:
            raise _refusal(response.status_code)
        raise BadGateway("Azure OpenAI failed to create the realtime session", code="realtime_provider_error")

    try:
        answer = response.json()
        token = answer["value"]
        if not isinstance(token, str) or not token:
            raise ValueError("value is not a non-empty string")
        expires_at = _expiry(answer["expires_at"])
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("realtime: client_secrets answer unusable (request_id=%s, %s)", request_id, type(exc).__name__)
        raise BadGateway("Azure OpenAI answered in an unexpected shape", code="realtime_provider_malformed") from None

    session = body["session"]
    voice, replaced = realtime_voice(runtime["defaultVoice"])
    logger.info("realtime: client secret minted (deployment=%s, request_id=%s)", deployment, request_id)
    return RealtimeCredential(
        token=token,
        expires_at=expires_at,
        webrtc_url=base + CALLS_PATH,
        realtime_deployment=deployment,
        transcription_model=session["audio"]["input"]["transcription"]["model"],
        session_tier=tier,
        reasoning_effort=settings.realtime_reasoning_effort or None,
        voice=voice,
        replaced_voice=replaced,
    )
