"""A mergeable latency histogram with fixed log-scale buckets (the DDSketch mapping, without a library).

Buckets. Bucket `i` holds the values in (γ^(i-1), γ^i] with γ = (1 + α) / (1 - α) and α = RELATIVE_ACCURACY (1 %).
Its representative value is 2·γ^i / (γ + 1), which is within α (relative) of every value in the bucket. The
mapping is fixed (MAPPING_VERSION 1): every histogram ever stored uses the same boundaries, so any two merge by
adding their bucket counts, exactly (integers), associatively and commutatively.

Range. Tracked values are [MIN_TRACKED, MAX_TRACKED] = [1, 3 600 000] (1 ms .. 1 h when the unit is ms): at most
MAX_BUCKETS (757) buckets, so a histogram's JSON stays a few KB whatever the traffic. Values below 1 are counted in
a zero bucket (read back as 0); values above 1 h are counted in the last bucket.

Quantiles. `quantile(q)` estimates the lower nearest-rank quantile: the element at index floor(q · (n - 1)) of the
sorted sample. For such an element x in the tracked range the estimate e satisfies |e - x| ≤ α·x (plus float
rounding); the estimate is clamped to the exact min and max, which only brings it closer, and the first and last
ranks read the exact min and max. Below 1 the error is absolute and < 1; above 1 h it is unbounded (the
estimate is at most the exact max).

The mean is exact to 1/1000 of the unit: the sum is kept as an integer count of thousandths so merges stay exact.

JSON (sparse, for a Cosmos document): {"m": 1, "n": count, "z": zero-bucket count, "s": sum in thousandths,
"lo": min, "hi": max, "b": [[bucket index, count], ...] ascending, only non-empty buckets}.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
MIN_TRACKED = 1.0
MAX_TRACKED = 3_600_000.0
MAPPING_VERSION = 1
SUM_SCALE = 1000  # the sum is kept in thousandths of the unit

_LOG_GAMMA = math.log(GAMMA)


def bucket_index(value: float) -> int:
    """The bucket of a tracked value (MIN_TRACKED <= value <= MAX_TRACKED): the i with γ^(i-1) < value <= γ^i."""
    index = math.ceil(math.log(value) / _LOG_GAMMA)
    # log() rounding can land one bucket off at a boundary; the boundaries are defined by pow(), so settle on them.
    if GAMMA ** (index - 1) >= value:
        index -= 1
    elif GAMMA**index < value:
        index += 1
    return index


MAX_INDEX = bucket_index(MAX_TRACKED)
MAX_BUCKETS = MAX_INDEX + 2  # indices 0..MAX_INDEX plus the zero bucket


def representative(index: int) -> float:
    """The value a bucket reads back as: within α of every value the bucket holds."""
    return 2 * GAMMA**index / (GAMMA + 1)


def quantile_rank(q: float, count: int) -> int:
    """The 0-based index, in the sorted sample, of the element the q-quantile estimates (lower nearest rank)."""
    return math.floor(q * (count - 1))


class Histogram:
    """Counts of values in fixed log-scale buckets, with exact count, sum (to 1/1000), min and max."""

    __slots__ = ("_buckets", "count", "maximum", "minimum", "sum_thousandths", "zero_count")

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self.zero_count = 0
        self.count = 0
        self.sum_thousandths = 0
        self.minimum: float | None = None
        self.maximum: float | None = None

    def add(self, value: float, times: int = 1) -> None:
        """Count `value` (finite, >= 0) `times` times; ValueError otherwise."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValueError("a histogram value must be a finite number >= 0")
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError("times must be a positive integer")
        value = float(value)
        if value < MIN_TRACKED:
            self.zero_count += times
        else:
            index = bucket_index(min(value, MAX_TRACKED))
            self._buckets[index] = self._buckets.get(index, 0) + times
        self.count += times
        self.sum_thousandths += round(value * SUM_SCALE) * times
        self.minimum = value if self.minimum is None else min(self.minimum, value)
        self.maximum = value if self.maximum is None else max(self.maximum, value)

    def update(self, other: Histogram) -> None:
        """Merge `other` into this histogram (bucket counts add)."""
        for index, times in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0) + times
        self.zero_count += other.zero_count
        self.count += other.count
        self.sum_thousandths += other.sum_thousandths
        if other.minimum is not None:
            self.minimum = other.minimum if self.minimum is None else min(self.minimum, other.minimum)
        if other.maximum is not None:
            self.maximum = other.maximum if self.maximum is None else max(self.maximum, other.maximum)

    def merged(self, other: Histogram) -> Histogram:
        """A new histogram holding both this one's and `other`'s values."""
        result = Histogram()
        result.update(self)
        result.update(other)
        return result

    @property
    def mean(self) -> float | None:
        """The mean of the values (exact to 1/1000), or None when empty."""
        return None if self.count == 0 else self.sum_thousandths / SUM_SCALE / self.count

    def quantile(self, q: float) -> float | None:
        """The estimated q-quantile (0 <= q <= 1, lower nearest rank) within RELATIVE_ACCURACY; None when empty."""
        if not isinstance(q, int | float) or not 0 <= q <= 1:
            raise ValueError("q must be within [0, 1]")
        if self.count == 0:
            return None
        rank = quantile_rank(q, self.count)
        if rank == 0:
            return self.minimum
        if rank == self.count - 1:
            return self.maximum
        seen = self.zero_count
        estimate = 0.0
        if seen <= rank:
            for index in sorted(self._buckets):
                seen += self._buckets[index]
                if seen > rank:
                    estimate = representative(index)
                    break
        # The exact extremes bound every element, so clamping never moves the estimate away from the true value.
        return min(max(estimate, self.minimum), self.maximum)

    def buckets(self) -> dict[int, int]:
        """The non-empty buckets: index -> count (the zero bucket is `zero_count`)."""
        return dict(self._buckets)

    def to_json(self) -> dict[str, Any]:
        """The compact, sparse JSON form stored in rollup documents."""
        return {
            "m": MAPPING_VERSION,
            "n": self.count,
            "z": self.zero_count,
            "s": self.sum_thousandths,
            "lo": self.minimum,
            "hi": self.maximum,
            "b": [[index, self._buckets[index]] for index in sorted(self._buckets)],
        }

    @classmethod
    def from_json(cls, data: Any) -> Histogram:
        """A histogram from its JSON form; ValueError when the form is malformed or of another mapping."""
        if not isinstance(data, dict) or data.get("m") != MAPPING_VERSION:
            raise ValueError("not a histogram of mapping version 1")
        histogram = cls()
        histogram.count = _count(data.get("n"), "n")
        histogram.zero_count = _count(data.get("z", 0), "z")
        total = data.get("s", 0)
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError("histogram sum must be a non-negative integer")
        histogram.sum_thousandths = total
        pairs = data.get("b", [])
        if not isinstance(pairs, list) or len(pairs) > MAX_BUCKETS:
            raise ValueError("histogram buckets must be a bounded list")
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError("a histogram bucket is [index, count]")
            index, times = _count(pair[0], "bucket index"), _count(pair[1], "bucket count")
            if index > MAX_INDEX or times == 0 or index in histogram._buckets:
                raise ValueError("histogram bucket out of range, empty or repeated")
            histogram._buckets[index] = times
        if histogram.zero_count + sum(histogram._buckets.values()) != histogram.count:
            raise ValueError("histogram count does not match its buckets")
        histogram.minimum = _bound(data.get("lo"), histogram.count)
        histogram.maximum = _bound(data.get("hi"), histogram.count)
        return histogram

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and self.to_json() == other.to_json()

    __hash__ = None  # mutable


def merge_all(histograms: Iterable[Histogram]) -> Histogram:
    """One histogram holding the values of all of them."""
    result = Histogram()
    for histogram in histograms:
        result.update(histogram)
    return result


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"histogram {name} must be a non-negative integer")
    return value


def _bound(value: Any, count: int) -> float | None:
    if count == 0:
        if value is not None:
            raise ValueError("an empty histogram has no min or max")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError("histogram min and max must be finite numbers >= 0")
    return float(value)
