"""Persona selection: every rung of the contract's ladder, the held session, and the language policy."""

from __future__ import annotations

import pytest

from shared.platform.errors import BadRequest, NotFound
from shared.realtime.selection import REASONS, normalize_locale, select_persona
from tests.unit.realtime.contract import assert_valid, credentials_schema


def persona(pid: str, locale: str | None, *, primary: str | None = None, supported=None, locked=False, reason=None):
    """A catalog persona with just what selection reads."""
    entry: dict = {"id": pid, "runtime": {}}
    if locale is not None:
        entry["locale"] = locale
    if primary is not None:
        policy = {"primary": primary, "supported": supported or [primary], "locked": locked, "labels": {}}
        if reason:
            policy["lockReason"] = reason
        entry["runtime"]["languagePolicy"] = policy
    return entry


def catalog(*entries: dict) -> dict:
    return {entry["id"]: entry for entry in entries}


# --- rung 1: exact-locale ---------------------------------------------------------------------


def test_exact_locale_picks_the_scenario_persona_of_that_locale():
    selection = select_persona(scenario_id="healthcare-intake", requested_locale="es-MX")
    assert (selection.persona_id, selection.reason) == ("healthcare_patient_intake_es", "exact-locale")
    assert selection.persona_locale == "es-MX"
    assert selection.language.effective_language == "es-MX"
    assert selection.language.transcription_language_code == "es"


def test_exact_locale_prefers_the_named_persona_among_matches():
    personas = catalog(persona("a", "en-US"), persona("b", "en-US"))
    scenarios = {"s": {"slug": "s", "allowedPersonaIds": ["a", "b"]}}
    default = select_persona(scenario_id="s", requested_locale="en-US", personas=personas, scenarios=scenarios)
    assert default.persona_id == "a"
    chosen = select_persona(
        persona_id="b", scenario_id="s", requested_locale="en-us", personas=personas, scenarios=scenarios
    )
    assert (chosen.persona_id, chosen.reason) == ("b", "exact-locale")


def test_exact_locale_can_move_from_the_named_persona_to_the_scenarios_variant():
    selection = select_persona(
        persona_id="sales_sdr", scenario_id="sales-outbound-discovery-in", requested_locale="en-IN"
    )
    assert (selection.persona_id, selection.reason) == ("sales_sdr_in", "exact-locale")


# --- rung 2: language-only --------------------------------------------------------------------


def test_language_only_matches_the_language_subtag():
    selection = select_persona(scenario_id="healthcare-intake", requested_locale="es-ES")
    assert (selection.persona_id, selection.reason) == ("healthcare_patient_intake_es", "language-only")
    # The persona speaks its supported Spanish, not the unsupported Spain variant.
    assert selection.language.effective_language == "es-MX"


def test_a_bare_language_matches_by_language():
    selection = select_persona(scenario_id="healthcare-intake-urdu", requested_locale="ur")
    assert (selection.persona_id, selection.reason) == ("healthcare_intake_ur", "language-only")


# --- rung 3: preferred-persona ----------------------------------------------------------------


def test_preferred_persona_when_no_candidate_speaks_the_locale():
    selection = select_persona(scenario_id="pulm-cpap-day7-adherence", requested_locale="de-DE")
    assert (selection.persona_id, selection.reason) == ("pulmonology_adherence_coach", "preferred-persona")


def test_a_named_persona_without_a_locale_is_preferred():
    selection = select_persona(persona_id="legal_intake_specialist")
    assert (selection.persona_id, selection.reason) == ("legal_intake_specialist", "preferred-persona")


def test_a_named_persona_is_never_swapped_for_another_domain_without_a_scenario():
    # es-MX exists in the catalog (insurance_policy_service_es) but the caller named the claims persona.
    selection = select_persona(persona_id="insurance_claims_intake", requested_locale="es-MX")
    assert (selection.persona_id, selection.reason) == ("insurance_claims_intake", "preferred-persona")
    assert selection.language.effective_language == "es-MX"


# --- rung 4: en-us-fallback -------------------------------------------------------------------


def test_en_us_fallback_without_scenario_persona_or_matching_locale():
    selection = select_persona(requested_locale="de-DE")
    assert selection.reason == "en-us-fallback"
    assert selection.persona_id == "insurance_claims_intake"  # the first en-US persona in catalog order
    assert selection.persona_locale == "en-US"


def test_en_us_fallback_with_no_input_at_all():
    assert select_persona().reason == "en-us-fallback"


# --- rung 5: untagged-fallback ----------------------------------------------------------------


def test_untagged_fallback_when_no_en_us_persona_exists():
    personas = catalog(persona("fr", "fr-CA"), persona("plain", None), persona("plain2", None))
    selection = select_persona(requested_locale="de-DE", personas=personas, scenarios={})
    assert (selection.persona_id, selection.reason) == ("plain", "untagged-fallback")
    assert selection.persona_locale is None
    assert "selectedPersonaLocale" not in selection.contract_fields()


def test_a_malformed_catalog_locale_counts_as_untagged():
    personas = catalog(persona("fr", "fr-CA"), persona("odd", "not a locale!"))
    assert select_persona(personas=personas, scenarios={}).reason == "untagged-fallback"


# --- rung 6: catalog-fallback -----------------------------------------------------------------


def test_catalog_fallback_takes_the_first_candidate():
    personas = catalog(persona("fr", "fr-CA"), persona("ur", "ur-PK"))
    selection = select_persona(requested_locale="de-DE", personas=personas, scenarios={})
    assert (selection.persona_id, selection.reason) == ("fr", "catalog-fallback")


def test_a_scenario_whose_personas_are_all_gone_falls_back_to_the_catalog():
    personas = catalog(persona("fr", "fr-CA"), persona("ur", "ur-PK"))
    scenarios = {"s": {"slug": "s", "allowedPersonaIds": ["retired"]}}
    selection = select_persona(scenario_id="s", requested_locale="de", personas=personas, scenarios=scenarios)
    assert (selection.persona_id, selection.reason) == ("fr", "catalog-fallback")


def test_every_reason_of_the_contract_is_reachable():
    assert set(REASONS) == set(credentials_schema()["properties"]["personaSelectionReason"]["enum"])


# --- the held session -------------------------------------------------------------------------


def test_a_held_session_resolves_its_stored_scenario_and_locale():
    selection = select_persona(session_scenario_id="healthcare-intake-es", session_locale="en-US")
    assert (selection.persona_id, selection.reason) == ("healthcare_patient_intake", "exact-locale")
    assert selection.scenario_id == "healthcare-intake-es"


def test_the_stored_scenario_wins_over_a_body_scenario():
    selection = select_persona(
        scenario_id="banking-lost-card", session_scenario_id="healthcare-intake-es", session_locale="es-MX"
    )
    assert (selection.persona_id, selection.scenario_id) == ("healthcare_patient_intake_es", "healthcare-intake-es")


def test_a_requested_locale_overrides_the_stored_one():
    selection = select_persona(
        requested_locale="es-MX", session_scenario_id="healthcare-intake", session_locale="en-US"
    )
    assert selection.persona_id == "healthcare_patient_intake_es"


def test_without_a_stored_scenario_the_body_scenario_applies():
    selection = select_persona(scenario_id="banking-lost-card", session_locale="en-US")
    assert (selection.persona_id, selection.scenario_id) == ("banking_card_services", "banking-lost-card")


# --- language policy --------------------------------------------------------------------------


def test_a_locked_policy_is_never_overridden_by_the_user_hint():
    selection = select_persona(scenario_id="pulm-cpap-day7-adherence", user_hint_language="es-MX")
    assert selection.persona_id == "pulmonology_adherence_coach"
    language = selection.language
    assert (language.effective_language, language.transcription_language_code) == ("en-US", "en")
    assert language.locked is True
    assert language.lock_reason and "English only" in language.lock_reason
    assert "locked" in language.instructions


def test_a_locked_policy_ignores_an_unsupported_requested_locale_too():
    selection = select_persona(persona_id="banking_member_support_in", requested_locale="hi-IN")
    assert selection.language.effective_language == "en-IN"
    assert selection.contract_fields()["lockReason"]


def test_an_unlocked_policy_follows_the_hint_within_its_supported_languages():
    selection = select_persona(persona_id="healthcare_patient_intake", user_hint_language="es")
    assert selection.language.effective_language == "es-MX"
    assert selection.language.locked is False
    assert "Spanish (Mexico)" in selection.language.instructions
    # The script is English: the model is told to say it in Spanish.
    assert "say them in Spanish (Mexico) (es-MX)" in selection.language.instructions


def test_an_unlocked_policy_keeps_its_primary_for_an_unsupported_language():
    selection = select_persona(persona_id="healthcare_patient_intake", user_hint_language="de-DE")
    assert selection.language.effective_language == "en-US"


def test_the_requested_locale_wins_over_the_hint():
    selection = select_persona(persona_id="sales_sdr", requested_locale="fr-CA", user_hint_language="es-MX")
    assert selection.language.effective_language == "fr-CA"


def test_without_a_policy_the_hint_or_en_is_spoken():
    personas = catalog(persona("plain", None))
    assert select_persona(personas=personas, scenarios={}).language.effective_language == "en"
    hinted = select_persona(user_hint_language="pt-BR", personas=personas, scenarios={})
    assert (hinted.language.effective_language, hinted.language.transcription_language_code) == ("pt-BR", "pt")


# --- bad input --------------------------------------------------------------------------------


def test_an_unknown_persona_is_not_found():
    with pytest.raises(NotFound):
        select_persona(persona_id="nobody")


def test_an_unknown_scenario_is_a_bad_request():
    with pytest.raises(BadRequest) as caught:
        select_persona(scenario_id="no-such-scenario")
    assert caught.value.code == "unknown_scenario"


def test_a_persona_outside_the_scenario_is_a_bad_request():
    with pytest.raises(BadRequest) as caught:
        select_persona(persona_id="sales_sdr", scenario_id="healthcare-intake")
    assert caught.value.code == "persona_not_in_scenario"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("requestedLocale", {"requested_locale": "not a locale"}),
        ("userHintLanguage", {"user_hint_language": "e"}),
        ("locale", {"session_locale": "x" * 40}),
    ],
)
def test_a_malformed_locale_is_a_bad_request_naming_the_field(field, kwargs):
    with pytest.raises(BadRequest) as caught:
        select_persona(**kwargs)
    assert field in caught.value.message


def test_locales_are_canonicalised():
    assert normalize_locale("es_mx", "f") == "es-MX"
    assert normalize_locale("ZH-hant-tw", "f") == "zh-Hant-TW"
    assert normalize_locale("  ", "f") is None
    assert normalize_locale(None, "f") is None


def test_selection_is_deterministic():
    first = select_persona(scenario_id="healthcare-intake", requested_locale="es-ES", user_hint_language="en")
    assert all(
        select_persona(scenario_id="healthcare-intake", requested_locale="es-ES", user_hint_language="en") == first
        for _ in range(5)
    )


def test_the_selection_fields_fit_the_credentials_schema():
    selection = select_persona(scenario_id="banking-card-dispute-in", requested_locale="en-IN")
    answer = {"token": "ek_x", "expiresAt": "2026-01-01T00:00:00.000Z", "webrtcUrl": None}
    assert_valid({**answer, **selection.contract_fields()}, credentials_schema())
