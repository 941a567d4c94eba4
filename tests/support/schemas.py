"""Contract schemas the session and booking domain objects must satisfy, cut out of shared/openapi.json."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from tests.support.contract import load_contract


def _json_body(operation: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def _operation(path: str, method: str) -> dict[str, Any]:
    return load_contract()["paths"][path][method]


def results_schema() -> dict[str, Any]:
    return _json_body(_operation("/api/sessions/{id}/results", "get"))["properties"]["results"]


def lead_score_schema() -> dict[str, Any]:
    return results_schema()["properties"]["leadScore"]


def roi_breakdown_schema() -> dict[str, Any]:
    return results_schema()["properties"]["roiBreakdown"]


def systems_updated_schema() -> dict[str, Any]:
    return results_schema()["properties"]["systemsUpdated"]


def cost_schema() -> dict[str, Any]:
    return _json_body(_operation("/api/sessions/{id}/cost", "get"))


def lifecycle_session_schema() -> dict[str, Any]:
    return _json_body(_operation("/api/sessions/{id}/booking-lifecycle", "patch"))["properties"]["session"]


def booking_outcome_schema() -> dict[str, Any]:
    return lifecycle_session_schema()["properties"]["bookingOutcome"]


def lifecycle_actions() -> list[str]:
    body = _operation("/api/sessions/{id}/booking-lifecycle", "patch")["requestBody"]
    return body["content"]["application/json"]["schema"]["properties"]["action"]["enum"]


def outcome_object_schema() -> dict[str, Any]:
    """The non-null branch of bookingOutcome."""
    return next(branch for branch in booking_outcome_schema()["anyOf"] if branch.get("type") == "object")


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = globals()[name]()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_valid(schema_name: str, instance: Any) -> None:
    """Fail with every contract violation of `instance` against the named schema."""
    errors = sorted(_validator(schema_name).iter_errors(instance), key=lambda error: list(error.absolute_path))
    assert not errors, [f"{list(error.absolute_path)}: {error.message}" for error in errors]
