"""Contract schemas of the pilot and quality objects, cut out of shared/openapi.json."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.support.contract import load_contract


def response_schema(path: str, method: str, status: str = "200") -> dict[str, Any]:
    """The JSON body schema of one response of one operation."""
    return load_contract()["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


def request_schema(path: str, method: str) -> dict[str, Any]:
    """The JSON request body schema of one operation."""
    return load_contract()["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def snapshot_schema() -> dict[str, Any]:
    return response_schema("/api/cp/pilots/{pilotId}/snapshot/recompute", "post")


def scorecard_schema() -> dict[str, Any]:
    return response_schema("/api/cp/quality/session/{sessionId}", "get")["properties"]["scorecard"]


def funnel_schema() -> dict[str, Any]:
    return response_schema("/api/cp/quality/funnel", "get")


def assert_valid(schema: dict[str, Any], instance: Any) -> None:
    """Fail with every violation of `instance` against `schema`."""
    Draft202012Validator.check_schema(schema)
    errors = sorted(Draft202012Validator(schema).iter_errors(instance), key=lambda error: list(error.absolute_path))
    assert not errors, [f"{list(error.absolute_path)}: {error.message}" for error in errors]
