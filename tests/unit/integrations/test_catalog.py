"""The provider catalog is exactly the contract's provider objects, and internally consistent."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from shared.integrations import catalog
from shared.platform.errors import NotFound
from tests.conftest import ROOT


@cache
def contract_schema(path: str) -> dict[str, Any]:
    document = json.loads((ROOT / "shared" / "openapi.json").read_text(encoding="utf-8"))
    return document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]


def test_every_provider_is_a_contract_provider_object():
    item_schema = contract_schema("/api/cp/integrations")["properties"]["providers"]["items"]
    validator = Draft202012Validator(item_schema)
    for provider in catalog.public_providers():
        errors = [e.message for e in validator.iter_errors(provider)]
        assert errors == [], provider["id"]


def test_the_whole_response_shape_validates_with_a_release_safety_report():
    from datetime import UTC, datetime

    from shared.integrations.safety import release_safety
    from shared.platform.settings import Settings

    body = {
        "success": True,
        "providers": list(catalog.public_providers()),
        "releaseSafety": release_safety(
            settings=Settings(), tenant_id="tenant-a", connectors={}, now=datetime(2026, 12, 2, tzinfo=UTC)
        ),
    }
    errors = [e.message for e in Draft202012Validator(contract_schema("/api/cp/integrations")).iter_errors(body)]
    assert errors == []


def test_the_contracts_demo_provider_is_there():
    mock = catalog.provider("salesforce_mock")
    assert mock.tier == "demo"
    assert mock.client == "demo"
    assert {a.id for a in mock.actions} == {"upsert_contact", "create_lead", "log_activity"}


def test_every_connector_kind_has_a_real_provider():
    for kind in catalog.CONNECTOR_KINDS:
        assert any(p.tier != "demo" for p in catalog.providers_for_kind(kind)), kind


def test_every_input_schema_is_a_valid_json_schema():
    for provider in catalog.providers().values():
        for action in provider.actions:
            Draft202012Validator.check_schema(action.input_schema)
            assert action.input_schema["type"] == "object"
            assert action.input_schema["additionalProperties"] is False


def test_credential_fields_are_secret_and_secrets_have_no_default():
    for provider in catalog.providers().values():
        for field in provider.fields:
            credential = ("token", "secret", "password", "privatekey", "accesskey", "apikey")
            if field.type != "url" and any(word in field.key.lower() for word in credential):
                assert field.secret, f"{provider.id}.{field.key}"
            if field.secret:
                assert field.default is None


def test_providers_of_one_kind_share_their_action_inputs():
    # A connector can switch between a demo and a real provider without changing what callers send.
    for kind in catalog.CONNECTOR_KINDS:
        by_action: dict[str, list[dict]] = {}
        for provider in catalog.providers_for_kind(kind):
            for action in provider.actions:
                by_action.setdefault(action.id, []).append(action.input_schema)
        for action_id, schemas in by_action.items():
            assert all(schema == schemas[0] for schema in schemas), f"{kind}.{action_id}"


def test_the_public_view_keeps_field_rules_server_side():
    fields = catalog.provider("fhir_r4").public()["auth"]["fields"]
    assert {"key", "label", "secret", "description"} == set().union(*fields)
    assert next(f for f in fields if f["key"] == "privateKey")["secret"] is True


def test_registry_counts():
    counts = catalog.registry_counts()
    assert counts["totalProviders"] == len(catalog.providers())
    assert counts["demoProviders"] + counts["realProviders"] + counts["dualModeProviders"] == counts["totalProviders"]
    assert counts["demoProviders"] >= 1


def test_unknown_provider_and_action_are_not_found():
    with pytest.raises(NotFound) as error:
        catalog.provider("nope")
    assert error.value.code == "provider_not_found"
    with pytest.raises(NotFound) as error:
        catalog.provider("fhir_r4").action("delete_everything")
    assert error.value.code == "action_not_found"


def test_a_malformed_catalog_entry_is_refused_at_load():
    raw = json.loads(catalog.DATA_FILE.read_text(encoding="utf-8"))
    entry = raw["providers"][0]
    with pytest.raises(ValueError, match="tier"):
        catalog._provider({**entry, "tier": "beta"}, raw["schemas"])
    with pytest.raises(ValueError, match="unknown schema"):
        catalog._provider({**entry, "actions": [{**entry["actions"][0], "schema": "nope"}]}, raw["schemas"])
    broken_field = {**entry["auth"]["fields"][0], "type": "colour"}
    with pytest.raises(ValueError, match="unknown type"):
        catalog._provider({**entry, "auth": {**entry["auth"], "fields": [broken_field]}}, raw["schemas"])
    with pytest.raises(ValueError, match="demo client"):
        catalog._provider({**entry, "client": "demo"}, raw["schemas"])
