"""A loopback stand-in of Azure OpenAI's realtime client_secrets endpoint, for `make dev` without Azure.

It speaks the GA protocol the app's provider client speaks (shared/realtime/provider.py):
`POST /openai/v1/realtime/client_secrets` with the `api-key` header and
`{"expires_after": {...}, "session": {"type": "realtime", "model": <deployment>, ...}}`. The body is checked
the way the service documents it — the session type, the deployment, the audio formats (`audio/pcm` at
24 kHz, `audio/pcmu`, `audio/pcma`), the built-in voice names, server/semantic VAD and their parameters, the
transcription models, function tools, output modalities, token limits and the secret's lifetime (10–7200 s),
unknown parameters included (the GA session has no `temperature` or `modalities`) — and a refusal is a 400 in
the provider's error shape `{"error": {"message", "type", "param", "code"}}`. An unknown deployment is Azure's
404 `DeploymentNotFound`, a missing or wrong key Azure's 401.

A valid request gets an `ek_`-shaped secret whose expiry is capped at `max_ttl_seconds` (two minutes by
default), so nothing a developer copies stays useful. The stand-in carries no audio: the WebRTC endpoint
(`/openai/v1/realtime/calls`) answers 501 saying so. It binds 127.0.0.1 only. Transcription-only sessions
(`"type": "transcription"`) are outside it (400 naming that); the app never asks for one.

Use: `handle = start(port)`; put `handle.env()` into the app's environment; `handle.stop()` at exit.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger("devhost.realtime_standin")

LOOPBACK = "127.0.0.1"
CLIENT_SECRETS_PATH = "/openai/v1/realtime/client_secrets"
CALLS_PATH = "/openai/v1/realtime/calls"
DEFAULT_TTL_SECONDS = 600
DEFAULT_MAX_TTL_SECONDS = 120
MAX_BODY_BYTES = 4 * 1024 * 1024
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
TRANSCRIPTION_MODELS = (
    "whisper-1",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe",
    "gpt-4o-transcribe-diarize",
    "gpt-realtime-whisper",
)


# --- the documented request shape ---------------------------------------------------------------


class _Strict(BaseModel):
    # The service refuses unknown parameters and does not coerce types ("1" is not 1).
    model_config = ConfigDict(extra="forbid", strict=True)


class ExpiresAfter(_Strict):
    anchor: Literal["created_at"] = "created_at"
    seconds: Annotated[int, Field(ge=10, le=7200)] = DEFAULT_TTL_SECONDS


class PcmFormat(_Strict):
    type: Literal["audio/pcm"]
    rate: Literal[24000] = 24000


class PcmuFormat(_Strict):
    type: Literal["audio/pcmu"]


class PcmaFormat(_Strict):
    type: Literal["audio/pcma"]


AudioFormat = Annotated[PcmFormat | PcmuFormat | PcmaFormat, Field(discriminator="type")]


class NoiseReduction(_Strict):
    type: Literal["near_field", "far_field"]


class Transcription(_Strict):
    model: Literal[TRANSCRIPTION_MODELS] | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")] | None = None
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] | None = None
    prompt: str | None = None
    keywords: list[str] | None = None
    delay: Literal["minimal", "low", "medium", "high", "xhigh"] | None = None


class ServerVad(_Strict):
    type: Literal["server_vad"]
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    prefix_padding_ms: Annotated[int, Field(ge=0)] | None = None
    silence_duration_ms: Annotated[int, Field(ge=0)] | None = None
    idle_timeout_ms: Annotated[int, Field(ge=0)] | None = None
    create_response: bool | None = None
    interrupt_response: bool | None = None


class SemanticVad(_Strict):
    type: Literal["semantic_vad"]
    eagerness: Literal["low", "medium", "high", "auto"] | None = None
    create_response: bool | None = None
    interrupt_response: bool | None = None


TurnDetection = Annotated[ServerVad | SemanticVad, Field(discriminator="type")]


class AudioInput(_Strict):
    format: AudioFormat | None = None
    noise_reduction: NoiseReduction | None = None
    transcription: Transcription | None = None
    turn_detection: TurnDetection | None = None


class CustomVoice(_Strict):
    id: Annotated[str, Field(min_length=1)]


class AudioOutput(_Strict):
    format: AudioFormat | None = None
    speed: Annotated[float, Field(ge=0.25, le=1.5)] | None = None
    voice: Literal[VOICES] | CustomVoice | None = None


class Audio(_Strict):
    input: AudioInput | None = None
    output: AudioOutput | None = None


class FunctionTool(_Strict):
    type: Literal["function"]
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    description: str | None = None
    parameters: dict[str, Any] | None = None


class McpTool(_Strict):
    type: Literal["mcp"]
    server_label: Annotated[str, Field(min_length=1)]
    server_url: str | None = None
    connector_id: str | None = None
    tunnel_id: str | None = None
    server_description: str | None = None
    authorization: str | None = None
    headers: dict[str, str] | None = None
    allowed_tools: list[str] | dict[str, Any] | None = None
    require_approval: Literal["always", "never"] | dict[str, Any] | None = None
    defer_loading: bool | None = None


Tool = Annotated[FunctionTool | McpTool, Field(discriminator="type")]


class ToolChoiceFunction(_Strict):
    type: Literal["function"]
    name: str


class ToolChoiceMcp(_Strict):
    type: Literal["mcp"]
    server_label: str
    name: str | None = None


class Reasoning(_Strict):
    effort: Literal["minimal", "low", "medium", "high", "xhigh"] | None = None


class TokenLimits(_Strict):
    post_instructions: Annotated[int, Field(ge=0)] | None = None


class RetentionRatio(_Strict):
    type: Literal["retention_ratio"]
    retention_ratio: Annotated[float, Field(ge=0.0, le=1.0)]
    token_limits: TokenLimits | None = None


class TracingConfig(_Strict):
    workflow_name: str | None = None
    group_id: str | None = None
    metadata: dict[str, Any] | None = None


class Prompt(_Strict):
    id: str
    version: str | None = None
    variables: dict[str, Any] | None = None


class RealtimeSession(_Strict):
    type: Literal["realtime"]
    # On Azure the model is the deployment's name, and it is required.
    model: Annotated[str, Field(min_length=1)]
    instructions: str | None = None
    output_modalities: Annotated[list[Literal["text", "audio"]], Field(min_length=1, max_length=1)] | None = None
    max_output_tokens: Annotated[int, Field(ge=1, le=4096)] | Literal["inf"] | None = None
    audio: Audio | None = None
    tools: list[Tool] | None = None
    tool_choice: (
        Literal["none", "auto", "required"]
        | Annotated[ToolChoiceFunction | ToolChoiceMcp, Field(discriminator="type")]
        | None
    ) = None
    include: list[Literal["item.input_audio_transcription.logprobs"]] | None = None
    reasoning: Reasoning | None = None
    parallel_tool_calls: bool | None = None
    prompt: Prompt | None = None
    tracing: Literal["auto"] | TracingConfig | None = None
    truncation: Literal["auto", "disabled"] | RetentionRatio | None = None


class ClientSecretRequest(_Strict):
    expires_after: ExpiresAfter | None = None
    session: RealtimeSession


# --- refusals in the provider's shapes ----------------------------------------------------------


class Refusal(Exception):
    """An answer other than 200, with its body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def invalid_request(message: str, *, param: str | None = None, code: str | None = None, status: int = 400) -> Refusal:
    """A refusal in the OpenAI error shape the realtime endpoints answer with."""
    return Refusal(
        status, {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    )


def _param_path(loc: tuple[Any, ...], body: Any) -> str:
    """The dotted parameter path of a pydantic error location, without union tags and member names."""
    parts: list[str] = []
    node = body
    for position, element in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(node, dict) and isinstance(element, str):
            if element in node:
                parts.append(element)
                node = node[element]
            elif last:
                parts.append(element)
            # Otherwise the element names a union member (a tag such as 'server_vad'): not a parameter.
        elif isinstance(node, list) and isinstance(element, int):
            parts[-1:] = [f"{parts[-1]}[{element}]"] if parts else [f"[{element}]"]
            node = node[element] if 0 <= element < len(node) else None
        else:
            break
    return ".".join(parts)


def _refusal_for(error: dict[str, Any], body: Any) -> Refusal:
    kind = error["type"]
    param = _param_path(tuple(error["loc"]), body)
    value = error.get("input")
    if kind == "extra_forbidden":
        return invalid_request(f"Unknown parameter: '{param}'.", param=param, code="unknown_parameter")
    if kind == "missing":
        return invalid_request(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    # Every tagged union of the protocol is tagged by `type`.
    if kind == "union_tag_not_found":
        param = f"{param}.type" if param else "type"
        return invalid_request(
            f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    if kind == "union_tag_invalid":
        param = f"{param}.type" if param else "type"
        shown = json.dumps((error.get("ctx") or {}).get("tag"))[:80]
        return invalid_request(
            f"Invalid value for '{param}': {shown}. {error['msg']}.", param=param, code="invalid_value"
        )
    if kind.endswith("_type") or kind in {"model_attributes_type", "dict_type", "list_type"}:
        return invalid_request(f"Invalid type for '{param}': {error['msg'].lower()}.", param=param, code="invalid_type")
    number = "integer" if isinstance(value, int) else "decimal"
    if kind in {"greater_than", "greater_than_equal"}:
        return invalid_request(
            f"Invalid '{param}': {error['msg'].lower()}.", param=param, code=f"{number}_below_min_value"
        )
    if kind in {"less_than", "less_than_equal"}:
        return invalid_request(
            f"Invalid '{param}': {error['msg'].lower()}.", param=param, code=f"{number}_above_max_value"
        )
    shown = json.dumps(value)[:80] if value is not None else "null"
    return invalid_request(f"Invalid value for '{param}': {shown}. {error['msg']}.", param=param, code="invalid_value")


def validate_request(body: Any, *, deployment: str) -> ClientSecretRequest:
    """The request as the service would accept it, or the Refusal it would answer (first problem only)."""
    if not isinstance(body, dict):
        raise invalid_request("Invalid type for request body: expected an object.", code="invalid_type")
    session = body.get("session")
    if isinstance(session, dict) and session.get("type") == "transcription":
        raise invalid_request(
            "The local realtime stand-in mints realtime sessions only; transcription sessions need Azure OpenAI.",
            param="session.type",
            code="invalid_value",
        )
    try:
        request = ClientSecretRequest.model_validate(body)
    except ValidationError as exc:
        raise _refusal_for(exc.errors()[0], body) from None
    names = [tool.name for tool in request.session.tools or () if isinstance(tool, FunctionTool)]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate:
        raise invalid_request(f"Duplicate tool name: '{duplicate}'.", param="session.tools", code="invalid_value")
    if request.session.model != deployment:
        raise Refusal(
            404,
            {
                "error": {
                    "code": "DeploymentNotFound",
                    "message": "The API deployment for this resource does not exist. If you created the deployment "
                    "within the last 5 minutes, please wait a moment and try again.",
                }
            },
        )
    return request


# --- the server ---------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A stopped stand-in's port must be reusable at once by the next `make dev`.
    allow_reuse_address = True

    def __init__(self, port: int, handle: StandinHandle) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.handle = handle


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "TellgenceRealtimeStandin/1"

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines only, at debug: headers (the api-key) are never logged.
        logger.debug("realtime stand-in: " + format, *args)

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", secrets.token_hex(8))
        self.end_headers()
        self.wfile.write(payload)

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def do_GET(self) -> None:
        self._other_method()

    def do_PUT(self) -> None:
        self._other_method()

    def do_DELETE(self) -> None:
        self._other_method()

    def do_PATCH(self) -> None:
        self._other_method()

    def _other_method(self) -> None:
        try:
            self._drain()
        except Refusal as refusal:
            self._reply(refusal.status, refusal.body)
            return
        if self._path() in (CLIENT_SECRETS_PATH, CALLS_PATH):
            self._reply(405, {"error": {"code": "405", "message": "Method not allowed"}})
        else:
            self._reply(404, {"error": {"code": "404", "message": "Resource not found"}})

    def _drain(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise Refusal(413, {"error": {"code": "413", "message": "Request body too large"}})
        return self.rfile.read(length) if length > 0 else b""

    def do_POST(self) -> None:
        try:
            raw = self._drain()
            path = self._path()
            if path == CALLS_PATH:
                raise invalid_request(
                    "The local realtime stand-in mints client secrets but carries no audio; "
                    "set AZURE_OPENAI_ENDPOINT to talk to a real model.",
                    code="not_implemented",
                    status=501,
                )
            if path != CLIENT_SECRETS_PATH:
                raise Refusal(404, {"error": {"code": "404", "message": "Resource not found"}})
            self._authorize()
            self._reply(200, self.server.handle.mint(self._json(raw)))
        except Refusal as refusal:
            self._reply(refusal.status, refusal.body)

    def _authorize(self) -> None:
        key = self.headers.get("api-key")
        if key is not None and hmac.compare_digest(key.encode(), self.server.handle.api_key.encode()):
            return
        if (self.headers.get("Authorization") or "").lower().startswith("bearer "):
            message = "The local realtime stand-in accepts only its api-key; it cannot verify Entra tokens."
        else:
            message = (
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
                "key for an active subscription and use a correct regional API endpoint for your resource."
            )
        raise Refusal(401, {"error": {"code": "401", "message": message}})

    def _json(self, raw: bytes) -> Any:
        if "application/json" not in (self.headers.get("Content-Type") or ""):
            raise invalid_request("Invalid Content-Type header: expected application/json.", code="invalid_value")

        def refuse_constant(name: str) -> Any:
            raise ValueError(name)

        try:
            return json.loads(raw or b"null", parse_constant=refuse_constant)
        except (ValueError, UnicodeDecodeError):
            raise invalid_request(
                "We could not parse the JSON body of your request. The body must be valid JSON."
            ) from None


@dataclass
class StandinHandle:
    """A running stand-in: its base URL, key and deployment; `env()` for the app, `stop()` to end it."""

    port: int
    api_key: str = field(repr=False)
    deployment: str
    max_ttl_seconds: int
    minted: int = 0
    _server: _Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def url(self) -> str:
        """The resource endpoint to use as AZURE_OPENAI_ENDPOINT."""
        return f"http://{LOOPBACK}:{self.port}"

    def env(self) -> dict[str, str]:
        """The settings that point the app at this stand-in."""
        return {
            "AZURE_OPENAI_ENDPOINT": self.url,
            "AZURE_OPENAI_API_KEY": self.api_key,
            "AZURE_OPENAI_DEPLOYMENT_REALTIME": self.deployment,
        }

    def mint(self, body: Any) -> dict[str, Any]:
        """Validate a client_secrets body and answer it as the service does (raises Refusal otherwise)."""
        request = validate_request(body, deployment=self.deployment)
        requested = (request.expires_after or ExpiresAfter()).seconds
        created = int(time.time())
        session = request.session.model_dump(mode="json", exclude_none=True)
        session.setdefault("output_modalities", ["audio"])
        session.setdefault("max_output_tokens", "inf")
        session.setdefault("tool_choice", "auto")
        with self._lock:
            self.minted += 1
        return {
            "value": "ek_" + secrets.token_hex(16),
            "expires_at": created + min(requested, self.max_ttl_seconds),
            "session": {"object": "realtime.session", "id": "sess_" + secrets.token_hex(12), **session},
        }

    def stop(self) -> None:
        """Stop serving and free the port (safe to call twice)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StandinHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    port: int = 0,
    *,
    deployment: str = "gpt-realtime",
    api_key: str | None = None,
    max_ttl_seconds: int = DEFAULT_MAX_TTL_SECONDS,
) -> StandinHandle:
    """Serve the stand-in on 127.0.0.1:port (0 picks a free port) in a daemon thread; returns its handle."""
    if not 10 <= max_ttl_seconds <= 7200:
        raise ValueError("max_ttl_seconds must be between 10 and 7200")
    handle = StandinHandle(
        port=port,
        api_key=api_key or "standin-" + secrets.token_urlsafe(24),
        deployment=deployment,
        max_ttl_seconds=max_ttl_seconds,
    )
    server = _Server(port, handle)
    handle.port = server.server_address[1]
    handle._server = server
    handle._thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="realtime-standin", daemon=True
    )
    handle._thread.start()
    logger.info("realtime stand-in serving %s (deployment %s)", handle.url, deployment)
    return handle


def should_run(settings: Any) -> bool:
    """Whether `make dev` should start the stand-in: local mode with no Azure OpenAI endpoint configured."""
    return bool(settings.is_local and not settings.azure_openai_endpoint)
