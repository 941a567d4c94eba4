"""RFC 8785 canonical form: the published test vectors, and what cannot be canonicalized."""

from __future__ import annotations

import hashlib
import struct

import pytest

from shared.evidence.canonical import (
    CanonicalizationError,
    canonical_bytes,
    canonical_sha256,
    canonical_text,
    sha256_hex,
)

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical serialization.
NUMBER_VECTORS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), NUMBER_VECTORS)
def test_rfc8785_number_vectors(bits: str, expected: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical_text(value) == expected


def test_rfc8785_section_3_2_2_sample() -> None:
    """The worked example of RFC 8785 §3.2.2, whitespace and escapes included."""
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_text(value) == expected
    assert canonical_bytes(value) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_property_sorting_by_utf16_code_units() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys_in_order = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    expected = "{" + ",".join(f'"{k if k != chr(13) else chr(92) + "r"}":"{value[k]}"' for k in keys_in_order) + "}"
    assert canonical_text(value) == expected


def test_whitespace_and_key_order_do_not_matter_but_array_order_does() -> None:
    assert canonical_bytes({"b": 1, "a": [1, 2]}) == canonical_bytes({"a": [1, 2], "b": 1}) == b'{"a":[1,2],"b":1}'
    assert canonical_bytes({"a": [2, 1]}) != canonical_bytes({"a": [1, 2]})


def test_integral_floats_and_ints_canonicalize_alike() -> None:
    """A stored 185.0 and the 185 a JSON client sends back are the same bytes, so round trips verify."""
    assert canonical_bytes({"d": 185.0}) == canonical_bytes({"d": 185}) == b'{"d":185}'


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), -float("inf"), 2**53, -(2**53), {1: "x"}, "\ud800", {"set"}, object()],
    ids=["nan", "inf", "-inf", "2^53", "-2^53", "int-key", "lone-surrogate", "set", "object"],
)
def test_values_without_a_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalizationError):
        canonical_bytes(value)


def test_sha256_helpers() -> None:
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert canonical_sha256({"b": 2, "a": 1}) == hashlib.sha256(b'{"a":1,"b":2}').hexdigest()
