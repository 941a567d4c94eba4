"""Parsing of untrusted JSON: bounded depth, finite and bounded numbers, well-formed Unicode only.

Everything the API accepts must be storable in Cosmos and servable later, so a body is refused
(400 `invalid_json`) when it nests deeper than MAX_DEPTH, holds NaN / Infinity / numbers that overflow
a double, integers beyond ±2^53 (JavaScript's and Cosmos's exact range), or lone UTF-16 surrogates
(they cannot be encoded as UTF-8 on the way out) or NUL characters.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
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


# A string literal, to its closing quote or the end of the text: the match never fails once begun, so a
# hostile text of unclosed quotes and backslashes is scanned in linear time.
_STRING = re.compile(r'"(?:[^"\\]|\\.|\\\Z)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# An opening bracket counts 2 and a closing one 0, so the depth after n brackets is their sum minus n.
_BRACKET_WEIGHTS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH from the text, before the decoder could recurse into it.

    The running depth is computed by C-level iteration (accumulate, map, max), so a hostile megabyte of
    brackets costs milliseconds, not a Python loop per bracket.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    weights = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii").translate(_BRACKET_WEIGHTS)
    if max(map(operator.sub, itertools.accumulate(weights), itertools.count(1)), default=0) > MAX_DEPTH:
        raise _Refused(f"the body nests deeper than {MAX_DEPTH} levels")


def _check_strings(value: Any) -> None:
    """Refuse unstorable keys and strings without recursion (the depth is already bounded)."""
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if _UNSTORABLE.search(key):
                    raise _Refused("a key holds a NUL or an unpaired surrogate")
                stack.append(item)
        elif isinstance(node, list):
            stack.extend(node)
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
        _check_depth(text)
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
        _check_strings(value)
    except _Refused as exc:
        raise BadRequest(f"The request body is not acceptable JSON: {exc}", code="invalid_json") from exc
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise BadRequest("The request body is not valid JSON", code="invalid_json") from exc
    return value
