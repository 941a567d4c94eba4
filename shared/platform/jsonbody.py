"""Parsing of untrusted JSON: bounded depth, finite and bounded numbers, well-formed Unicode only.

Everything the API accepts must be storable in Cosmos and servable later, so a body is refused
(400 `invalid_json`) when it nests deeper than MAX_DEPTH, holds NaN / Infinity / numbers that overflow
a double, integers beyond ±2^53 (JavaScript's and Cosmos's exact range), or lone UTF-16 surrogates
(they cannot be encoded as UTF-8 on the way out) or NUL characters.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from shared.platform.errors import BadRequest

MAX_DEPTH = 64
MAX_SAFE_INTEGER = 2**53 - 1
# Longer digit strings are refused before int() ever runs (Python caps int parsing at 4300 digits).
MAX_NUMBER_CHARS = 40


class _Refused(ValueError):
    """A JSON value the API will not accept, with the reason for the client."""


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused("a number is too long")
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise _Refused("an integer is outside ±2^53")
    return value


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused("a number is too long")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("a number overflows")
    return value


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


# Valid surrogate pairs are already joined by the decoder, so any surrogate left is a lone one.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_tree(value: Any) -> None:
    """Depth and string checks without recursion (a hostile body must not exhaust the stack)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DEPTH:
                raise _Refused(f"the body nests deeper than {MAX_DEPTH} levels")
            for key, item in node.items():
                if _UNSTORABLE.search(key):
                    raise _Refused("a key holds a NUL or an unpaired surrogate")
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            if depth > MAX_DEPTH:
                raise _Refused(f"the body nests deeper than {MAX_DEPTH} levels")
            stack.extend((item, depth + 1) for item in node)
        elif isinstance(node, str) and _UNSTORABLE.search(node):
            raise _Refused("a string holds a NUL or an unpaired surrogate")


def nesting_depth(value: Any, level: int = 0) -> int:
    """How many objects and arrays deep a parsed JSON value nests (a scalar is 0, `{}` and `[]` are 1)."""
    if isinstance(value, dict):
        return max([level + 1, *(nesting_depth(item, level + 1) for item in value.values())])
    if isinstance(value, list):
        return max([level + 1, *(nesting_depth(item, level + 1) for item in value)])
    return level


def parse_json(raw: bytes | str) -> Any:
    """Parse an untrusted JSON document; BadRequest (invalid_json) for anything the API would not store safely."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
        _check_tree(value)
    except _Refused as exc:
        raise BadRequest(f"The request body is not acceptable JSON: {exc}", code="invalid_json") from exc
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise BadRequest("The request body is not valid JSON", code="invalid_json") from exc
    return value
