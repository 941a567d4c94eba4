"""The workflow vocabulary, version `tellgence.workflow/v1`: the node types a graph may use and their data.

Every node is `{id, type, position: {x, y}, data}`; `data` holds `label` (1-120 characters) and
`description` (at most 500), both optional, and the fields of its type (docs/WORKFLOWS.md has the table):

- `intake`: `fields`, 1-30 names (`[A-Za-z][A-Za-z0-9_]{0,63}`) the caller must give; `prompt`.
  Exactly one default outgoing edge.
- `tool_call`: `action`; exactly one of `connector` (a practice connector kind) or `provider` (a
  demo-tier provider); `params` (an object, at most 4 KiB as JSON; `"{{field}}"` strings are filled
  from the run's context); `maxRetries` 0-5. One default edge (success), at most one `error` and one
  `retry` edge.
- `condition`: `field`, `operator` (equals, not_equals, exists, missing, contains, greater_than,
  less_than) and `value` (a string of at most 200, a number or a boolean; none for exists/missing; a
  number for the comparisons). Exactly one `true` and one `false` edge.
- `handoff`: `reason` (1-300). At most one default edge.
- `booking`: `mode` `link` (email the practice's booking link to the caller); `message`. Exactly one
  default edge.
- `end`: `outcome` (resolved, booked, qualified, escalated, follow_up_required), optional. No edges.

A `retry` edge leaves a `tool_call` whose `maxRetries` is at least 1 and loops back to that node or to
a node before it; it is the only way a graph may cycle. A later vocabulary gets a new version; a
draft saved under another version must be saved again before it can be published.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from shared.platform.jsonbody import nesting_depth

VERSION = "tellgence.workflow/v1"

NODE_TYPES = ("intake", "tool_call", "condition", "handoff", "booking", "end")
# Node types that do something during a call or an execution (the call state's steps).
ACTION_TYPES = ("intake", "tool_call", "handoff", "booking")
CONDITION_OPERATORS = ("equals", "not_equals", "exists", "missing", "contains", "greater_than", "less_than")
VALUELESS_OPERATORS = ("exists", "missing")
NUMERIC_OPERATORS = ("greater_than", "less_than")
END_OUTCOMES = ("resolved", "booked", "qualified", "escalated", "follow_up_required")
BOOKING_MODES = ("link",)
HANDLES = ("true", "false", "error", "retry")

MAX_LABEL = 120
MAX_DESCRIPTION = 500
MAX_INTAKE_FIELDS = 30
MAX_PARAMS_BYTES = 4096
MAX_PARAMS_DEPTH = 6
MAX_RETRIES = 5
MAX_REASON = 300
MAX_TEXT_VALUE = 200

FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
ACTION_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
COMMON_KEYS = ("label", "description")

Problems = list[str]


def _text(data: dict[str, Any], key: str, where: str, problems: Problems, *, limit: int, required: bool) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(f"{where}: data.{key} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: data.{key} must be a non-empty string")
        return None
    if len(value) > limit:
        problems.append(f"{where}: data.{key} must be at most {limit} characters")
        return None
    return value.strip()


def _intake(data: dict[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fields = data.get("fields")
    if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_INTAKE_FIELDS:
        problems.append(f"{where}: data.fields must list 1-{MAX_INTAKE_FIELDS} field names")
    elif not all(isinstance(name, str) and FIELD_NAME.fullmatch(name) for name in fields):
        problems.append(f"{where}: data.fields must be names of letters, digits and '_' (at most 64)")
    elif len(set(fields)) != len(fields):
        problems.append(f"{where}: data.fields names a field twice")
    else:
        out["fields"] = list(fields)
    prompt = _text(data, "prompt", where, problems, limit=MAX_DESCRIPTION, required=False)
    if prompt:
        out["prompt"] = prompt
    return out


def _tool_call(data: dict[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    from shared.integrations import catalog

    out: dict[str, Any] = {}
    action = data.get("action")
    if not isinstance(action, str) or not ACTION_ID.fullmatch(action):
        problems.append(f"{where}: data.action must be an action id")
        action = None
    connector, provider = data.get("connector"), data.get("provider")
    if (connector is None) == (provider is None):
        problems.append(
            f"{where}: data needs exactly one of connector (a connector kind) or provider (a demo provider)"
        )
    elif connector is not None:
        if connector not in catalog.CONNECTOR_KINDS:
            problems.append(f"{where}: data.connector must be one of {', '.join(catalog.CONNECTOR_KINDS)}")
        else:
            out["connector"] = connector
            known = {a.id for p in catalog.providers_for_kind(connector) for a in p.actions}
            if action and action not in known:
                problems.append(f"{where}: no {connector} provider has the action {action!r}")
    else:
        found = catalog.providers().get(provider) if isinstance(provider, str) else None
        if found is None or not found.is_demo:
            problems.append(f"{where}: data.provider must be a demo-tier provider id")
        else:
            out["provider"] = provider
            if action and action not in {a.id for a in found.actions}:
                problems.append(f"{where}: the provider {provider!r} has no action {action!r}")
    if action:
        out["action"] = action
    params = data.get("params", {})
    if not isinstance(params, dict):
        problems.append(f"{where}: data.params must be an object")
    elif len(json.dumps(params, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_PARAMS_BYTES:
        problems.append(f"{where}: data.params must be at most {MAX_PARAMS_BYTES} bytes as JSON")
    elif nesting_depth(params) > MAX_PARAMS_DEPTH:
        problems.append(f"{where}: data.params must nest at most {MAX_PARAMS_DEPTH} levels")
    else:
        out["params"] = params
    retries = data.get("maxRetries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        problems.append(f"{where}: data.maxRetries must be an integer from 0 to {MAX_RETRIES}")
    else:
        out["maxRetries"] = retries
    return out


def _condition(data: dict[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    field = data.get("field")
    if not isinstance(field, str) or not FIELD_NAME.fullmatch(field):
        problems.append(f"{where}: data.field must be a field name")
    else:
        out["field"] = field
    operator = data.get("operator")
    if operator not in CONDITION_OPERATORS:
        problems.append(f"{where}: data.operator must be one of {', '.join(CONDITION_OPERATORS)}")
        return out
    out["operator"] = operator
    value = data.get("value")
    if operator in VALUELESS_OPERATORS:
        if value is not None:
            problems.append(f"{where}: data.value is not used with {operator}")
    elif operator in NUMERIC_OPERATORS:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(f"{where}: data.value must be a number for {operator}")
        else:
            out["value"] = value
    elif _scalar(value):
        out["value"] = value
    else:
        problems.append(f"{where}: data.value must be a string of 1-{MAX_TEXT_VALUE} characters, a number or a boolean")
    return out


def _scalar(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return math.isfinite(value)
    return isinstance(value, str) and 0 < len(value) <= MAX_TEXT_VALUE


def _handoff(data: dict[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    reason = _text(data, "reason", where, problems, limit=MAX_REASON, required=True)
    return {"reason": reason} if reason else {}


def _booking(data: dict[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    out: dict[str, Any] = {}
    mode = data.get("mode", "link")
    if mode not in BOOKING_MODES:
        problems.append(f"{where}: data.mode must be one of {', '.join(BOOKING_MODES)}")
    else:
        out["mode"] = mode
    message = _text(data, "message", where, problems, limit=MAX_DESCRIPTION, required=False)
    if message:
        out["message"] = message
    return out


def _end(data: dict[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    outcome = data.get("outcome")
    if outcome is None:
        return {}
    if outcome not in END_OUTCOMES:
        problems.append(f"{where}: data.outcome must be one of {', '.join(END_OUTCOMES)}")
        return {}
    return {"outcome": outcome}


TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "intake": ("fields", "prompt"),
    "tool_call": ("action", "connector", "provider", "params", "maxRetries"),
    "condition": ("field", "operator", "value"),
    "handoff": ("reason",),
    "booking": ("mode", "message"),
    "end": ("outcome",),
}
_VALIDATORS: dict[str, Callable[[dict[str, Any], str, Problems], dict[str, Any]]] = {
    "intake": _intake,
    "tool_call": _tool_call,
    "condition": _condition,
    "handoff": _handoff,
    "booking": _booking,
    "end": _end,
}


def node_data(node_type: str, data: Any, where: str, problems: Problems) -> dict[str, Any]:
    """The node's data normalised for its type; every problem is appended to `problems` (no value is echoed)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append(f"{where}: data must be an object")
        return {}
    unknown = sorted(set(data) - set(COMMON_KEYS) - set(TYPE_KEYS[node_type]))
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        problems.append(f"{where}: data has fields a {node_type} node does not take: {shown}")
    out: dict[str, Any] = {}
    label = _text(data, "label", where, problems, limit=MAX_LABEL, required=False)
    if label:
        out["label"] = label
    description = _text(data, "description", where, problems, limit=MAX_DESCRIPTION, required=False)
    if description:
        out["description"] = description
    out.update(_VALIDATORS[node_type](data, where, problems))
    return out


def allowed_handles(node: dict[str, Any]) -> dict[str | None, tuple[int, int]]:
    """The outgoing edges a node may have: handle (None = default) → (least, most)."""
    node_type = node["type"]
    if node_type == "end":
        return {}
    if node_type == "condition":
        return {"true": (1, 1), "false": (1, 1)}
    if node_type == "handoff":
        return {None: (0, 1)}
    if node_type == "tool_call":
        return {None: (1, 1), "error": (0, 1), "retry": (0, 1)}
    return {None: (1, 1)}
