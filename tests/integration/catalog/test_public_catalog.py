"""The public catalog over HTTP: voices, personas, scenarios, verticals, persona tools."""

from __future__ import annotations

from collections import Counter

import pytest

from shared.catalog import content

INDUSTRIES = ("insurance", "sales", "healthcare", "legal", "accounting", "banking", "dental", "veterinary")


def test_voices_include_realtime_and_neural_voices(client):
    body = client.get("/api/voices").json()
    providers = Counter(voice["provider"] for voice in body["items"])
    assert body["count"] == len(body["items"])
    assert providers["openai"] >= 10 and providers["azure"] >= 1
    assert {"alloy", "ash", "ballad", "cedar", "coral", "echo", "marin", "sage", "shimmer", "verse"} <= {
        voice["id"] for voice in body["items"]
    }


def test_personas_cover_locales_and_hide_their_runtime(client):
    body = client.get("/api/personas").json()
    assert body["count"] >= 12
    assert all("runtime" not in persona for persona in body["items"])
    locales = {persona.get("locale") for persona in body["items"]}
    assert {"en-US", "es-MX", "en-IN"} <= locales
    assert len(locales - {"en-US", "es-MX", "en-IN", None}) >= 1


def test_every_industry_has_at_least_two_scenarios_in_the_admin_catalog(client, tokens):
    items = client.get("/api/cp/scenarios", headers=tokens.headers("catalog-reader", "viewer")).json()["items"]
    counts = Counter(item["industry"] for item in items)
    assert all(counts[industry] >= 2 for industry in INDUSTRIES), counts
    assert {"insurance-fnol", "healthcare-intake", "pulm-cpap-day7-adherence"} <= {item["slug"] for item in items}


def test_the_public_catalog_shows_only_core_and_proof(client):
    items = client.get("/api/scenarios").json()["items"]
    assert items
    assert {item.get("visibility", "core") for item in items} <= {"core", "proof"}
    hidden = [s for s in content.scenarios().values() if s.get("visibility") in ("exception", "hidden-lab")]
    assert hidden, "the catalog should carry exception and hidden-lab scenarios"
    for scenario in hidden:
        assert client.get(f"/api/scenarios/{scenario['slug']}").status_code == 404


@pytest.mark.parametrize("visibility", ["exception", "hidden-lab", "secret"])
def test_a_non_public_visibility_filter_is_400(client, visibility):
    assert client.get("/api/scenarios", params={"visibility": visibility}).status_code == 400


def test_filters_by_industry_and_visibility(client):
    dental = client.get("/api/scenarios", params={"industry": "dental"}).json()
    assert dental["count"] >= 1 and {item["industry"] for item in dental["items"]} == {"dental"}
    proof = client.get("/api/scenarios", params={"visibility": "proof"}).json()["items"]
    assert all(item["visibility"] == "proof" for item in proof)
    assert client.get("/api/scenarios", params={"industry": "mining"}).status_code == 400


def test_scenario_by_slug(client):
    body = client.get("/api/scenarios/insurance-fnol").json()
    assert body["slug"] == "insurance-fnol"
    assert len(body["tools"]) >= 3 and len(body["uiPanels"]) >= 2 and len(body["scriptedBeats"]) >= 4
    assert client.get("/api/scenarios/no-such-scenario").status_code == 404


def test_catalog_gets_are_cacheable_and_answer_304(client):
    for path in (
        "/api/voices",
        "/api/personas",
        "/api/scenarios",
        "/api/scenarios/healthcare-intake",
        "/api/verticals/legal/workflows",
        "/api/tools?personaId=" + next(iter(content.personas())),
    ):
        first = client.get(path)
        assert first.headers["cache-control"] == "public, max-age=300", path
        again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304, path
        changed = client.get(path, headers={"If-None-Match": '"stale"'})
        assert changed.status_code == 200, path


@pytest.mark.parametrize("vertical", ["accounting", "healthcare", "legal"])
def test_vertical_workflows(client, vertical):
    body = client.get(f"/api/verticals/{vertical}/workflows").json()
    assert body["verticalPack"] == vertical
    assert body["workflows"] and all(w["verticalPack"] == vertical for w in body["workflows"])


def test_persona_tools_in_the_realtime_format(client):
    persona_id, persona = next(iter(content.personas().items()))
    body = client.get("/api/tools", params={"personaId": persona_id}).json()
    assert [tool["name"] for tool in body["tools"]] == persona["runtime"]["tools"]
    assert all(tool["type"] == "function" and tool["parameters"]["type"] == "object" for tool in body["tools"])


@pytest.mark.parametrize("params", [{}, {"personaId": ""}, {"personaId": "nobody"}])
def test_persona_tools_need_a_known_persona(client, params):
    assert client.get("/api/tools", params=params).status_code == 400
