"""The contract validator itself must catch what the contract forbids."""

from __future__ import annotations

import json

import pytest

from tests.support.contract import ContractViolation, validate_response


def as_json(value) -> bytes:
    return json.dumps(value).encode()


def test_a_conforming_response_passes():
    operation = validate_response(
        "GET", "/healthz", 200, "application/json", as_json({"ok": True, "timestamp": "2026-01-01T00:00:00Z"})
    )
    assert operation.operation_id == "getRootLiveness"


@pytest.mark.parametrize(
    ("status", "content_type", "body", "fragment"),
    [
        (200, "application/json", {"ok": True}, "timestamp"),
        (200, "application/json", {"ok": True, "timestamp": "t", "extra": 1}, "Additional properties"),
        (200, "text/plain", {"ok": True, "timestamp": "t"}, "content type"),
        (418, "application/json", {"error": "teapot"}, "not documented"),
    ],
)
def test_violations_are_reported(status, content_type, body, fragment):
    with pytest.raises(ContractViolation, match=fragment):
        validate_response("GET", "/healthz", status, content_type, as_json(body))


def test_a_path_outside_the_contract_may_only_be_a_404_envelope():
    validate_response("GET", "/nope", 404, "application/json", as_json({"error": "not_found", "message": "x"}))
    with pytest.raises(ContractViolation, match="no such operation"):
        validate_response("GET", "/nope", 200, "application/json", as_json({}))


def test_framework_statuses_must_use_the_error_envelope():
    validate_response("POST", "/api/leads", 413, "application/json", as_json({"error": "payload_too_large"}))
    with pytest.raises(ContractViolation):
        validate_response("POST", "/api/leads", 413, "application/json", as_json({"detail": "too big"}))


def test_304_is_allowed_only_for_conditional_requests_and_without_body():
    validate_response("GET", "/api/openapi.json", 304, None, b"", conditional=True)
    with pytest.raises(ContractViolation):
        validate_response("GET", "/api/openapi.json", 304, None, b"", conditional=False)
