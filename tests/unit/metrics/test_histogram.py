"""The latency histogram: quantiles within the documented relative error, exact merges, bounded sparse JSON."""

from __future__ import annotations

import json
import math
import random

import pytest

from shared.metrics.histogram import (
    GAMMA,
    MAX_BUCKETS,
    MAX_TRACKED,
    MIN_TRACKED,
    RELATIVE_ACCURACY,
    Histogram,
    bucket_index,
    merge_all,
    representative,
)

QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)
TOLERANCE = RELATIVE_ACCURACY * (1 + 1e-9)  # the documented bound, plus float rounding


def exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def filled(values: list[float]) -> Histogram:
    histogram = Histogram()
    for value in values:
        histogram.add(value)
    return histogram


def samples(rng: random.Random, kind: str, size: int) -> list[float]:
    draw = {
        "lognormal": lambda: rng.lognormvariate(6.0, 1.2),
        "uniform": lambda: rng.uniform(MIN_TRACKED, 5000),
        "exponential": lambda: MIN_TRACKED + rng.expovariate(1 / 300),
        "pareto": lambda: min(MAX_TRACKED, 20 * rng.paretovariate(1.1)),
        "bimodal": lambda: rng.gauss(120, 10) if rng.random() < 0.8 else rng.gauss(2500, 300),
    }[kind]
    return [min(MAX_TRACKED, max(MIN_TRACKED, draw())) for _ in range(size)]


@pytest.mark.parametrize("kind", ["lognormal", "uniform", "exponential", "pareto", "bimodal"])
@pytest.mark.parametrize("size", [1, 2, 7, 100, 5000])
def test_quantiles_are_within_the_documented_relative_error(kind: str, size: int) -> None:
    rng = random.Random(f"{kind}-{size}")
    for _ in range(5):
        values = samples(rng, kind, size)
        histogram = filled(values)
        for q in QUANTILES:
            exact = exact_quantile(values, q)
            estimate = histogram.quantile(q)
            assert abs(estimate - exact) <= TOLERANCE * exact, (kind, size, q, exact, estimate)


def test_the_error_bound_is_tight_but_never_exceeded_at_bucket_edges() -> None:
    # Values just inside each edge of a bucket are the worst case: the representative sits between them.
    worst = 0.0
    for index in range(0, 700, 7):
        for value in (GAMMA ** (index - 1) * (1 + 1e-12), GAMMA**index):
            if not MIN_TRACKED <= value <= MAX_TRACKED:
                continue
            assert abs(representative(bucket_index(value)) - value) <= TOLERANCE * value
            # A lone value reads back exactly (min and max clamp it); pair it with its bucket's far end instead.
            other = GAMMA ** (bucket_index(value) - 1) * (1 + 1e-9) if value == GAMMA**index else GAMMA**index
            histogram = filled([value, other, value])
            estimate = histogram.quantile(0.5)
            worst = max(worst, abs(estimate - value) / value)
            assert abs(estimate - value) <= TOLERANCE * value
    assert worst > RELATIVE_ACCURACY * 0.9  # the bound is the real one, not a loose upper limit


def test_bucket_boundaries_follow_the_mapping() -> None:
    for index in range(1, 750, 13):
        upper = GAMMA**index
        assert bucket_index(upper) == index
        assert bucket_index(upper * (1 + 1e-9)) == index + 1
    assert bucket_index(MIN_TRACKED) == 0


def test_empty_histogram() -> None:
    histogram = Histogram()
    assert histogram.quantile(0.5) is None
    assert histogram.mean is None
    assert histogram.count == 0
    assert Histogram.from_json(histogram.to_json()) == histogram


def test_values_below_and_above_the_tracked_range() -> None:
    histogram = filled([0.0, 0.4, 0.9])
    assert histogram.zero_count == 3
    assert histogram.quantile(0.0) == 0.0  # the exact minimum
    assert histogram.quantile(1.0) == 0.9  # the exact maximum
    assert abs(histogram.quantile(0.5) - 0.4) < 1  # absolute error below 1 unit
    big = filled([MAX_TRACKED * 5, MAX_TRACKED * 10])
    assert big.buckets() == {bucket_index(MAX_TRACKED): 2}
    assert big.quantile(1.0) == MAX_TRACKED * 10
    assert big.quantile(0.0) <= MAX_TRACKED * 5


def test_mean_is_exact_to_a_thousandth() -> None:
    rng = random.Random(3)
    values = [round(rng.uniform(0, 10_000), 3) for _ in range(2000)]
    assert filled(values).mean == pytest.approx(sum(values) / len(values), abs=1e-9)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, -0.001, True, "12", None])
def test_add_refuses_values_that_are_not_finite_non_negative_numbers(value: object) -> None:
    with pytest.raises(ValueError):
        Histogram().add(value)  # type: ignore[arg-type]


def test_add_with_times_counts_repeats() -> None:
    once = filled([250.0] * 4)
    histogram = Histogram()
    histogram.add(250.0, 4)
    assert histogram == once
    with pytest.raises(ValueError):
        histogram.add(250.0, 0)


def test_merge_is_associative_and_commutative_and_equals_one_histogram_of_everything() -> None:
    rng = random.Random(11)
    parts = [samples(rng, "lognormal", rng.randint(0, 400)) + [0.2] * rng.randint(0, 3) for _ in range(6)]
    a, b, c = filled(parts[0]), filled(parts[1]), filled(parts[2])
    assert a.merged(b).merged(c) == a.merged(b.merged(c))
    assert a.merged(b) == b.merged(a)
    everything = filled([value for part in parts for value in part])
    assert merge_all(filled(part) for part in parts) == everything
    assert merge_all(reversed([filled(part) for part in parts])) == everything
    # Merging never changes the inputs.
    before = a.to_json()
    a.merged(b)
    assert a.to_json() == before


def test_merged_quantiles_stay_within_the_error_of_the_union() -> None:
    rng = random.Random(5)
    parts = [samples(rng, "bimodal", 300) for _ in range(24)]
    merged = merge_all(filled(part) for part in parts)
    union = [value for part in parts for value in part]
    for q in (0.5, 0.95):
        exact = exact_quantile(union, q)
        assert abs(merged.quantile(q) - exact) <= TOLERANCE * exact


def test_json_is_sparse_round_trips_and_is_bounded() -> None:
    histogram = filled([120.0, 121.0, 4000.0])
    data = histogram.to_json()
    assert data["n"] == 3 and data["z"] == 0 and data["lo"] == 120.0 and data["hi"] == 4000.0
    assert len(data["b"]) == 2  # 120 and 121 share a bucket: only non-empty buckets are stored
    assert Histogram.from_json(json.loads(json.dumps(data))) == histogram
    # Every bucket of the range used at once is still a small document.
    full = Histogram()
    value = MIN_TRACKED
    while value <= MAX_TRACKED:
        full.add(value)
        value *= GAMMA
    full.add(0.5)
    full.add(MAX_TRACKED * 100)
    assert len(full.buckets()) + 1 <= MAX_BUCKETS
    assert len(json.dumps(full.to_json())) < 16_000


@pytest.mark.parametrize(
    "data",
    [
        None,
        {},
        {"m": 2, "n": 0, "z": 0, "s": 0, "lo": None, "hi": None, "b": []},
        {"m": 1, "n": 2, "z": 0, "s": 0, "lo": 1.0, "hi": 1.0, "b": [[3, 1]]},  # count mismatch
        {"m": 1, "n": 1, "z": 0, "s": 0, "lo": 1.0, "hi": 1.0, "b": [[100_000, 1]]},  # out of range
        {"m": 1, "n": 2, "z": 0, "s": 0, "lo": 1.0, "hi": 1.0, "b": [[3, 1], [3, 1]]},  # repeated
        {"m": 1, "n": 1, "z": 0, "s": 0, "lo": 1.0, "hi": 1.0, "b": [[-1, 1]]},
        {"m": 1, "n": 1, "z": 0, "s": -5, "lo": 1.0, "hi": 1.0, "b": [[0, 1]]},
        {"m": 1, "n": 0, "z": 0, "s": 0, "lo": 1.0, "hi": None, "b": []},  # min on an empty histogram
        {"m": 1, "n": 1, "z": 0, "s": 0, "lo": "x", "hi": 1.0, "b": [[0, 1]]},
    ],
)
def test_from_json_refuses_malformed_forms(data: object) -> None:
    with pytest.raises(ValueError):
        Histogram.from_json(data)


def test_quantile_refuses_q_outside_zero_one() -> None:
    with pytest.raises(ValueError):
        filled([1.0]).quantile(1.5)
