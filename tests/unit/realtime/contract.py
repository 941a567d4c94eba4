"""Contract schemas of the realtime operations, cut out of shared/openapi.json."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.support.contract import load_contract


def credentials_schema() -> dict[str, Any]:
    """The 200 answer of POST /api/realtime/credentials."""
    operation = load_contract()["paths"]["/api/realtime/credentials"]["post"]
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


def runtime_session_schema() -> dict[str, Any]:
    """The `session` object of GET /api/realtime/sessions/{sessionId}."""
    operation = load_contract()["paths"]["/api/realtime/sessions/{sessionId}"]["get"]
    return operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["session"]


def assert_valid(instance: Any, schema: dict[str, Any]) -> None:
    """Fail with every schema violation listed."""
    errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=lambda error: list(error.path))
    assert not errors, [f"{list(error.path)}: {error.message}" for error in errors]
