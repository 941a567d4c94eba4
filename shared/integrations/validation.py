"""Validation of a provider's config against its catalog fields, and of action params against their JSON Schema.

Problems are plain sentences that name the field ("baseUrl: must be an https URL"), never echo a
value (a secret may have been typed into the wrong field), and are all reported at once.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from shared.integrations.catalog import Action, ConfigField, Provider
from shared.platform.errors import ServiceError, ValidationFailed

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_PARAM_PROBLEMS = 20
MIN_RSA_BITS = 2048


def _present(value: Any) -> bool:
    # A form sends untouched inputs as "": treat that as not given.
    return value is not None and value != ""


def _url_problem(field: ConfigField, value: str, *, check_urls: bool) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{field.key}: must be an absolute https URL"
    if parts.username or parts.password:
        return f"{field.key}: must not embed credentials (use the secret fields)"
    if parts.fragment:
        return f"{field.key}: must not have a fragment"
    if check_urls:
        from shared.platform.outbound import check_destination

        try:
            check_destination(value)
        except ServiceError as exc:
            return f"{field.key}: {exc.message[:1].lower()}{exc.message[1:]}"
    return None


def _rsa_problem(field: ConfigField, value: str) -> str | None:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(value.encode(), password=None)
    except (ValueError, TypeError):
        return f"{field.key}: must be an unencrypted PEM private key"
    if not isinstance(key, RSAPrivateKey):
        return f"{field.key}: must be an RSA private key"
    if key.key_size < MIN_RSA_BITS:
        return f"{field.key}: must be at least {MIN_RSA_BITS} bits"
    return None


def _value_problem(field: ConfigField, value: Any, *, check_urls: bool) -> str | None:
    if not isinstance(value, str):
        return f"{field.key}: must be a string"
    if len(value) < field.min_length:
        return f"{field.key}: must be at least {field.min_length} characters"
    if len(value) > field.max_length:
        return f"{field.key}: must be at most {field.max_length} characters"
    if field.type == "enum" and value not in field.enum:
        return f"{field.key}: must be one of {', '.join(field.enum)}"
    if field.pattern and not re.fullmatch(field.pattern, value):
        return f"{field.key}: has the wrong format"
    if field.type == "phone" and not E164.fullmatch(value):
        return f"{field.key}: must be an E.164 phone number (+15551234567)"
    if field.type == "base64":
        try:
            if not base64.b64decode(value, validate=True):
                raise ValueError
        except (binascii.Error, ValueError):
            return f"{field.key}: must be base64"
    if field.type == "url":
        return _url_problem(field, value, check_urls=check_urls)
    if field.type == "rsa_private_key":
        return _rsa_problem(field, value)
    return None


def config_problems(provider: Provider, config: Any, *, check_urls: bool = True) -> list[str]:
    """Every problem of `config` for `provider`: unknown, missing, wrong type or format, unsafe URL."""
    if not isinstance(config, Mapping):
        return ["config: must be an object"]
    problems: list[str] = []
    known = {f.key for f in provider.fields}
    for key in config:
        if key not in known:
            problems.append(f"{key}: unknown field for provider {provider.id}")
    given = {k: v for k, v in config.items() if k in known and _present(v)}
    for f in provider.fields:
        value = given.get(f.key)
        applies = f.applies(given)
        if value is None:
            if f.required or (f.required_when and applies):
                condition = " and ".join(f"{name} is {v}" for name, v in f.required_when)
                problems.append(f"{f.key}: is required" + (f" when {condition}" if condition else ""))
            elif f.required_without and not _present(given.get(f.required_without)):
                problems.append(f"{f.key}: is required unless {f.required_without} is given")
            continue
        if not applies:
            condition = " and ".join(f"{name} is {v}" for name, v in (f.used_when or f.required_when))
            problems.append(f"{f.key}: is only used when {condition}")
            continue
        if f.required_without and _present(given.get(f.required_without)):
            problems.append(f"{f.key}: give either {f.key} or {f.required_without}, not both")
            continue
        problem = _value_problem(f, value, check_urls=check_urls)
        if problem:
            problems.append(problem)
    return problems


def validated_config(provider: Provider, config: Any, *, check_urls: bool = True) -> dict[str, Any]:
    """The config with empty values dropped and defaults applied; ValidationFailed naming every problem."""
    problems = config_problems(provider, config, check_urls=check_urls)
    if problems:
        raise ValidationFailed(
            f"The {provider.name} configuration is not valid: " + "; ".join(problems),
            code="invalid_config",
            fields={"details": problems},
        )
    clean = {k: v for k, v in config.items() if _present(v)}
    for f in provider.fields:
        if f.key not in clean and f.default is not None and f.applies(clean):
            clean[f.key] = f.default
    return clean


_validators: dict[int, tuple[dict[str, Any], Any]] = {}


def _validator(schema: dict[str, Any]) -> Any:
    # Keyed by identity: the catalog's schemas live for the process, and the pair keeps the schema alive.
    hit = _validators.get(id(schema))
    if hit is None or hit[0] is not schema:
        from jsonschema import Draft202012Validator

        Draft202012Validator.check_schema(schema)
        hit = (schema, Draft202012Validator(schema))
        _validators[id(schema)] = hit
    return hit[1]


def _path(error: Any) -> str:
    parts = [str(p) for p in error.absolute_path]
    return "params" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts)


def _describe(error: Any) -> str:
    # jsonschema's own messages quote the offending value; these name the rule instead.
    rule, expected = error.validator, error.validator_value
    where = _path(error)
    if rule == "required":
        missing = [name for name in expected if isinstance(error.instance, dict) and name not in error.instance]
        return f"{where}: missing {', '.join(missing) or 'a required property'}"
    if rule == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed) if isinstance(error.instance, dict) else []
        return f"{where}: unknown {', '.join(extra) or 'property'}"
    if rule == "type":
        return f"{where}: must be of type {expected}"
    if rule == "enum":
        return f"{where}: must be one of {', '.join(map(str, expected))}"
    if rule in ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "minProperties"):
        return f"{where}: {rule} is {expected}"
    if rule == "pattern":
        return f"{where}: has the wrong format"
    if rule == "anyOf":
        return f"{where}: needs one of the alternatives ({error.schema.get('description') or 'see the input schema'})"
    return f"{where}: fails {rule}"


def param_problems(action: Action, params: Any) -> list[str]:
    """Every problem of `params` against the action's JSON Schema, without echoing values."""
    errors = sorted(
        _validator(action.input_schema).iter_errors(params), key=lambda e: [str(p) for p in e.absolute_path]
    )
    return [_describe(error) for error in errors[:MAX_PARAM_PROBLEMS]]


def validate_params(action: Action, params: Any) -> None:
    """ValidationFailed naming each problem when `params` does not satisfy the action's input schema."""
    problems = param_problems(action, params)
    if problems:
        raise ValidationFailed(
            f"The {action.id} parameters are not valid: " + "; ".join(problems),
            code="invalid_params",
            fields={"details": problems},
        )
