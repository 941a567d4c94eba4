"""The latency summary: quantiles within the documented 1 %, exact merges, and a stored form that round-trips."""

from __future__ import annotations

import json
import math
import random

import pytest

from shared.platform.errors import BadRequest
from shared.realtime.latency import (
    MAX_INDEX,
    MAX_VALUE_MS,
    MIN_INDEX,
    MIN_VALUE_MS,
    RELATIVE_ACCURACY,
    LatencySummary,
)

QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)
# Float rounding at a bucket's exact edge may add a hair to the bound.
TOLERANCE = RELATIVE_ACCURACY + 1e-9


def exact(values: list[float], q: float) -> float:
    """The documented reference: the value at rank floor(q·(n−1)) of the sorted values."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def distributions() -> dict[str, list[float]]:
    rng = random.Random(20261128)
    return {
        "lognormal": [rng.lognormvariate(math.log(350), 0.6) for _ in range(5000)],
        "uniform": [rng.uniform(40, 2500) for _ in range(3000)],
        "bimodal": [rng.gauss(180, 15) if rng.random() < 0.8 else rng.gauss(1400, 200) for _ in range(4000)],
        "tiny-and-huge": [rng.choice([0.0, 0.005, 0.02, 1.0, 90_000.0, 3_000_000.0]) for _ in range(600)],
        "few": [812.0, 95.5, 240.25],
        "one": [123.4],
    }


@pytest.mark.parametrize("name", list(distributions()))
def test_quantiles_are_within_the_documented_relative_error(name):
    values = [max(0.0, value) for value in distributions()[name]]
    summary = LatencySummary().add_many(values)
    stored = [0.0 if value < MIN_VALUE_MS else value for value in values]
    for q in QUANTILES:
        truth = exact(stored, q)
        estimate = summary.quantile(q)
        assert abs(estimate - truth) <= TOLERANCE * truth, (name, q, estimate, truth)
    assert summary.p50 == summary.quantile(0.5) and summary.p95 == summary.quantile(0.95)


def test_count_sum_mean_min_max_are_exact():
    values = [12.5, 300.0, 47.25, 0.0, 1999.0]
    summary = LatencySummary().add_many(values)
    assert (summary.count, summary.minimum, summary.maximum) == (5, 0.0, 1999.0)
    assert summary.total == pytest.approx(sum(values))
    assert summary.mean == pytest.approx(sum(values) / 5)
    assert (summary.quantile(0), summary.quantile(1)) == (0.0, 1999.0)


def test_a_coarser_check_would_fail_so_the_bound_is_not_vacuous():
    # One value per bucket edge region: the estimate is not the value itself, only within 1 % of it.
    summary = LatencySummary().add_many([100.0, 101.0, 102.0, 103.0, 104.0])
    assert summary.quantile(0.5) != 102.0
    assert abs(summary.quantile(0.5) - 102.0) <= TOLERANCE * 102.0


def test_merging_equals_adding_everything_to_one_summary():
    values = distributions()["lognormal"]
    parts = [values[i::7] for i in range(7)]
    merged = LatencySummary()
    for part in parts:
        merged = merged.merge(LatencySummary().add_many(part))
    whole = LatencySummary().add_many(values)
    assert dict(merged.buckets) == dict(whole.buckets)
    assert (merged.count, merged.minimum, merged.maximum) == (whole.count, whole.minimum, whole.maximum)
    assert merged.total == pytest.approx(whole.total)
    for q in QUANTILES:
        assert merged.quantile(q) == whole.quantile(q)


def test_merge_is_commutative_and_keeps_empty_neutral():
    a = LatencySummary().add_many([5.0, 700.0])
    b = LatencySummary().add_many([0.0, 33.0, 9000.0])
    assert a.merge(b).to_dict() == b.merge(a).to_dict()
    assert a.merge(LatencySummary()).to_dict() == a.to_dict()
    assert LatencySummary().merge(a).to_dict() == a.to_dict()


def test_adding_returns_a_new_summary():
    empty = LatencySummary()
    one = empty.add(250.0)
    assert (empty.count, one.count) == (0, 1)
    assert dict(empty.buckets) == {}


def test_values_below_the_floor_count_as_zero_and_above_the_ceiling_as_an_hour():
    summary = LatencySummary().add_many([0.001, 10 * MAX_VALUE_MS])
    assert summary.zero_count == 1
    assert (summary.minimum, summary.maximum) == (0.0, MAX_VALUE_MS)
    assert summary.quantile(1) == MAX_VALUE_MS


def test_an_empty_summary_has_no_quantiles():
    empty = LatencySummary()
    assert (empty.p50, empty.p95, empty.mean) == (None, None, None)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), True, "12"])
def test_bad_values_are_refused(bad):
    with pytest.raises(BadRequest):
        LatencySummary().add(bad)


def test_q_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError):
        LatencySummary().add(1.0).quantile(1.5)


def test_the_stored_form_round_trips_through_json():
    summary = LatencySummary().add_many(distributions()["bimodal"] + [0.0])
    restored = LatencySummary.from_dict(json.loads(json.dumps(summary.to_dict())))
    assert restored == summary
    assert LatencySummary.from_dict(None) == LatencySummary() == LatencySummary.from_dict({})


def test_the_whole_range_needs_about_a_thousand_buckets_at_most():
    assert MAX_INDEX - MIN_INDEX + 1 <= 1100
    summary = LatencySummary().add_many(distributions()["lognormal"])
    assert len(summary.buckets) < 200


@pytest.mark.parametrize(
    "corrupt",
    [
        {"relativeAccuracy": 0.02},
        {"count": 99},
        {"buckets": {"99999": 1}},
        {"buckets": {"10": -1}},
        {"sum": float("nan")},
        {"min": None},
        {"version": 2},
    ],
)
def test_an_inconsistent_stored_form_is_refused(corrupt):
    data = {**LatencySummary().add_many([10.0, 20.0]).to_dict(), **corrupt}
    with pytest.raises(ValueError):
        LatencySummary.from_dict(data)


def test_stats_reports_feed_their_average_latency():
    reports = [
        {"sessionId": "rt-1", "transportMode": "BROWSER_REALTIME", "uptime": 5, "utteranceCount": 1, "lastActivity": 5},
        {
            "sessionId": "rt-1",
            "transportMode": "BROWSER_REALTIME",
            "uptime": 10,
            "utteranceCount": 2,
            "lastActivity": 10,
            "averageLatencyMs": 420.0,
        },
        {
            "sessionId": "rt-1",
            "transportMode": "BROWSER_REALTIME",
            "uptime": 15,
            "utteranceCount": 3,
            "lastActivity": 15,
            "averageLatencyMs": 380.0,
        },
    ]
    summary = LatencySummary()
    for report in reports:
        summary = summary.add_report(report)
    assert (summary.count, summary.minimum, summary.maximum) == (2, 380.0, 420.0)
