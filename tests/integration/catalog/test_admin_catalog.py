"""The admin catalog: every scenario to any control-plane member; vertical packs."""

from __future__ import annotations

from shared.catalog import content


def test_hidden_and_exception_scenarios_are_visible_to_operators(client, tokens):
    headers = tokens.headers("cat-admin", "viewer")
    hidden = [s["slug"] for s in content.scenarios().values() if s.get("visibility") in ("exception", "hidden-lab")]
    for slug in hidden:
        response = client.get(f"/api/cp/scenarios/{slug}", headers=headers)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, max-age=300"
    assert client.get("/api/cp/scenarios/nope", headers=headers).status_code == 404


def test_the_admin_list_filters_by_any_visibility(client, tokens):
    headers = tokens.headers("cat-admin", "viewer")
    for visibility in ("core", "proof", "exception", "hidden-lab"):
        items = client.get("/api/cp/scenarios", params={"visibility": visibility}, headers=headers).json()["items"]
        assert all(item["visibility"] == visibility for item in items)
    total = client.get("/api/cp/scenarios", headers=headers).json()["count"]
    assert total == len(content.scenarios())
    assert client.get("/api/cp/scenarios", params={"visibility": "secret"}, headers=headers).status_code == 400


def test_vertical_packs(client, tokens):
    packs = client.get("/api/cp/verticals/packs", headers=tokens.headers("cat-admin", "viewer")).json()["packs"]
    assert {pack["verticalPack"] for pack in packs} == {
        "accounting",
        "healthcare",
        "legal",
        "insurance",
        "service",
        "platform",
    }
