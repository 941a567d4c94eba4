"""Estimated model cost of a session from its cumulative realtime token counts.

Prices are USD per 1M tokens, keyed by realtime deployment name. The defaults are the published OpenAI text-token
prices of each realtime model (gpt-realtime $4 in / $16 out, gpt-realtime-mini $0.60 / $2.40,
gpt-4o-realtime-preview $5 / $20, gpt-4o-mini-realtime-preview $0.60 / $2.40). They are deliberately
audio-agnostic: the finalize payload reports only total input / output tokens (response.done usage, all
modalities together), and audio tokens cost more, so the estimate is a floor, not an invoice. A deployment the
table does not name is priced with its "default" entry (the gpt-realtime numbers).

Operators override or extend the table with the REALTIME_PRICE_TABLE setting, a JSON object such as
{"my-deployment": {"input": 32, "output": 64}}; entries are merged over the defaults.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

PER_TOKENS = 1_000_000
COST_PLACES = 6
DEFAULT_ENTRY = "default"
MAX_TOKENS = 9_007_199_254_740_991  # the contract's integer maximum

DEFAULT_PRICE_TABLE: dict[str, dict[str, float]] = {
    "gpt-realtime": {"input": 4.00, "output": 16.00},
    "gpt-realtime-mini": {"input": 0.60, "output": 2.40},
    "gpt-4o-realtime-preview": {"input": 5.00, "output": 20.00},
    "gpt-4o-mini-realtime-preview": {"input": 0.60, "output": 2.40},
    DEFAULT_ENTRY: {"input": 4.00, "output": 16.00},
}


def _price(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{where} must be a non-negative number (USD per 1M tokens)")
    return float(value)


def price_table(raw: str) -> dict[str, dict[str, float]]:
    """The price table: the defaults with the JSON override `raw` (REALTIME_PRICE_TABLE) merged over them.

    An empty or blank `raw` gives the defaults. Each override entry is {"input": <usd>, "output": <usd>} per 1M
    tokens. Invalid JSON, a non-object, or an entry without two non-negative prices raises ValueError.
    """
    table = {name: dict(prices) for name, prices in DEFAULT_PRICE_TABLE.items()}
    if not raw or not raw.strip():
        return table
    try:
        override = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"REALTIME_PRICE_TABLE is not valid JSON: {error.msg}") from None
    if not isinstance(override, dict):
        raise ValueError("REALTIME_PRICE_TABLE must be a JSON object of deployment -> {input, output}")
    for name, prices in override.items():
        if not name.strip():
            raise ValueError("REALTIME_PRICE_TABLE has an empty deployment name")
        if not isinstance(prices, dict) or set(prices) != {"input", "output"}:
            raise ValueError(f"REALTIME_PRICE_TABLE[{name!r}] must be an object with exactly input and output")
        table[name] = {
            "input": _price(prices["input"], f"REALTIME_PRICE_TABLE[{name!r}].input"),
            "output": _price(prices["output"], f"REALTIME_PRICE_TABLE[{name!r}].output"),
        }
    return table


def prices_for(deployment: str, table: Mapping[str, Mapping[str, float]]) -> Mapping[str, float]:
    """The prices of `deployment`: exact name, then case-insensitive, then the "default" entry."""
    if deployment in table:
        return table[deployment]
    folded = {name.casefold(): prices for name, prices in table.items()}
    if deployment.casefold() in folded:
        return folded[deployment.casefold()]
    if DEFAULT_ENTRY in table:
        return table[DEFAULT_ENTRY]
    return DEFAULT_PRICE_TABLE[DEFAULT_ENTRY]


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a whole number of tokens")
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise ValueError(f"{name} must be a whole number of tokens")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    if value > MAX_TOKENS:
        raise ValueError(f"{name} is too large")
    return int(value)


def estimate(input_tokens: int, output_tokens: int, deployment: str, table: Mapping[str, Mapping[str, float]]) -> dict:
    """{"tokenUsage": {inputTokens, outputTokens, totalTokens}, "estimatedCostUsd": <USD, 6 decimals half-up>}."""
    inputs = _count(input_tokens, "input_tokens")
    outputs = _count(output_tokens, "output_tokens")
    if inputs + outputs > MAX_TOKENS:
        raise ValueError("input_tokens + output_tokens is too large")
    prices = prices_for(deployment, table)
    cost = (
        Decimal(inputs) * Decimal(repr(float(prices["input"])))
        + Decimal(outputs) * Decimal(repr(float(prices["output"])))
    ) / PER_TOKENS
    rounded = cost.quantize(Decimal(1).scaleb(-COST_PLACES), rounding=ROUND_HALF_UP)
    return {
        "tokenUsage": {"inputTokens": inputs, "outputTokens": outputs, "totalTokens": inputs + outputs},
        "estimatedCostUsd": float(rounded),
    }
