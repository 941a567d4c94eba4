"""Persona selection for realtime credentials: the contract's `personaSelectionReason` ladder, and the language.

Inputs: the persona the caller names (`personaId`), the scenario (a held session's stored one first, else the
body's `scenarioId`), the locale (the body's `requestedLocale`, else the held session's stored locale, else the
`userHintLanguage`) and the hint itself. Pure and deterministic: the catalog is passed in (the process catalog
by default) and nothing is read or written elsewhere.

Candidate pool: the scenario's `allowedPersonaIds` in order when there is a scenario; else only the named
persona when one is named (an explicit persona is never swapped for another domain's); else the whole catalog.
The preferred persona is the named one, else the scenario's first allowed persona.

The ladder, first rung that yields a persona wins:

1. `exact-locale`       a candidate whose `locale` equals the locale (the preferred persona if it matches);
2. `language-only`      a candidate whose locale has the same language subtag (`es-ES` → an `es-MX` persona);
3. `preferred-persona`  the preferred persona;
4. `en-us-fallback`     the first `en-US` candidate;
5. `untagged-fallback`  the first candidate without a locale tag;
6. `catalog-fallback`   the first candidate (the first catalog persona when the pool is empty).

Language: a locked `languagePolicy` keeps its primary language unless the requested or stored locale is one of
its supported ones; `userHintLanguage` is ignored for it. An unlocked policy takes the first of locale, hint
that matches a supported language (exactly, then by language subtag), else its primary. A persona without a
policy speaks the locale or the hint, else `en`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.platform.errors import BadRequest, NotFound

REASONS = (
    "exact-locale",
    "language-only",
    "preferred-persona",
    "en-us-fallback",
    "untagged-fallback",
    "catalog-fallback",
)
FALLBACK_LOCALE = "en-US"
NO_POLICY_LANGUAGE = "en"
# BCP-47 as browsers send it: a 2-3 letter language, then subtags of 1-8 letters or digits.
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
MAX_LOCALE_LENGTH = 35


@dataclass(frozen=True, slots=True)
class LanguageDecision:
    """The language the selected persona speaks on this call, and why."""

    effective_language: str
    transcription_language_code: str
    locked: bool
    lock_reason: str | None
    supported_languages: tuple[str, ...]
    language_labels: dict[str, str] = field(default_factory=dict)
    instructions: str = ""


@dataclass(frozen=True, slots=True)
class PersonaSelection:
    """The persona chosen for a realtime call and its language decision."""

    persona_id: str
    persona_locale: str | None
    reason: str
    scenario_id: str | None
    language: LanguageDecision

    def contract_fields(self) -> dict[str, Any]:
        """The selection's part of the createRealtimeCredentials answer, in the contract's names."""
        fields: dict[str, Any] = {
            "selectedPersonaId": self.persona_id,
            "personaSelectionReason": self.reason,
            "effectiveLanguage": self.language.effective_language,
            "transcriptionLanguageCode": self.language.transcription_language_code,
            "languageLocked": self.language.locked,
            "supportedLanguages": list(self.language.supported_languages),
            "languageLabels": dict(self.language.language_labels),
            "languagePolicyInstructions": self.language.instructions,
        }
        if self.persona_locale:
            fields["selectedPersonaLocale"] = self.persona_locale
        if self.language.lock_reason:
            fields["lockReason"] = self.language.lock_reason
        return fields


def normalize_locale(value: str | None, field_name: str) -> str | None:
    """A BCP-47 tag in canonical case (`es_mx` → `es-MX`); None when empty; BadRequest naming the field."""
    if value is None:
        return None
    text = value.strip().replace("_", "-")
    if not text:
        return None
    if len(text) > MAX_LOCALE_LENGTH or not _LOCALE.fullmatch(text):
        raise BadRequest(f"{field_name} must be a BCP-47 language tag", code="validation_error")
    language, *subtags = text.split("-")
    canonical = [language.lower()]
    for subtag in subtags:
        if len(subtag) == 2 and subtag.isalpha():
            canonical.append(subtag.upper())
        elif len(subtag) == 4 and subtag.isalpha():
            canonical.append(subtag.title())
        else:
            canonical.append(subtag.lower())
    return "-".join(canonical)


def _language(locale: str) -> str:
    return locale.split("-", 1)[0].lower()


def _persona_locale(persona: Mapping[str, Any]) -> str | None:
    raw = persona.get("locale")
    if not isinstance(raw, str) or not raw.strip():
        return None
    # A catalog tag that is not BCP-47 counts as untagged rather than failing every request.
    try:
        return normalize_locale(raw, "locale")
    except BadRequest:
        return None


def _pick(pool: list[Mapping[str, Any]], preferred_id: str | None, matches) -> Mapping[str, Any] | None:
    found = [persona for persona in pool if matches(persona)]
    if not found:
        return None
    return next((persona for persona in found if persona["id"] == preferred_id), found[0])


def select_persona(
    *,
    persona_id: str | None = None,
    scenario_id: str | None = None,
    requested_locale: str | None = None,
    user_hint_language: str | None = None,
    session_scenario_id: str | None = None,
    session_locale: str | None = None,
    personas: Mapping[str, Mapping[str, Any]] | None = None,
    scenarios: Mapping[str, Mapping[str, Any]] | None = None,
) -> PersonaSelection:
    """Choose the persona and language of a realtime call by the contract's selection ladder.

    NotFound for an unknown `personaId`; BadRequest for an unknown body `scenarioId`, a persona the scenario
    does not allow, or a malformed locale.
    """
    if personas is None or scenarios is None:
        from shared.catalog import content

        personas = content.personas() if personas is None else personas
        scenarios = content.scenarios() if scenarios is None else scenarios

    named = (persona_id or "").strip() or None
    if named is not None and named not in personas:
        raise NotFound(f"Persona {named!r} not found", code="persona_not_found")

    scenario_slug = (session_scenario_id or "").strip() or (scenario_id or "").strip() or None
    scenario = scenarios.get(scenario_slug) if scenario_slug else None
    if scenario_slug and scenario is None:
        raise BadRequest(f"Unknown scenario {scenario_slug!r}", code="unknown_scenario")

    locale = normalize_locale(requested_locale, "requestedLocale") or normalize_locale(session_locale, "locale")
    hint = normalize_locale(user_hint_language, "userHintLanguage")
    target = locale or hint

    if scenario is not None:
        pool = [personas[pid] for pid in scenario.get("allowedPersonaIds") or () if pid in personas]
        if named is not None and all(persona["id"] != named for persona in pool):
            raise BadRequest(
                f"Persona {named!r} is not available for scenario {scenario_slug!r}", code="persona_not_in_scenario"
            )
        preferred_id = named or (pool[0]["id"] if pool else None)
    elif named is not None:
        pool = [personas[named]]
        preferred_id = named
    else:
        pool = list(personas.values())
        preferred_id = None

    chosen, reason = None, None
    if target:
        chosen = _pick(pool, preferred_id, lambda p: _persona_locale(p) == target)
        reason = "exact-locale"
        if chosen is None:
            chosen = _pick(pool, preferred_id, lambda p: _language(_persona_locale(p) or "-") == _language(target))
            reason = "language-only"
    if chosen is None and preferred_id is not None:
        chosen, reason = personas[preferred_id], "preferred-persona"
    if chosen is None:
        chosen = _pick(pool, None, lambda p: _persona_locale(p) == FALLBACK_LOCALE)
        reason = "en-us-fallback"
    if chosen is None:
        chosen = _pick(pool, None, lambda p: _persona_locale(p) is None)
        reason = "untagged-fallback"
    if chosen is None:
        everyone = pool or list(personas.values())
        if not everyone:
            raise NotFound("No persona is available", code="persona_not_found")
        chosen, reason = everyone[0], "catalog-fallback"

    return PersonaSelection(
        persona_id=chosen["id"],
        persona_locale=_persona_locale(chosen),
        reason=reason,
        scenario_id=scenario_slug,
        language=decide_language(chosen, locale=locale, hint=hint),
    )


def _policy_of(persona: Mapping[str, Any]) -> Mapping[str, Any] | None:
    runtime = persona.get("runtime")
    policy = runtime.get("languagePolicy") if isinstance(runtime, Mapping) else None
    if isinstance(policy, Mapping) and isinstance(policy.get("primary"), str) and policy["primary"]:
        return policy
    return None


def _match_supported(wanted: str | None, supported: list[str]) -> str | None:
    if not wanted:
        return None
    exact = next((locale for locale in supported if locale.lower() == wanted.lower()), None)
    if exact:
        return exact
    return next((locale for locale in supported if _language(locale) == _language(wanted)), None)


def decide_language(persona: Mapping[str, Any], *, locale: str | None, hint: str | None) -> LanguageDecision:
    """The language a persona speaks given the caller's locale and hint (a locked policy ignores the hint)."""
    policy = _policy_of(persona)
    if policy is None:
        effective = locale or hint or NO_POLICY_LANGUAGE
        return LanguageDecision(
            effective_language=effective,
            transcription_language_code=_language(effective),
            locked=False,
            lock_reason=None,
            supported_languages=(),
            language_labels={},
            instructions=f"Conduct the call in the caller's language ({effective}).",
        )

    primary = policy["primary"]
    supported = [locale for locale in policy.get("supported") or () if isinstance(locale, str)] or [primary]
    if primary not in supported:
        supported.insert(0, primary)
    labels = {key: value for key, value in (policy.get("labels") or {}).items() if isinstance(value, str)}
    locked = bool(policy.get("locked"))
    lock_reason = policy.get("lockReason") if locked and isinstance(policy.get("lockReason"), str) else None

    wanted = (locale,) if locked else (locale, hint)
    effective = next((found for found in (_match_supported(w, supported) for w in wanted) if found), primary)
    return LanguageDecision(
        effective_language=effective,
        transcription_language_code=_language(effective),
        locked=locked,
        lock_reason=lock_reason,
        supported_languages=tuple(supported),
        language_labels=labels,
        instructions=_language_instructions(effective, primary, supported, labels, locked, lock_reason),
    )


def _language_instructions(
    effective: str,
    primary: str,
    supported: list[str],
    labels: Mapping[str, str],
    locked: bool,
    lock_reason: str | None,
) -> str:
    def label(locale: str) -> str:
        return f"{labels.get(locale, locale)} ({locale})"

    lines = [f"Language policy: conduct the call in {label(effective)}."]
    if effective != primary:
        lines.append(f"Your script and greeting are written in {label(primary)}; say them in {label(effective)}.")
    if locked:
        lines.append("This language is locked: never switch to another language, even if the caller does.")
        if lock_reason:
            lines.append(f"Why: {lock_reason}")
        lines.append("If the caller cannot continue in it, explain that briefly and offer a human hand-off.")
    else:
        others = [label(locale) for locale in supported if locale != effective]
        if others:
            lines.append(f"If the caller prefers {' or '.join(others)}, switch to it for the rest of the call.")
        lines.append("For any other language, explain briefly that you cannot help in it and offer a human hand-off.")
    return " ".join(lines)
