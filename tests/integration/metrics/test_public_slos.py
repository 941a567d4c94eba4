"""GET /api/public/slos: a precomputed snapshot across tenants, percentiles within the documented error, cacheable."""

from __future__ import annotations

import math
import random

from shared.metrics import service as metrics
from shared.metrics.histogram import RELATIVE_ACCURACY, quantile_rank
from shared.metrics.models import MetricEvent
from shared.platform import clock
from tests.conftest import reset_clients
from tests.support.identity import new_tenant_id

SLOS = "/api/public/slos"
# A public (proof) scenario no other test reports on, and a hidden one that must never be listed.
SCENARIO = "vet-after-hours-triage"
HIDDEN = "sales-after-hours-overflow"


def latency_events(tenant: str, scenario: str, values: list[float]) -> list[MetricEvent]:
    now = clock.utc_now()
    return [
        MetricEvent(
            id=f"realtime.latency:{tenant}:{scenario}:{index}",
            kind="realtime.latency",
            tenantId=tenant,
            occurredAt=now,
            sessionId=f"{tenant}-s{index % 7}",
            scenarioId=scenario,
            latencyMs=value,
        )
        for index, value in enumerate(values)
    ]


def outcomes(tenant: str, successes: int, failures: int, tools_ok: int, tools_failed: int) -> list[MetricEvent]:
    now = clock.utc_now()
    events = []
    for index in range(successes + failures):
        events.append(
            MetricEvent(
                id=f"session.finalized:{tenant}-f{index}",
                kind="session.finalized",
                tenantId=tenant,
                occurredAt=now,
                sessionId=f"{tenant}-f{index}",
                scenarioId=SCENARIO,
                outcome="success" if index < successes else "failure",
                durationSeconds=60,
            )
        )
    for index in range(tools_ok + tools_failed):
        events.append(
            MetricEvent(
                id=f"tool.executed:{tenant}-t{index}",
                kind="tool.executed",
                tenantId=tenant,
                occurredAt=now,
                sessionId=f"{tenant}-f0",
                scenarioId=SCENARIO,
                toolName="check_availability",
                ok=index < tools_ok,
            )
        )
    return events


def exact_quantile(values: list[float], q: float) -> float:
    return sorted(values)[quantile_rank(q, len(values))]


def test_the_snapshot_is_computed_by_its_timer_and_served_with_an_etag(client, devhost, tokens):
    metrics.slo_store.delete(metrics.slo_store.CURRENT, metrics.slo_store.CURRENT)
    pending = client.get(SLOS)
    assert pending.status_code == 503 and pending.json()["error"] == "slo_snapshot_pending"

    rng = random.Random(11)
    first, second = new_tenant_id("slo"), new_tenant_id("slo")
    samples = {first: [round(rng.lognormvariate(6.2, 0.7), 3) for _ in range(300)]}
    samples[second] = [round(rng.lognormvariate(5.6, 0.4), 3) for _ in range(211)]
    for tenant, values in samples.items():
        metrics.apply(latency_events(tenant, SCENARIO, values))
    metrics.apply(outcomes(first, successes=5, failures=2, tools_ok=8, tools_failed=1))
    metrics.apply(outcomes(second, successes=2, failures=1, tools_ok=1, tools_failed=0))
    metrics.apply(latency_events(first, HIDDEN, [10.0, 20.0]))

    devhost.fire_timer("refresh_public_slos")
    response = client.get(SLOS)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    body = response.json()
    assert first not in response.text and second not in response.text  # no tenant appears
    rows = {row["slug"]: row for row in body["scenarios"]}
    assert HIDDEN not in rows and all(row["periodDays"] == 30 for row in rows.values())
    row = rows[SCENARIO]
    everything = samples[first] + samples[second]
    for name, q in (("latencyP50Ms", 0.5), ("latencyP95Ms", 0.95)):
        exact = exact_quantile(everything, q)
        # Within the histogram's 1 % of the exact nearest-rank value, plus the 0.05 ms of rounding to 0.1.
        assert math.isclose(row[name], exact, rel_tol=RELATIVE_ACCURACY, abs_tol=0.05 + 1e-9), (name, row[name], exact)
    assert row["sampleSize"] == 10
    assert row["successRate"] == round(7 / 10, 4)
    assert row["toolCallSuccessRate"] == round(9 / 10, 4)
    # A scenario with no observation is listed with sample size 0, not hidden and not flattered.
    quiet = rows["banking-card-dispute-in"]
    assert (quiet["sampleSize"], quiet["latencyP95Ms"], quiet["successRate"]) == (0, 0, 0)

    # The dashboard's mean latency (every scenario of the tenant) is exact, to 0.1 ms.
    summary = client.get("/api/cp/metrics/summary", headers=tokens.headers(first, "operator")).json()
    tenant_samples = [*samples[first], 10.0, 20.0]
    assert summary["avgLatencyMs"] == round(sum(tenant_samples) / len(tenant_samples), 1)

    etag = response.headers["etag"]
    cached = client.get(SLOS, headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == etag
    # Each refresh is a new snapshot (its generatedAt), so the old validator no longer matches.
    devhost.fire_timer("refresh_public_slos")
    assert client.get(SLOS, headers={"If-None-Match": etag}).status_code == 200


def test_the_snapshot_is_rate_limited_per_client(client, settings_env):
    settings_env.setenv("RATE_LIMITS", "get_public_s_l_os=3/60")
    reset_clients()
    metrics.refresh_public_slos()
    assert [client.get(SLOS).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get(SLOS)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
