"""The evidence bundle of a finished session, its manifest, and the signed pack (the contract's shapes, version "1").

The bundle is built only from the stored session document and server-side journals, never from client input:
* transcript: the stored turns {role, text, timestamp} (empty when consent retention dropped them);
* reasoning: the stored timeline, one entry per event ({at: timestamp, label: "title — description"}), then each
  failed integration attempt (nothing was updated, but the attempt is part of the record);
* toolCalls: the tool executions passed in (the tool journal), in journal order;
* systemUpdates: timeline events that wrote to a system (roi.SYSTEM_EVENT_TYPES), then integration deliveries
  that succeeded (e.g. the intake sent to the EHR);
* approvals: the approvals passed in, in journal order;
* results: the results stored at finalize; persona and duration from the session.

Items keep their stored order: order is evidence, and RFC 8785 canonicalization keeps array order (object
keys are sorted), so reordering any array changes the signed bytes. Free-form previews are masked where they
look like credentials, since packs are kept for years and handed to third parties.

The pack is {sessionId, bundle, signature, manifest, canonicalJson}: `canonicalJson` is the RFC 8785 text of the
bundle, exactly the bytes signed; `manifest.bundleSha256` is their sha256; `manifest.packSha256` is the sha256 of
the canonical JSON of {"bundle", "signature"} (the signed content together with its signature).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from shared.evidence.canonical import canonical_bytes, canonical_sha256, sha256_hex
from shared.evidence.format import BUNDLE_VERSION, SECTIONS, SIGNATURE_ALGORITHM, counts, pack_sha256
from shared.evidence.keys import SigningKey
from shared.platform import clock
from shared.platform.errors import NotFound
from shared.results.roi import SYSTEM_EVENT_TYPES

TOOL_STATUSES = frozenset({"success", "failed", "pending"})
APPROVAL_DECISIONS = frozenset({"approved", "rejected", "pending"})
MASK = "[redacted]"


class EvidenceInputError(ValueError):
    """A journal item (tool execution or approval) missing a field the contract requires, or with a bad value."""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _event_type(event: Mapping[str, Any]) -> str:
    # The ROI model's normalisation, so both count the same events as system writes.
    return re.sub(r"[\s-]+", "_", _text(event.get("type")).strip().lower())


def _mask(value: Any, key: str | None = None) -> Any:
    """A copy of a free-form preview with credential-named keys and credential-shaped strings masked."""
    from shared.sessions.secret_guard import is_secret_key, looks_like_secret

    if isinstance(value, Mapping):
        masked = {}
        for name, child in value.items():
            name = str(name)
            if is_secret_key(name) and not (child is None or isinstance(child, bool) or child == ""):
                masked[name] = MASK
            else:
                masked[name] = _mask(child, name)
        return masked
    if isinstance(value, list | tuple):
        return [_mask(item, key) for item in value]
    if isinstance(value, str) and looks_like_secret(value, key=key):
        return MASK
    return value


def _timestamp(value: Any, index: int) -> int | float:
    # Finalize stores a number, falling back to the turn's position; the same fallback keeps the bundle valid.
    return value if isinstance(value, int | float) and not isinstance(value, bool) else index


def _transcript(session: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "role": _text(turn.get("role")),
            "text": _text(turn.get("text")),
            "timestamp": _timestamp(turn.get("timestamp"), index),
        }
        for index, turn in enumerate(session.get("transcript") or [])
        if isinstance(turn, Mapping)
    ]


def _label(title: Any, description: Any) -> str:
    title, description = _text(title).strip(), _text(description).strip()
    return f"{title} — {description}" if title and description else title or description


def _reasoning(session: Mapping[str, Any]) -> list[dict[str, str]]:
    entries = [
        {"at": _text(event.get("timestamp")), "label": _label(event.get("title"), event.get("description"))}
        for event in session.get("timelineEvents") or []
        if isinstance(event, Mapping)
    ]
    entries.extend(
        {
            "at": _text(outcome.get("attemptedAt") or outcome.get("startedAt")),
            "label": f"Integration attempt failed ({_text(outcome.get('kind'))}): {_text(outcome.get('summary'))}",
        }
        for outcome in session.get("integrationOutcomes") or []
        if isinstance(outcome, Mapping) and outcome.get("status") == "failed"
    )
    return entries


def _system_updates(session: Mapping[str, Any]) -> list[dict[str, Any]]:
    updates: list[dict[str, Any]] = []
    for index, event in enumerate(session.get("timelineEvents") or []):
        if isinstance(event, Mapping) and _event_type(event) in SYSTEM_EVENT_TYPES:
            updates.append(
                {
                    "id": _text(event.get("id")) or f"evt-{index + 1}",
                    "system": _text(event.get("system")) or "other",
                    "at": _text(event.get("timestamp")),
                    "description": _label(event.get("title"), event.get("description")),
                }
            )
    for outcome in session.get("integrationOutcomes") or []:
        if not isinstance(outcome, Mapping) or outcome.get("status") != "sent":
            continue
        update = {
            "id": _text(outcome.get("id")),
            "system": _text(outcome.get("providerId") or outcome.get("kind")),
            "at": _text(outcome.get("completedAt") or outcome.get("attemptedAt")),
            "description": _text(outcome.get("summary")),
        }
        if outcome.get("externalId"):
            update["recordId"] = _text(outcome["externalId"])
        fields = (outcome.get("payloadPreview") or {}).get("fields")
        if isinstance(fields, list) and all(isinstance(name, str) for name in fields):
            update["fieldsChanged"] = list(fields)
        updates.append(update)
    return updates


def _required_text(item: Mapping[str, Any], name: str, what: str, index: int) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise EvidenceInputError(f"{what}[{index}] needs a non-empty string {name}")
    return value


def _tool_calls(executions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    calls = []
    for index, execution in enumerate(executions):
        call: dict[str, Any] = {
            "id": _required_text(execution, "id", "toolCalls", index),
            "tool": _required_text(execution, "tool", "toolCalls", index),
            "startedAt": _required_text(execution, "startedAt", "toolCalls", index),
            "status": execution.get("status"),
        }
        if call["status"] not in TOOL_STATUSES:
            raise EvidenceInputError(f"toolCalls[{index}].status must be one of {sorted(TOOL_STATUSES)}")
        latency = execution.get("latencyMs")
        if latency is not None:
            if isinstance(latency, bool) or not isinstance(latency, int | float):
                raise EvidenceInputError(f"toolCalls[{index}].latencyMs must be a number")
            call["latencyMs"] = latency
        for preview in ("inputsPreview", "outputsPreview"):
            if execution.get(preview) is not None:
                if not isinstance(execution[preview], Mapping):
                    raise EvidenceInputError(f"toolCalls[{index}].{preview} must be an object")
                call[preview] = _mask(execution[preview])
        calls.append(call)
    return calls


def _approvals(approvals: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    items = []
    for index, approval in enumerate(approvals):
        item: dict[str, Any] = {
            "id": _required_text(approval, "id", "approvals", index),
            "requestedAt": _required_text(approval, "requestedAt", "approvals", index),
        }
        decision = approval.get("decision")
        if decision is not None:
            if decision not in APPROVAL_DECISIONS:
                raise EvidenceInputError(f"approvals[{index}].decision must be one of {sorted(APPROVAL_DECISIONS)}")
            item["decision"] = decision
        for name in ("reviewer", "decidedAt", "note"):
            if approval.get(name) is not None:
                item[name] = _text(approval[name])
        items.append(item)
    return items


def _persona(session: Mapping[str, Any]) -> dict[str, str] | None:
    persona_id = session.get("personaId")
    if not isinstance(persona_id, str) or not persona_id:
        return None
    from shared.catalog import content

    persona = content.personas().get(persona_id) or {}
    snapshot = session.get("realtimeSnapshot") or {}
    result = {"id": persona_id}
    if persona.get("displayName"):
        result["displayName"] = _text(persona["displayName"])
    voice = snapshot.get("voice") or persona.get("defaultVoice")
    if voice:
        result["voice"] = _text(voice)
    return result


def is_finalized(session: Mapping[str, Any]) -> bool:
    """Whether the session was finalized (only finished sessions have evidence packs and PDFs)."""
    return session.get("status") == "finalized" or bool(session.get("finalizedAt"))


def build_bundle(
    session: Mapping[str, Any],
    *,
    tool_executions: Sequence[Mapping[str, Any]] = (),
    approvals: Sequence[Mapping[str, Any]] = (),
    generated_at: str | None = None,
) -> dict[str, Any]:
    """The contract's bundle (version "1") of a stored, finalized session; NotFound when it is not finalized."""
    if not is_finalized(session):
        raise NotFound(
            "The session is not finalized yet: evidence exists only for finished sessions",
            code="session_not_finalized",
        )
    bundle: dict[str, Any] = {
        "version": BUNDLE_VERSION,
        "sessionId": _text(session["id"]),
        "scenarioId": _text(session.get("scenarioId")),
        "generatedAt": generated_at or clock.now_iso(),
        "durationSeconds": session.get("duration") or 0,
        "transcript": _transcript(session),
        "reasoning": _reasoning(session),
        "toolCalls": _tool_calls(tool_executions),
        "systemUpdates": _system_updates(session),
        "approvals": _approvals(approvals),
    }
    for name in ("scenarioTitle", "tenantId"):
        if session.get(name):
            bundle[name] = _text(session[name])
    persona = _persona(session)
    if persona:
        bundle["persona"] = persona
    if isinstance(session.get("results"), Mapping):
        bundle["results"] = dict(session["results"])
    return bundle


def section_sha256(bundle: Mapping[str, Any]) -> dict[str, str]:
    """sha256 of the RFC 8785 form of each section (the contract's manifest has no room for them; PDFs list them)."""
    return {section: canonical_sha256(bundle.get(section) or []) for section in SECTIONS}


def content_sha256(bundle: Mapping[str, Any]) -> str:
    """sha256 of the bundle without `generatedAt`: equal for two packs of an unchanged session (blob reuse key)."""
    return canonical_sha256({name: value for name, value in bundle.items() if name != "generatedAt"})


def build_manifest(bundle: Mapping[str, Any], canonical: bytes, signature: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's manifest: version, digests of the canonical bundle and of the pack, byte length, counts."""
    return {
        "version": BUNDLE_VERSION,
        "sessionId": bundle["sessionId"],
        "generatedAt": bundle["generatedAt"],
        "bundleSha256": sha256_hex(canonical),
        "packSha256": pack_sha256(bundle, signature),
        "bundleByteLength": len(canonical),
        "counts": counts(bundle),
    }


def sign_bundle(bundle: Mapping[str, Any], key: SigningKey) -> dict[str, Any]:
    """The signed pack {sessionId, bundle, signature, manifest, canonicalJson} over the bundle's RFC 8785 bytes."""
    canonical = canonical_bytes(bundle)
    signature = {
        "algorithm": SIGNATURE_ALGORITHM,
        "publicKeyId": key.public_key_id,
        "publicKeyPem": key.public_key_pem,
        "signatureB64": key.sign_b64(canonical),
    }
    return {
        "sessionId": bundle["sessionId"],
        "bundle": dict(bundle),
        "signature": signature,
        "manifest": build_manifest(bundle, canonical, signature),
        "canonicalJson": canonical.decode("utf-8"),
    }


def build_pack(
    session: Mapping[str, Any],
    key: SigningKey,
    *,
    tool_executions: Sequence[Mapping[str, Any]] = (),
    approvals: Sequence[Mapping[str, Any]] = (),
    generated_at: str | None = None,
) -> dict[str, Any]:
    """Bundle a stored, finalized session and sign it: the body of GET /api/sessions/{id}/evidence-packs."""
    bundle = build_bundle(session, tool_executions=tool_executions, approvals=approvals, generated_at=generated_at)
    return sign_bundle(bundle, key)
