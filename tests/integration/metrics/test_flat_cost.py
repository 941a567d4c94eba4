"""A metrics request costs the same store calls for a tenant with 100 sessions as for one with 10,000.

Creating 10,000 sessions over HTTP would take far too long, so the rollup documents those sessions produce are
computed with `rollups.rebuild` (what live `apply` calls produce, event by event) and stored directly; the
requests then go through the whole HTTP path with the store meter on.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta

from shared.metrics import rollups, views
from shared.metrics import service as metrics
from shared.metrics.models import MetricEvent
from shared.platform import clock
from shared.platform.store import metering
from tests.support.identity import new_tenant_id

SCENARIOS = ("legal-pi-intake", "banking-lost-card", "dental-recall-booking", "insurance-fnol")
REQUESTS = (
    ("/api/cp/metrics", {}),
    ("/api/cp/metrics/overview", {}),
    ("/api/cp/metrics/summary", {}),
    ("/api/cp/metrics/trends", {"window": "24h"}),
    ("/api/cp/metrics/trends", {"window": "7d"}),
    ("/api/cp/metrics/trends", {"window": "30d"}),
    ("/api/cp/metrics/scenario-health", {}),
    ("/api/cp/metrics/pipeline", {}),
    ("/api/cp/metrics/scenarios", {}),
)


def session_events(tenant: str, sessions: int, seed: int) -> list[MetricEvent]:
    """Each session starts within the last 30 days, makes a tool call, reports latency and is finalized."""
    rng = random.Random(seed)
    now = clock.utc_now()
    events = []
    for index in range(sessions):
        sid, scenario = f"{tenant}-{index}", rng.choice(SCENARIOS)
        at = now - timedelta(seconds=rng.randint(60, 30 * 86_400))
        common = {"tenantId": tenant, "sessionId": sid, "scenarioId": scenario}
        events += [
            MetricEvent(id=f"session.started:{sid}", kind="session.started", occurredAt=at, **common),
            MetricEvent(
                id=f"tool.executed:{sid}", kind="tool.executed", occurredAt=at, toolName="x", ok=True, **common
            ),
            MetricEvent(
                id=f"realtime.latency:{sid}",
                kind="realtime.latency",
                occurredAt=at,
                latencyMs=rng.uniform(80, 900),
                **common,
            ),
            MetricEvent(
                id=f"session.finalized:{sid}",
                kind="session.finalized",
                occurredAt=min(at + timedelta(minutes=4), now),
                outcome=rng.choice(("success", "failure", "other")),
                durationSeconds=rng.randint(30, 600),
                costUsd=0.05,
                **common,
            ),
        ]
    return events


def store_rollups(tenant: str, events: list[MetricEvent]) -> None:
    """Store the documents the views read, as live recording would have left them."""
    now = clock.utc_now()
    wanted = {*views.summary_keys(now), *views.trends_keys("30d", now), *views.pipeline_keys(now)}
    by_key: dict[rollups.RollupKey, list[MetricEvent]] = {key: [] for key in wanted}
    for event in events:
        for key in rollups.keys_for_event(event):
            if key in by_key:
                by_key[key].append(event)
    for key, key_events in by_key.items():
        if key_events:
            metrics.rollup_store.upsert(rollups.rebuild(tenant, key, key_events, now=now))


def costs(client, operator: dict) -> tuple[list[int], list[float]]:
    calls, timings = [], []
    for path, params in REQUESTS:
        started = time.perf_counter()
        response = client.get(path, params=params, headers=operator)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
        recorded = metering.recorded(response.headers["x-correlation-id"])
        assert recorded is not None
        calls.append(recorded[1].calls)
    return calls, timings


def test_the_store_calls_of_a_metrics_request_stay_flat_from_100_to_10000_sessions(client, tokens):
    small, large = new_tenant_id("flat"), new_tenant_id("flat")
    store_rollups(small, session_events(small, 100, seed=1))
    store_rollups(large, session_events(large, 10_000, seed=2))
    small_operator, large_operator = tokens.headers(small, "operator"), tokens.headers(large, "operator")
    # The figures are really those of 100 and 10,000 sessions.
    assert client.get("/api/cp/metrics", headers=small_operator).json()["totalSessions"] == 100
    assert client.get("/api/cp/metrics", headers=large_operator).json()["totalSessions"] == 10_000

    small_calls, small_ms = costs(client, small_operator)
    large_calls, large_ms = costs(client, large_operator)
    assert small_calls == large_calls == [1] * len(REQUESTS)
    print(  # the measured latencies, for the record (pytest -s)
        "metrics request ms (100 / 10,000 sessions):",
        {
            path + (f"?{params['window']}" if params else ""): (round(a), round(b))
            for (path, params), a, b in zip(REQUESTS, small_ms, large_ms, strict=True)
        },
    )
