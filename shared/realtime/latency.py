"""A mergeable latency summary across stats reports: fixed log-scale buckets with a documented error.

Each value (a report's `averageLatencyMs`) lands in bucket i = ceil(log_γ(value)) with γ = (1 + α) / (1 − α)
and α = RELATIVE_ACCURACY (1 %). A bucket is read back as 2·γ^i / (γ + 1), which is within α of every value
the bucket holds (relative error). So for any q, `quantile(q)` is within 1 % of the value at rank
floor(q · (n − 1)) of all n values added (0-based, ascending) — p50 and p95 included; the lowest and highest
ranks are exact. Count, sum, mean, min and
max are exact. Values below MIN_VALUE_MS count as 0 exactly; values above MAX_VALUE_MS (one hour) count as
one hour, because a stats report is bounded by the call it describes.

Buckets are fixed (not data-dependent), so merging two summaries — two sessions, two days, two instances —
is adding bucket counts, and the merged quantiles carry the same 1 % bound as if every value had been added
to one summary. The stored form is a small JSON object (`to_dict` / `from_dict`): a session's reports fill a
few dozen buckets, and the whole range has at most ~1,000.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.platform.errors import BadRequest

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
MIN_VALUE_MS = 0.01
MAX_VALUE_MS = 3_600_000.0
FORMAT_VERSION = 1
_INVALID = "validation_error"


def _index(value: float) -> int:
    return math.ceil(math.log(value) / _LOG_GAMMA)


def _bucket_value(index: int) -> float:
    return 2 * GAMMA**index / (GAMMA + 1)


MIN_INDEX = _index(MIN_VALUE_MS)
MAX_INDEX = _index(MAX_VALUE_MS)


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Count, sum, min, max and log-scale bucket counts of latency values in milliseconds; immutable."""

    count: int = 0
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    zero_count: int = 0
    buckets: Mapping[int, int] = field(default_factory=dict)

    def add(self, value_ms: float) -> LatencySummary:
        """A summary with one more value (BadRequest for a negative or non-finite value)."""
        return self.add_many((value_ms,))

    def add_many(self, values_ms: Iterable[float]) -> LatencySummary:
        """A summary with every value added."""
        buckets = dict(self.buckets)
        count, total, zero_count = self.count, self.total, self.zero_count
        low, high = self.minimum, self.maximum
        for raw in values_ms:
            if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw < 0:
                raise BadRequest(
                    "A latency must be a finite number of milliseconds, 0 or more", code="validation_error"
                )
            value = min(float(raw), MAX_VALUE_MS)
            if value < MIN_VALUE_MS:
                value = 0.0
                zero_count += 1
            else:
                index = _index(value)
                buckets[index] = buckets.get(index, 0) + 1
            count += 1
            total += value
            low = value if low is None else min(low, value)
            high = value if high is None else max(high, value)
        return LatencySummary(count, total, low, high, zero_count, buckets)

    def add_report(self, report: Mapping[str, Any]) -> LatencySummary:
        """A summary with a stats report's `averageLatencyMs` added (unchanged when the report has none)."""
        value = report.get("averageLatencyMs")
        return self if value is None else self.add(value)

    def merge(self, other: LatencySummary) -> LatencySummary:
        """The summary of both summaries' values together."""
        buckets = dict(self.buckets)
        for index, number in other.buckets.items():
            buckets[index] = buckets.get(index, 0) + number
        lows = [value for value in (self.minimum, other.minimum) if value is not None]
        highs = [value for value in (self.maximum, other.maximum) if value is not None]
        return LatencySummary(
            count=self.count + other.count,
            total=self.total + other.total,
            minimum=min(lows) if lows else None,
            maximum=max(highs) if highs else None,
            zero_count=self.zero_count + other.zero_count,
            buckets=buckets,
        )

    @property
    def mean(self) -> float | None:
        """The exact mean, or None when empty."""
        return self.total / self.count if self.count else None

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0 ≤ q ≤ 1) within 1 % of the value at rank floor(q·(n−1)); None when empty."""
        if not 0 <= q <= 1:
            raise ValueError("q must be between 0 and 1")
        if not self.count:
            return None
        rank = math.floor(q * (self.count - 1))
        # The extremes are kept exactly, so the lowest and highest ranks need no estimate.
        if rank == 0:
            return self.minimum
        if rank == self.count - 1:
            return self.maximum
        seen = self.zero_count
        if rank < seen:
            return 0.0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if rank < seen:
                # Clamping to the exact extremes only moves the estimate toward the true value.
                return min(max(_bucket_value(index), self.minimum), self.maximum)
        return self.maximum

    @property
    def p50(self) -> float | None:
        """The median, within 1 %."""
        return self.quantile(0.5)

    @property
    def p95(self) -> float | None:
        """The 95th percentile, within 1 %."""
        return self.quantile(0.95)

    def to_dict(self) -> dict[str, Any]:
        """The stored JSON form (bucket indices as string keys)."""
        return {
            "version": FORMAT_VERSION,
            "relativeAccuracy": RELATIVE_ACCURACY,
            "count": self.count,
            "sum": self.total,
            "min": self.minimum,
            "max": self.maximum,
            "zeroCount": self.zero_count,
            "buckets": {str(index): number for index, number in sorted(self.buckets.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> LatencySummary:
        """Read a stored summary back (None or {} is empty); ValueError for anything inconsistent."""
        if not data:
            return cls()
        if data.get("version") != FORMAT_VERSION or data.get("relativeAccuracy") != RELATIVE_ACCURACY:
            raise ValueError("a latency summary of another format or accuracy cannot be read or merged")
        raw_buckets = data.get("buckets") or {}
        if not isinstance(raw_buckets, Mapping):
            raise ValueError("latency buckets must be an object")
        buckets: dict[int, int] = {}
        for key, number in raw_buckets.items():
            index = int(key)
            if not MIN_INDEX <= index <= MAX_INDEX or not _count(number) or number == 0:
                raise ValueError(f"latency bucket {key!r} is out of range")
            buckets[index] = number
        count, zero_count, total = data.get("count"), data.get("zeroCount"), data.get("sum")
        if not _count(count) or not _count(zero_count) or count != zero_count + sum(buckets.values()):
            raise ValueError("latency counts do not add up")
        if not isinstance(total, int | float) or not math.isfinite(total) or total < 0:
            raise ValueError("latency sum must be a finite number")
        low, high = data.get("min"), data.get("max")
        if count and not (_bound(low) and _bound(high) and low <= high):
            raise ValueError("latency min and max must be set for a non-empty summary")
        return cls(count, float(total), low if count else None, high if count else None, zero_count, buckets)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _bound(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_VALUE_MS
