"""GET /api/personas/{id}/runtime: deterministic composition of every layer."""

from __future__ import annotations

import uuid

import pytest

from shared.catalog import content
from shared.onboarding.repository import OnboardingProfileRepository
from tests.support.identity import new_tenant_id


def runtime(client, persona_id: str, headers=None, **params):
    response = client.get(f"/api/personas/{persona_id}/runtime", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def default_persona(slug: str) -> dict:
    return content.personas()[content.scenarios()[slug]["allowedPersonaIds"][0]]


def test_every_persona_composes(client):
    for persona_id in content.personas():
        body = runtime(client, persona_id)
        assert body["instructions"] and body["tools"]
        assert body["contextEnvelope"]["schemaVersion"] == "v2"
        assert len(body["contextEnvelope"]["layers"]["policyFingerprint"]) == 64


def test_unknown_persona_is_404_and_unknown_scenario_400(client):
    assert client.get("/api/personas/nobody/runtime").status_code == 404
    persona_id = next(iter(content.personas()))
    assert client.get(f"/api/personas/{persona_id}/runtime", params={"scenarioId": "nope"}).status_code == 400
    assert client.get(f"/api/personas/{persona_id}/runtime", params={"tone": "angry"}).status_code == 400


def test_the_cpap_scenario_carries_its_brand_and_none_of_the_personas(client):
    scenario = content.scenarios()["pulm-cpap-day7-adherence"]
    persona = default_persona("pulm-cpap-day7-adherence")
    base_brand = persona["runtime"]["brandLiteral"]
    practice_brand = scenario["parameterization"]["practiceBrand"]
    body = runtime(client, persona["id"], scenarioId=scenario["slug"])
    text = body["instructions"] + body["greetingInstruction"]
    assert practice_brand in text
    assert base_brand not in str(body)
    assert body["brandLiteral"] == practice_brand
    assert scenario["parameterization"]["specialty"] in body["instructions"]
    plain = runtime(client, persona["id"])
    assert base_brand in plain["instructions"]


def test_the_same_session_always_gets_the_same_variant(client):
    persona_id = next(iter(content.personas()))
    session_id = uuid.uuid4().hex
    first = runtime(client, persona_id, sessionId=session_id)["promptProfileExperiment"]
    second = runtime(client, persona_id, sessionId=session_id)["promptProfileExperiment"]
    assert (first["variantId"], first["assignmentHash"]) == (second["variantId"], second["assignmentHash"])
    variants = {
        runtime(client, persona_id, sessionId=f"s-{i}")["promptProfileExperiment"]["variantId"] for i in range(12)
    }
    assert len(variants) == 2
    assert "promptProfileExperiment" not in runtime(client, persona_id)


def test_tone_changes_instructions_temperature_and_fingerprint(client):
    persona_id = next(iter(content.personas()))
    plain = runtime(client, persona_id)
    warm = runtime(client, persona_id, tone="warm")
    professional = runtime(client, persona_id, tone="professional")
    assert "Tone: warm" in warm["instructions"]
    assert warm["temperature"] > professional["temperature"]
    assert 0.6 <= professional["temperature"] <= 1.2
    fingerprints = {r["contextEnvelope"]["layers"]["policyFingerprint"] for r in (plain, warm, professional)}
    assert len(fingerprints) == 3
    assert (
        runtime(client, persona_id)["contextEnvelope"]["layers"]["policyFingerprint"]
        == (plain["contextEnvelope"]["layers"]["policyFingerprint"])
    )


def test_the_runtime_is_deterministic_apart_from_the_assignment_time(client):
    persona_id = next(iter(content.personas()))
    first = runtime(client, persona_id, tone="friendly", scenarioId="healthcare-intake", sessionId="abc")
    second = runtime(client, persona_id, tone="friendly", scenarioId="healthcare-intake", sessionId="abc")
    first["promptProfileExperiment"].pop("assignedAt")
    second["promptProfileExperiment"].pop("assignedAt")
    assert first == second


@pytest.fixture
def profile(emulators) -> tuple[str, str]:
    tenant = new_tenant_id("onb")
    profile_id = uuid.uuid4().hex
    OnboardingProfileRepository().create(
        {
            "id": profile_id,
            "tenantId": tenant,
            "companyName": "Lakeside Family Dental",
            "businessDescription": "A two-chair family dental practice.",
            "primaryUseCase": "healthcare",
            "personaId": next(iter(content.personas())),
            "greeting": "Thanks for calling Lakeside Family Dental!",
            "intakeFields": ["name", "dateOfBirth"],
            "faqs": [{"question": "Do you take Delta Dental?", "answer": "Yes, we are in network."}],
        }
    )
    return tenant, profile_id


def test_a_fast_start_profile_needs_an_admin_bearer(client, profile):
    _, profile_id = profile
    persona_id = next(iter(content.personas()))
    response = client.get(f"/api/personas/{persona_id}/runtime", params={"onboardingProfileId": profile_id})
    assert response.status_code == 401


def test_a_fast_start_profile_adds_customer_context(client, tokens, profile):
    tenant, profile_id = profile
    persona_id = next(iter(content.personas()))
    body = runtime(client, persona_id, headers=tokens.headers(tenant, "admin"), onboardingProfileId=profile_id)
    assert "Lakeside Family Dental" in body["instructions"]
    assert "Delta Dental" in body["contextEnvelope"]["layers"]["tenantRuntimeHints"]
    assert "Thanks for calling Lakeside Family Dental!" in body["greetingInstruction"]


def test_another_tenants_profile_does_not_exist_for_you(client, tokens, profile):
    _, profile_id = profile
    persona_id = next(iter(content.personas()))
    response = client.get(
        f"/api/personas/{persona_id}/runtime",
        params={"onboardingProfileId": profile_id},
        headers=tokens.headers(new_tenant_id("other"), "owner"),
    )
    assert response.status_code == 404
