"""Untrusted JSON: depth bounded before decoding, numbers and strings that could not be stored refused."""

from __future__ import annotations

import json
import re
import time

import pytest

from shared.platform import jsonbody
from shared.platform.errors import BadRequest
from shared.platform.jsonbody import MAX_DEPTH, parse_json


def nested_arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("build", [nested_arrays, nested_objects])
def test_the_maximum_depth_is_accepted_and_one_more_level_refused(build):
    assert parse_json(build(MAX_DEPTH)) is not None
    with pytest.raises(BadRequest, match="nests deeper than 64") as refused:
        parse_json(build(MAX_DEPTH + 1))
    assert refused.value.code == "invalid_json"


def test_deep_nesting_is_refused_before_the_decoder_recurses(monkeypatch):
    def decoder_must_not_run(*args, **kwargs):
        raise AssertionError("the decoder ran on a body nested 50,000 levels deep")

    monkeypatch.setattr(jsonbody.json, "loads", decoder_must_not_run)
    for body in (nested_arrays(50_000), "[" * 1_000_000, '{"a":[' * 10_000):
        with pytest.raises(BadRequest, match="nests deeper"):
            parse_json(body)


def test_brackets_inside_strings_and_after_escaped_quotes_do_not_count():
    text = "[" * 1_000 + '\\"' + "{" * 1_000
    assert parse_json(json.dumps({"note": text, "list": [[1]]})) == {"note": text, "list": [[1]]}


def test_unclosed_quotes_and_backslashes_are_scanned_in_linear_time():
    started = time.perf_counter()
    for body in ('["' + '\\"' * 400_000 + "[" * 100, '"\\' * 400_000 + "[" * 100, "[" * 100 + '"' * 800_000):
        with pytest.raises(BadRequest):
            parse_json(body)
    # A quadratic scan of these 800 KB bodies would take minutes.
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"a": NaN}', "not a JSON number"),
        ('{"a": 1e400}', "overflows"),
        ('{"a": 9007199254740993}', "outside ±2^53"),
        ('{"a": ' + "1" * 41 + "}", "too long"),
        ('{"a": "\\ud800"}', "unpaired surrogate"),
        ('{"\\u0000": 1}', "NUL"),
    ],
)
def test_values_that_could_not_be_stored_or_served_are_refused(body, reason):
    with pytest.raises(BadRequest, match=re.escape(reason)):
        parse_json(body)
