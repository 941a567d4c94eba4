"""Session cost estimates: the price table, its override, rounding and the contract's cost body."""

from __future__ import annotations

import json

import pytest

from shared.results import cost
from shared.results.cost import DEFAULT_PRICE_TABLE, estimate, price_table
from tests.support.schemas import assert_valid


def test_defaults_price_gpt_realtime_text_tokens() -> None:
    assert DEFAULT_PRICE_TABLE["gpt-realtime"] == {"input": 4.0, "output": 16.0}
    assert DEFAULT_PRICE_TABLE["default"] == {"input": 4.0, "output": 16.0}
    assert all(set(prices) == {"input", "output"} for prices in DEFAULT_PRICE_TABLE.values())


def test_estimate_shape_and_value() -> None:
    body = estimate(12_345, 6_789, "gpt-realtime", price_table(""))
    # 12345 * 4 / 1e6 + 6789 * 16 / 1e6 = 0.04938 + 0.108624
    assert body == {
        "tokenUsage": {"inputTokens": 12_345, "outputTokens": 6_789, "totalTokens": 19_134},
        "estimatedCostUsd": 0.158004,
    }
    assert_valid("cost_schema", {"sessionId": "abc", **body})


def test_zero_tokens_cost_nothing() -> None:
    assert estimate(0, 0, "gpt-realtime", DEFAULT_PRICE_TABLE)["estimatedCostUsd"] == 0.0


def test_rounding_is_six_decimals_half_up() -> None:
    table = {"d": {"input": 0.5, "output": 0.0}}
    assert estimate(1, 0, "d", table)["estimatedCostUsd"] == 0.000001  # 0.0000005 rounds up
    assert estimate(3, 0, "d", {"d": {"input": 0.1, "output": 0}})["estimatedCostUsd"] == 0.0  # 0.0000003
    assert estimate(1, 1, "gpt-realtime-mini", DEFAULT_PRICE_TABLE)["estimatedCostUsd"] == 0.000003  # 0.6 + 2.4 per 1M


def test_large_counts_stay_exact() -> None:
    body = estimate(10**12, 10**12, "gpt-realtime", DEFAULT_PRICE_TABLE)
    assert body["estimatedCostUsd"] == 20_000_000.0
    assert body["tokenUsage"]["totalTokens"] == 2 * 10**12


def test_unknown_deployments_use_the_default_entry_and_names_fold_case() -> None:
    table = price_table("")
    assert estimate(1_000_000, 0, "my-custom-deployment", table)["estimatedCostUsd"] == 4.0
    assert estimate(1_000_000, 0, "GPT-Realtime-Mini", table)["estimatedCostUsd"] == 0.6
    assert cost.prices_for("x", {}) == DEFAULT_PRICE_TABLE["default"]


@pytest.mark.parametrize(
    ("inputs", "outputs"),
    [(-1, 0), (0, -5), (1.5, 0), (True, 0), ("10", 0), (None, 0), (float("nan"), 0), (cost.MAX_TOKENS + 1, 0)],
)
def test_invalid_counts_are_refused(inputs: object, outputs: object) -> None:
    with pytest.raises(ValueError):
        estimate(inputs, outputs, "gpt-realtime", DEFAULT_PRICE_TABLE)  # type: ignore[arg-type]


def test_integral_floats_are_accepted() -> None:
    assert estimate(10.0, 2.0, "gpt-realtime", DEFAULT_PRICE_TABLE)["tokenUsage"]["totalTokens"] == 12


def test_total_beyond_the_contract_maximum_is_refused() -> None:
    with pytest.raises(ValueError):
        estimate(cost.MAX_TOKENS, 1, "gpt-realtime", DEFAULT_PRICE_TABLE)


def test_override_merges_over_defaults() -> None:
    raw = json.dumps({"prod-realtime": {"input": 32, "output": 64}, "gpt-realtime": {"input": 5, "output": 20.5}})
    table = price_table(raw)
    assert table["prod-realtime"] == {"input": 32.0, "output": 64.0}
    assert table["gpt-realtime"] == {"input": 5.0, "output": 20.5}
    assert table["gpt-realtime-mini"] == DEFAULT_PRICE_TABLE["gpt-realtime-mini"]
    assert estimate(1_000_000, 1_000_000, "prod-realtime", table)["estimatedCostUsd"] == 96.0


def test_override_can_replace_the_default_entry() -> None:
    table = price_table('{"default": {"input": 1, "output": 2}}')
    assert estimate(1_000_000, 1_000_000, "unknown", table)["estimatedCostUsd"] == 3.0


def test_blank_override_gives_a_copy_of_the_defaults() -> None:
    table = price_table("   ")
    assert table == DEFAULT_PRICE_TABLE
    table["gpt-realtime"]["input"] = 99
    assert DEFAULT_PRICE_TABLE["gpt-realtime"]["input"] == 4.0


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "[1, 2]",
        '"gpt-realtime"',
        '{"d": 4}',
        '{"d": {"input": 1}}',
        '{"d": {"input": 1, "output": 2, "audio": 3}}',
        '{"d": {"input": -1, "output": 2}}',
        '{"d": {"input": "1", "output": 2}}',
        '{"d": {"input": true, "output": 2}}',
        '{"d": {"input": NaN, "output": 2}}',
        '{" ": {"input": 1, "output": 2}}',
    ],
)
def test_invalid_overrides_raise_value_error(raw: str) -> None:
    with pytest.raises(ValueError):
        price_table(raw)
