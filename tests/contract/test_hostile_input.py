"""Hostile input against every routed operation, generated from the contract: a 4xx envelope, nothing written.

For each operation with path parameters, traversal and oversize ids; for each operation that takes a
JSON body, deep nesting, huge and non-finite numbers, NUL characters, lone surrogates, 100,000-character
strings in each string property, wrong content types, an empty body and non-object JSON. The caller is
as privileged as it can be (a super-admin owner, or the session's own key), so the input — not the
auth check — is what gets refused. The contract client validates each answer's envelope; the store
meter proves no document was created, replaced or deleted. New operations are covered automatically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.contract.test_roles import routed_operations
from tests.support.contract import contract_operations, find_operation
from tests.support.identity import new_tenant_id
from tests.support.sessions import start_session

HOSTILE_IDS = ("..", "..%2F..%2Fetc", "a%2Fb", "x" * 10_000, "a..b", "%00", "-dash", "a%20b")
LONG = "y" * 100_000
MAX_FIELDS_PER_OPERATION = 12


def _specs() -> dict[str, Any]:
    return {op.operation_id: op for op in contract_operations()}


def _skeleton(schema: dict[str, Any] | None, depth: int = 0) -> Any:
    """A plausible instance of a schema: required properties filled with simple values."""
    if not schema or depth > 4:
        return {}
    if "anyOf" in schema:
        return _skeleton(schema["anyOf"][0], depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: _skeleton(properties.get(name), depth + 1) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind in ("number", "integer"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    return "walk-target"


def _string_fields(schema: dict[str, Any] | None) -> list[str]:
    properties = (schema or {}).get("properties", {})
    names = [name for name, spec in properties.items() if spec.get("type") == "string" and "enum" not in spec]
    return names[:MAX_FIELDS_PER_OPERATION]


def _hostile_bodies(schema: dict[str, Any] | None) -> Iterator[tuple[str, bytes, str]]:
    """(label, raw body, content type) of every hostile body for one operation."""
    base = _skeleton(schema)
    base = base if isinstance(base, dict) else {}
    as_json = "application/json"
    yield "deep-nesting", b'{"a":' + b"[" * 200 + b"]" * 200 + b"}", as_json
    yield "very-deep-nesting", b"[" * 50_000 + b"]" * 50_000, as_json
    for label, literal in (("nan", b"NaN"), ("infinity", b"-Infinity"), ("1e400", b"1e400"), ("huge", b"9" * 5000)):
        yield label, b'{"value":' + literal + b"}", as_json
    yield "non-object", b"[1,2,3]", as_json
    yield "string-body", b'"text"', as_json
    yield "truncated", b'{"a": ', as_json
    yield "empty", b"", as_json
    yield "wrong-content-type", json.dumps(base).encode(), "text/plain"
    yield "form-encoded", b"a=1&b=2", "application/x-www-form-urlencoded"
    for name in _string_fields(schema):
        yield f"{name}-nul", json.dumps({**base, name: "a\u0000b"}).encode(), as_json
        yield f"{name}-surrogate", ("{" + json.dumps(name) + ': "\\ud800"}').encode(), as_json
        yield f"{name}-100k", json.dumps({**base, name: LONG}).encode(), as_json
    yield "unknown-100k-field", json.dumps({**base, "zz" * 10: LONG}).encode(), as_json


def _concrete(template: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, template)


def _body_operations() -> list[tuple[str, str, str]]:
    return [op for op in routed_operations() if op[1] in ("POST", "PUT", "PATCH")]


def _id_operations() -> list[tuple[str, str, str]]:
    return [op for op in routed_operations() if "{" in op[2]]


@pytest.fixture(scope="module")
def caller(devhost, tokens) -> dict[str, Any]:
    """The most privileged caller for each kind of operation, and a live session."""
    from tests.support.client import ContractClient

    with ContractClient(devhost.asgi) as client:
        session = start_session(client)
    tenant = new_tenant_id("hostile")
    return {
        "bearer": tokens.super_admin(tenant),
        "session": session,
        "session_headers": {"x-session-access": session["accessKey"]},
    }


def _request_parts(caller: dict[str, Any], path: str, auth_name: str) -> tuple[str, dict[str, str]]:
    if auth_name.startswith("session_access"):
        return _concrete(path, caller["session"]["sessionId"]), dict(caller["session_headers"])
    return _concrete(path, "walk-target"), dict(caller["bearer"])


def _assert_refused_without_writes(response, label: str) -> None:
    from shared.platform.store import metering

    assert 400 <= response.status_code < 500, f"{label}: answered {response.status_code} {response.text[:300]}"
    recorded = metering.recorded(response.headers.get("x-correlation-id", ""))
    if recorded is not None:
        assert recorded[1].writes == 0, f"{label}: {recorded[1].writes} document write(s) despite the refusal"


@pytest.mark.parametrize(("operation_id", "method", "path"), _body_operations(), ids=lambda v: v)
def test_hostile_bodies_are_refused_and_write_nothing(client, caller, operation_id, method, path):
    from shared.platform.http.adapter import OPERATION_AUTH
    from shared.platform.http.contract import snake_case

    auth_name = OPERATION_AUTH[snake_case(operation_id)].name
    url, headers = _request_parts(caller, path, auth_name)
    schema = ((_specs()[operation_id].spec.get("requestBody") or {}).get("content") or {}).get("application/json", {})
    for label, raw, content_type in _hostile_bodies(schema.get("schema")):
        response = client.request(method, url, content=raw, headers={**headers, "Content-Type": content_type})
        if label == "empty" and response.status_code < 300:
            # An operation whose contract body is optional may answer an empty one; it must still write nothing.
            continue
        _assert_refused_without_writes(response, f"{operation_id} {label}")


@pytest.mark.parametrize(("operation_id", "method", "path"), _id_operations(), ids=lambda v: v)
def test_traversal_and_oversize_ids_are_refused_and_write_nothing(client, caller, operation_id, method, path):
    from shared.platform.http.adapter import OPERATION_AUTH
    from shared.platform.http.contract import snake_case

    auth_name = OPERATION_AUTH[snake_case(operation_id)].name
    _, headers = _request_parts(caller, path, auth_name)
    for bad in HOSTILE_IDS:
        url = _concrete(path, bad)
        addressed = find_operation(method, httpx.URL(f"http://host{url}").path)
        if addressed is not None and addressed.operation_id != operation_id:
            # A dot segment collapsed the path (clients normalize `..`): the id never reaches this operation,
            # and the request addresses another one (e.g. exceptions/.. is the session list).
            continue
        response = client.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None, headers=headers)
        assert response.status_code in (400, 401, 403, 404, 405), f"{operation_id} {bad[:20]}: {response.status_code}"
        _assert_refused_without_writes(response, f"{operation_id} id {bad[:20]}")
