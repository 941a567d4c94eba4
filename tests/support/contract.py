"""Validates every response against the contract: operation, status, content type, JSON Schema."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "shared" / "openapi.json"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Statuses the adapter or the host may answer on any operation; their body is the error envelope.
# The contract documents error statuses unevenly, so these follow from the operation's shape:
# see "Implicit error statuses" in docs/ARCHITECTURE.md.
FRAMEWORK_ERROR_STATUSES = {405, 413, 503}

ERROR_ENVELOPE_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error"],
    "additionalProperties": False,
}


class ContractViolation(AssertionError):
    """A response the contract does not allow."""


@dataclass(frozen=True)
class ContractOperation:
    """One operation of the contract, with a matcher for concrete paths."""

    method: str
    template: str
    operation_id: str
    spec: dict
    pattern: re.Pattern[str]
    literal_segments: int


def implicit_error_statuses(operation: ContractOperation) -> set[int]:
    """Error statuses an operation may answer although its entry does not list them."""
    statuses = set(FRAMEWORK_ERROR_STATUSES)
    if operation.spec.get("security") or "401" in operation.spec.get("responses", {}) or _takes_a_caller(operation):
        statuses |= {401, 403}
    if operation.method in ("POST", "PUT", "PATCH") or operation.spec.get("parameters"):
        statuses.add(400)
    if operation.method in ("POST", "PUT", "PATCH"):
        statuses.add(415)
    if "{" in operation.template:
        statuses.add(404)
    if _rate_limited(operation):
        statuses.add(429)
    if _declares_conflicts(operation):
        statuses.add(409)
    return statuses


def _declares_conflicts(operation: ContractOperation) -> bool:
    """Whether the code declares optimistic-concurrency conflicts (409) for this operation."""
    from shared.platform.http.adapter import OPERATION_CONFLICTS
    from shared.platform.http.contract import snake_case

    return snake_case(operation.operation_id) in OPERATION_CONFLICTS


def _rate_limited(operation: ContractOperation) -> bool:
    """Whether the code rate-limits this operation (getPublicSLOs is, though its contract lists no 429)."""
    from shared.platform.http.adapter import OPERATION_RATE_LIMITS
    from shared.platform.http.contract import snake_case

    return snake_case(operation.operation_id) in OPERATION_RATE_LIMITS


def _takes_a_caller(operation: ContractOperation) -> bool:
    """Whether the code authenticates callers of this operation (an optional bearer counts)."""
    from shared.platform.http.adapter import OPERATION_AUTH
    from shared.platform.http.contract import snake_case

    mode = OPERATION_AUTH.get(snake_case(operation.operation_id))
    return mode is not None and mode.name != "public"


@cache
def load_contract() -> dict:
    """The contract document."""
    return json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))


@cache
def contract_operations() -> tuple[ContractOperation, ...]:
    """Every operation of the contract, most specific templates first."""
    operations = []
    for template, item in load_contract()["paths"].items():
        for method, spec in item.items():
            if method not in HTTP_METHODS:
                continue
            segments = [segment for segment in template.strip("/").split("/") if segment]
            regex = "".join("/[^/]+" if segment.startswith("{") else "/" + re.escape(segment) for segment in segments)
            operations.append(
                ContractOperation(
                    method=method.upper(),
                    template=template,
                    operation_id=spec["operationId"],
                    spec=spec,
                    pattern=re.compile(f"^{regex or '/'}$"),
                    literal_segments=sum(not segment.startswith("{") for segment in segments),
                )
            )
    return tuple(sorted(operations, key=lambda op: -op.literal_segments))


def find_operation(method: str, path: str) -> ContractOperation | None:
    """The contract operation a concrete request addresses (literal segments win)."""
    path = "/" + path.strip("/") if path not in ("", "/") else "/"
    for operation in contract_operations():
        if operation.method == method.upper() and operation.pattern.match(path):
            return operation
    return None


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def validate_schema(schema: dict, instance: Any, where: str) -> None:
    """Raise ContractViolation listing every JSON Schema error of `instance`."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(error.path))
    if errors:
        details = "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message[:300]}" for e in errors[:8])
        raise ContractViolation(f"{where}: {details}")


def validate_response(
    method: str, path: str, status: int, content_type: str | None, body: bytes, *, conditional: bool = False
) -> ContractOperation | None:
    """Check one response against the contract; returns the operation it belongs to."""
    operation = find_operation(method, path)
    if operation is None:
        if status in (404, 405):
            _validate_json(ERROR_ENVELOPE_SCHEMA, body, f"{method} {path} (no such operation) {status}")
            return None
        raise ContractViolation(f"{method} {path} answered {status} but the contract has no such operation")
    where = f"{operation.operation_id} ({method} {operation.template}) -> {status}"
    responses = operation.spec.get("responses", {})
    documented = responses.get(str(status))
    if documented is None:
        if status == 304 and conditional:
            if body:
                raise ContractViolation(f"{where}: a 304 must not carry a body")
            return operation
        if status in implicit_error_statuses(operation):
            _validate_json(ERROR_ENVELOPE_SCHEMA, body, where)
            return operation
        raise ContractViolation(f"{where}: status not documented (documented: {sorted(responses)})")
    content = documented.get("content")
    if not content:
        return operation
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in content:
        raise ContractViolation(f"{where}: content type {media_type!r} not documented ({sorted(content)})")
    schema = content[media_type].get("schema")
    if schema is None:
        return operation
    if media_type == "application/json":
        _validate_json(schema, body, where)
    elif schema.get("type") == "string" and schema.get("format") != "binary":
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ContractViolation(f"{where}: {media_type} body is not text") from exc
    return operation


def _validate_json(schema: dict, body: bytes, where: str) -> None:
    try:
        instance = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractViolation(f"{where}: body is not JSON: {body[:200]!r}") from exc
    validate_schema(schema, instance, where)
