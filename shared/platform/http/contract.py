"""The contract's request rules, applied to every JSON body before a handler sees it.

The request schemas of `shared/openapi.json` are the truth about types: a string where the contract
says number, a null where it says string, a missing required body or property are refused with a
400 naming the field, never echoing the value. Handlers' pydantic models then add the domain's own
bounds. The contract and jsonschema are loaded on the first request that needs them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from shared.platform.errors import ValidationFailed

CONTRACT_PATH = Path(__file__).resolve().parents[2] / "openapi.json"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
MAX_REPORTED_PROBLEMS = 10


@dataclass(frozen=True, slots=True)
class RequestRules:
    """What an operation's contract says about its request body."""

    operation_id: str
    body_required: bool
    media_types: tuple[str, ...]
    schema: dict[str, Any] | None


def snake_case(operation_id: str) -> str:
    """`getApiRoot` → `get_api_root`: the Python name of an operation's function."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


@cache
def load_contract() -> dict[str, Any]:
    """The contract document (parsed once per process)."""
    return json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))


@cache
def _rules_by_function() -> dict[str, RequestRules]:
    rules = {}
    for item in load_contract()["paths"].values():
        for method, spec in item.items():
            if method not in HTTP_METHODS:
                continue
            body = spec.get("requestBody") or {}
            content = body.get("content") or {}
            json_schema = (content.get("application/json") or {}).get("schema")
            rules[snake_case(spec["operationId"])] = RequestRules(
                operation_id=spec["operationId"],
                body_required=bool(body.get("required")),
                media_types=tuple(content),
                schema=json_schema,
            )
    return rules


def rules_for(function_name: str) -> RequestRules | None:
    """The request rules of the operation a function implements; None for functions outside the contract."""
    return _rules_by_function().get(function_name)


@cache
def _validator(function_name: str) -> Any:
    from jsonschema import Draft202012Validator

    rules = rules_for(function_name)
    return Draft202012Validator(rules.schema) if rules and rules.schema else None


def check_body(function_name: str, value: Any) -> None:
    """Refuse a body the contract's request schema does not allow (400 naming each field)."""
    validator = _validator(function_name)
    if validator is None:
        return
    errors = sorted(validator.iter_errors(value), key=lambda error: list(error.absolute_path))
    if errors:
        problems = [_describe(error) for error in errors[:MAX_REPORTED_PROBLEMS]]
        raise ValidationFailed("; ".join(dict.fromkeys(problems)))


def _describe(error: Any) -> str:
    """One problem in words, naming the field and the rule but never the rejected value."""
    location = ".".join(["body", *(str(part) for part in error.absolute_path)])
    rule, expected = error.validator, error.validator_value
    if rule == "required":
        missing = [name for name in expected if isinstance(error.instance, dict) and name not in error.instance]
        return f"{location}.{missing[0] if missing else '?'}: is required"
    if rule == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"{location}: must be {' or '.join(kinds)}"
    if rule == "enum":
        return f"{location}: must be one of {', '.join(map(str, expected))[:200]}"
    if rule == "const":
        return f"{location}: must be {json.dumps(expected)[:80]}"
    if rule == "additionalProperties":
        return f"{location}: has a property the contract does not define"
    if rule in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
        return f"{location}: {rule} is {expected}"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        return f"{location}: {rule} is {expected}"
    if rule == "pattern":
        return f"{location}: does not have the expected format"
    if rule in ("anyOf", "oneOf"):
        return f"{location}: matches none of the allowed shapes"
    return f"{location}: breaks the {rule} rule"
