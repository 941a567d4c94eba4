"""Contract schemas of the evidence operations, cut out of shared/openapi.json."""

from __future__ import annotations

from typing import Any

from tests.support.contract import load_contract, validate_schema


def _operation(path: str, method: str) -> dict[str, Any]:
    return load_contract()["paths"][path][method]


def pack_schema() -> dict[str, Any]:
    """The 200 body of GET /api/sessions/{id}/evidence-packs."""
    operation = _operation("/api/sessions/{id}/evidence-packs", "get")
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


def verify_response_schema() -> dict[str, Any]:
    """The 200 body of POST /api/sessions/{id}/evidence-packs/verify."""
    operation = _operation("/api/sessions/{id}/evidence-packs/verify", "post")
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


def verify_request_schema() -> dict[str, Any]:
    """The request body of POST /api/sessions/{id}/evidence-packs/verify."""
    operation = _operation("/api/sessions/{id}/evidence-packs/verify", "post")
    return operation["requestBody"]["content"]["application/json"]["schema"]


def assert_pack_valid(pack: Any) -> None:
    """Fail with every contract violation of a pack."""
    validate_schema(pack_schema(), pack, "evidence pack")


def assert_verify_response_valid(result: Any) -> None:
    """Fail with every contract violation of a verify answer."""
    validate_schema(verify_response_schema(), result, "verify response")
