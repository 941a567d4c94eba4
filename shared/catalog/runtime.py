"""Persona runtime composition: everything the browser sends the realtime model, deterministically.

Layers, in order: the global voice contract, the persona core, the tone, the scenario's
parameterization (a practice brand replaces the persona's own brand literal everywhere), the
tenant's fast-start profile (with its published workflow: the runtime's `workflowProfileId` becomes
the published version's id and its steps join the instructions), and the prompt-profile experiment
of the session.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shared.catalog import content
from shared.catalog.service import persona as find_persona
from shared.catalog.service import realtime_tool, scenario_or_400
from shared.platform import clock
from shared.platform.settings import get_settings

GLOBAL_VOICE_CONTRACT = (
    "You are a voice agent on a live phone-style call. Speak in short, natural turns of one to three "
    "sentences and let the caller finish. Never claim to be human; if asked, say you are an AI assistant. "
    "Confirm names, numbers and dates by repeating them back. Ask for only the information the task needs, "
    "never read back full identifiers such as card, account or social security numbers, and do not give "
    "medical, legal or financial advice beyond the documented scripts. When a request is outside your "
    "tools or the caller is upset or at risk, offer a human hand-off."
)

TONES: dict[str, dict[str, Any]] = {
    "warm": {
        "instruction": "Tone: warm and reassuring. Acknowledge feelings before moving on, and use the caller's name.",
        "temperature_delta": 0.05,
        "voices": ("marin", "coral", "shimmer", "sage"),
    },
    "professional": {
        "instruction": "Tone: professional and precise. Be concise, structured and neutral; avoid small talk.",
        "temperature_delta": -0.1,
        "voices": ("cedar", "ash", "echo", "alloy"),
    },
    "friendly": {
        "instruction": "Tone: friendly and upbeat. Sound approachable and conversational, with light energy.",
        "temperature_delta": 0.1,
        "voices": ("coral", "verse", "ballad", "marin"),
    },
}

PRACTICE_SIZES = {
    "solo": "a solo practice where the same clinician knows most patients",
    "small_group": "a small group practice with a shared front desk",
    "multi_site": "a multi-site practice; always confirm which location the caller means",
}

TURN_DETECTION = {
    "server_vad": {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "create_response": True,
        "interrupt_response": True,
    },
    "semantic_vad": {"type": "semantic_vad", "eagerness": "auto", "create_response": True, "interrupt_response": True},
}

PROMPT_EXPERIMENT_ID = "prompt-profile-2026q4"
PROMPT_VARIANTS: dict[str, str] = {
    "control": "",
    "concise-turns": "Keep every turn under two sentences unless the caller asks for detail.",
}
# Realtime models accept temperatures in [0.6, 1.2].
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.6, 1.2


def compose(
    persona_id: str,
    *,
    tone: str | None = None,
    scenario_id: str | None = None,
    session_id: str | None = None,
    onboarding_profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The complete runtime payload of a persona under a tone, scenario, profile and session."""
    persona = find_persona(persona_id)
    core = persona["runtime"]
    scenario = scenario_or_400(scenario_id) if scenario_id else None
    parameterization = (scenario or {}).get("parameterization") or {}

    instructions = [GLOBAL_VOICE_CONTRACT, core["instructionsCore"]]
    greeting = core["greeting"]
    practice_brand = parameterization.get("practiceBrand")
    effective_brand: Any = practice_brand or core.get("brandLiteral")
    instructions.extend(_parameterization_fragments(parameterization))

    tone_profile = TONES.get(tone) if tone else None
    temperature = float(core["temperature"])
    voice = persona["defaultVoice"]
    if tone_profile:
        instructions.append(tone_profile["instruction"])
        temperature += tone_profile["temperature_delta"]
        voice = next((v for v in tone_profile["voices"] if v in persona["allowedVoices"]), voice)
    temperature = round(min(MAX_TEMPERATURE, max(MIN_TEMPERATURE, temperature)), 2)

    tenant_hints = _onboarding_hints(onboarding_profile) if onboarding_profile else None
    published = _published_workflow(onboarding_profile)
    if tenant_hints:
        instructions.append(tenant_hints)
        if onboarding_profile.get("greeting"):
            greeting = onboarding_profile["greeting"]

    experiment = _experiment(session_id) if session_id else None
    if experiment and PROMPT_VARIANTS[experiment["variantId"]]:
        instructions.append(PROMPT_VARIANTS[experiment["variantId"]])

    language_policy = core["languagePolicy"]
    tool_ids = list(core["tools"])
    policy = {
        "personaId": persona_id,
        "tools": tool_ids,
        "languagePolicy": language_policy,
        "turnDetection": core["turnDetection"],
        "voice": voice,
        "tone": tone,
        "scenario": scenario_id,
        "brand": effective_brand,
        "onboardingProfileId": (onboarding_profile or {}).get("id"),
    }
    if published:
        policy["workflow"] = published["id"]
    layers: dict[str, Any] = {
        "globalVoiceContract": GLOBAL_VOICE_CONTRACT,
        "personaId": persona_id,
        "personaCoreSummary": core["personaCoreSummary"],
        "integrationHints": core["integrationHints"],
        "policyFingerprint": fingerprint(policy),
    }
    if tenant_hints:
        layers["tenantRuntimeHints"] = tenant_hints
    layers["connectorSurfaceSummary"] = ", ".join(sorted({content.tools()[t]["category"] for t in tool_ids}))

    runtime: dict[str, Any] = {
        "instructions": "\n\n".join(part for part in instructions if part),
        "temperature": temperature,
        "maxOutputTokens": core["maxOutputTokens"],
        "defaultVoice": voice,
        "behaviorProfile": core["behaviorProfile"],
        "turnDetection": core["turnDetection"],
        "turnDetectionConfig": TURN_DETECTION[core["turnDetection"]],
        "modalities": ["text", "audio"],
        "inputAudioFormat": "pcm16",
        "outputAudioFormat": "pcm16",
        "inputAudioTranscription": {
            "model": get_settings().azure_openai_transcription_model,
            "language": language_policy["primary"].split("-")[0],
        },
        "tools": [realtime_tool(tool_id) for tool_id in tool_ids],
        "capabilities": core["capabilities"],
        "workflowProfileId": published["id"] if published else core["workflowProfileId"],
        "contextEnvelope": {"schemaVersion": "v2", "layers": layers},
        "languagePolicy": language_policy,
        "recommendedLanguages": core["recommendedLanguages"],
        "greetingInstruction": f'Open the call by saying: "{greeting}"',
        "transcriptionPrompt": core["transcriptionPrompt"],
        "voicePipeline": core["voicePipeline"],
    }
    if effective_brand:
        runtime["brandLiteral"] = effective_brand
    if core["voicePipeline"] == "azure-voice-live":
        runtime["voiceLiveConfig"] = {
            "voice": {"name": voice, "type": "azure-standard", "temperature": temperature},
            "turn_detection": {"type": "azure_semantic_vad"},
            "input_audio_noise_reduction": {"type": "azure_deep_noise_suppression"},
        }
    if experiment:
        runtime["promptProfileExperiment"] = experiment
    if practice_brand:
        # The scenario's practice speaks: no trace of the persona's own brand may remain anywhere.
        runtime = _rebrand(runtime, _brand_literals(core.get("brandLiteral")), practice_brand)
    return runtime


def _rebrand(value: Any, literals: list[str], brand: str) -> Any:
    if isinstance(value, str):
        for literal in literals:
            value = value.replace(literal, brand)
        return value
    if isinstance(value, dict):
        return {key: _rebrand(item, literals, brand) for key, item in value.items()}
    if isinstance(value, list):
        return [_rebrand(item, literals, brand) for item in value]
    return value


def _brand_literals(value: Any) -> list[str]:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str) and item]
    return []


def _parameterization_fragments(parameterization: dict[str, Any]) -> list[str]:
    fragments = []
    if parameterization.get("specialty"):
        fragments.append(f"Practice specialty: {parameterization['specialty']}. Use its vocabulary precisely.")
    size = PRACTICE_SIZES.get(parameterization.get("practiceSize", ""))
    if size:
        fragments.append(f"You answer for {size}.")
    if parameterization.get("stateProfile"):
        fragments.append(
            f"The practice operates in {parameterization['stateProfile']}; follow that state's consent and "
            "privacy rules and never promise coverage decisions."
        )
    return fragments


def _published_workflow(profile: dict[str, Any] | None) -> dict[str, Any] | None:
    """The profile's published workflow (id, version, graph), or None before its first publish."""
    if not profile or not profile.get("publishedWorkflowVersion") or not profile.get("workflow"):
        return None
    return {
        "id": profile["publishedWorkflowId"],
        "version": int(profile["publishedWorkflowVersion"]),
        "graph": profile["workflow"],
    }


def _onboarding_hints(profile: dict[str, Any]) -> str:
    lines = [f"Customer context: you answer for {profile.get('companyName', 'the customer')}."]
    if profile.get("businessDescription"):
        lines.append(f"About them: {profile['businessDescription']}")
    if profile.get("intakeFields"):
        lines.append("Capture these fields: " + ", ".join(profile["intakeFields"]) + ".")
    for faq in profile.get("faqs") or []:
        lines.append(f"If asked '{faq['question']}', answer: {faq['answer']}")
    if profile.get("escalationContact"):
        lines.append(f"Escalate to: {profile['escalationContact']}.")
    if profile.get("bookingLink"):
        lines.append(f"Booking link to offer: {profile['bookingLink']}.")
    # The onboarding domain describes the published workflow (shared.onboarding.service.runtime_profile).
    if _published_workflow(profile) and profile.get("publishedWorkflowDescription"):
        lines.append(profile["publishedWorkflowDescription"])
    return "\n".join(lines)


def fingerprint(policy: dict[str, Any]) -> str:
    """sha256 of the effective policy as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(policy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def assignment_hash(session_id: str) -> int:
    """A stable 52-bit hash of the session within the experiment."""
    digest = hashlib.sha256(f"{PROMPT_EXPERIMENT_ID}:{session_id}".encode()).hexdigest()
    return int(digest[:13], 16)


def _experiment(session_id: str) -> dict[str, Any]:
    value = assignment_hash(session_id)
    variants = sorted(PROMPT_VARIANTS)
    return {
        "experimentId": PROMPT_EXPERIMENT_ID,
        "variantId": variants[value % len(variants)],
        "assignmentHash": value,
        "assignedAt": clock.now_iso(),
    }
