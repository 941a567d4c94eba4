"""Every Metrics view matches the contract's 200 schema and a recount from the raw events it was built from."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from shared.catalog import content
from shared.metrics import views
from shared.metrics.histogram import RELATIVE_ACCURACY
from shared.metrics.models import LEAD_STATUSES, LEAD_TIERS, PILOT_STATUSES, MetricEvent, TrendsQuery
from shared.metrics.rollups import day_key, hour_key, last_days, last_hours
from shared.platform.clock import iso
from tests.support.contract import load_contract, validate_schema
from tests.unit.metrics.events import Store, event, scripted

NOW = datetime(2025, 3, 3, 14, 25, 17, tzinfo=UTC)
START = NOW.replace(minute=0, second=0) - timedelta(days=32)


def schema(path: str) -> dict:
    operation = load_contract()["paths"][path]["get"]
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


def check(path: str, body: dict) -> dict:
    validate_schema(schema(path), json.loads(json.dumps(body)), path)
    return body


@pytest.fixture(scope="module")
def world() -> tuple[list[MetricEvent], Store]:
    items = [
        item
        for tenant, seed in (("t1", 1), ("t2", 2))
        for item in scripted(tenant, START, 33 * 24, seed, sessions_per_hour=2)
        if item.occurredAt <= NOW
    ]
    items.sort(key=lambda item: item.occurredAt)
    store = Store()
    store.apply_all(items)
    return items, store


def of(items: list[MetricEvent], tenant: str | None, kind: str, keys=None) -> list[MetricEvent]:
    """The events of a kind (of one tenant), optionally only those whose hour or day is among `keys`."""
    chosen = [item for item in items if item.kind == kind and (tenant is None or item.tenantId == tenant)]
    if keys is None:
        return chosen
    ids = {key.id for key in keys}
    return [item for item in chosen if not ids.isdisjoint(buckets(item))]


@cache
def buckets(item: MetricEvent) -> tuple[str, str]:
    """The hour and day document ids of an event (cached: the recounts ask often)."""
    return hour_key(item.occurredAt).id, day_key(item.occurredAt).id


def tool_error_pct(items: list[MetricEvent], tenant: str, keys) -> float | None:
    tools = of(items, tenant, "tool.executed", keys)
    return None if not tools else round(100 * sum(not item.ok for item in tools) / len(tools), 2)


def mean_latency(items: list[MetricEvent], tenant: str, keys) -> float | None:
    samples = [item.latencyMs for item in of(items, tenant, "realtime.latency", keys)]
    return None if not samples else sum(samples) / len(samples)


def near(value: float | None, places: int = 1):
    """What a view shows for `value` rounded to `places`: equal up to the rounding of nearly equal sums."""
    return None if value is None else pytest.approx(value, abs=10**-places)


def lead_states(items: list[MetricEvent], tenant: str) -> tuple[Counter, Counter]:
    statuses: dict[str, str] = {}
    tiers: dict[str, str | None] = {}
    for item in items:
        if item.tenantId != tenant or not item.kind.startswith("lead."):
            continue
        lead = item.id.split(":")[1]
        if item.status is not None:
            statuses[lead] = item.status
        if item.tier is not None or item.kind == "lead.created":
            tiers[lead] = item.tier
    return Counter(statuses.values()), Counter(tier for tier in tiers.values() if tier)


def pilot_states(items: list[MetricEvent], tenant: str) -> Counter:
    statuses = {item.id.split(":")[1]: item.status for item in of(items, tenant, "pilot.moved")}
    return Counter(statuses.values())


def test_the_world_has_data_in_every_window(world) -> None:
    items, _ = world
    assert of(items, "t1", "session.started", last_hours(NOW, 24))
    assert of(items, "t1", "realtime.latency", last_hours(NOW, 24))
    assert of(items, "t1", "lead.updated") and of(items, "t1", "pilot.moved") and of(items, "t1", "exception.resolved")


def test_dashboard(world) -> None:
    items, store = world
    body = check("/api/cp/metrics", views.dashboard(store.list("t1"), tenant_id="t1", now=NOW))
    recent = last_hours(NOW, 2)
    tools = of(items, "t1", "tool.executed", last_hours(NOW, 24))
    error_rate = sum(not item.ok for item in tools) / len(tools)
    assert body == {
        "success": True,
        "totalSessions": len(of(items, "t1", "session.started")),
        "activeSessions": max(
            0, len(of(items, "t1", "session.started", recent)) - len(of(items, "t1", "session.finalized", recent))
        ),
        "totalLeads": len(of(items, "t1", "lead.created")),
        "errorRate": round(error_rate, 4),
        "systemHealth": "healthy" if error_rate < 0.05 else "degraded" if error_rate < 0.5 else "down",
    }


def test_dashboard_health_words() -> None:
    store = Store()
    for number, ok in enumerate([True] * 9 + [False]):
        store.apply(event("tool.executed", f"x{number}", "t1", NOW, toolName="payment_reminder", ok=ok))
    assert views.dashboard(store.list(), tenant_id="t1", now=NOW)["systemHealth"] == "degraded"
    for number in range(10):
        store.apply(event("tool.executed", f"y{number}", "t1", NOW, toolName="payment_reminder", ok=False))
    assert views.dashboard(store.list(), tenant_id="t1", now=NOW)["systemHealth"] == "down"
    assert views.dashboard([], tenant_id="t1", now=NOW)["systemHealth"] == "healthy"


def test_overview(world) -> None:
    items, store = world
    body = check("/api/cp/metrics/overview", views.overview(store.list("t1"), tenant_id="t1", now=NOW))
    tools_ok = [item for item in of(items, "t1", "tool.executed") if item.ok]
    assert body == {
        "success": True,
        "tenantId": "t1",
        "generatedAt": "2025-03-03T14:25:17.000Z",
        "callsHandled": len(of(items, "t1", "session.finalized")),
        "leadsCaptured": len(of(items, "t1", "lead.created")),
        "activePilots": pilot_states(items, "t1")["active"],
        "bookingsRequested": len(of(items, "t1", "booking.requested")),
        "bookingsConfirmed": len(of(items, "t1", "booking.confirmed")),
        "documentsRequested": sum(item.toolName == "collect_documents_request" for item in tools_ok),
        "paymentsFollowedUp": sum(item.toolName == "payment_reminder" for item in tools_ok),
        "exceptionsOpen": len(of(items, "t1", "exception.opened")) - len(of(items, "t1", "exception.resolved")),
    }


def test_summary(world) -> None:
    items, store = world
    body = check("/api/cp/metrics/summary", views.summary(store.list("t1"), tenant_id="t1", now=NOW))
    hours = last_hours(NOW, 48)
    before, current = hours[:24], hours[24:]
    finalized = of(items, "t1", "session.finalized", current)
    costs = [item.costUsd for item in finalized if item.costUsd is not None]
    calls = len(of(items, "t1", "session.started", current))
    latency, latency_before = mean_latency(items, "t1", current), mean_latency(items, "t1", before)
    errors, errors_before = tool_error_pct(items, "t1", current), tool_error_pct(items, "t1", before)
    assert body == {
        "tenantId": "t1",
        "windowStart": "2025-03-02T15:00:00.000Z",
        "windowEnd": "2025-03-03T14:25:17.000Z",
        "callsToday": calls,
        "callsTodayDelta": calls - len(of(items, "t1", "session.started", before)),
        "avgLatencyMs": near(latency),
        "avgLatencyMsDelta": near(latency - latency_before),
        "errorRatePct": errors,
        "errorRatePctDelta": round(errors - errors_before, 2),
        "activeScenarios": len({item.scenarioId for item in of(items, "t1", "session.started", current)}),
        "cost24hUsd": pytest.approx(sum(costs), abs=1e-6),
        "leadsNew": len(of(items, "t1", "lead.created", current)),
        "leadsHot": sum(item.tier == "hot" for item in of(items, "t1", "lead.created", current))
        + sum(item.tier == "hot" and item.previousTier != "hot" for item in of(items, "t1", "lead.updated", current)),
        "pilotsActive": pilot_states(items, "t1")["active"],
        "pilotsConverted": sum(item.status == "converted" for item in of(items, "t1", "pilot.moved", current)),
    }


def test_summary_of_a_quiet_tenant_has_nulls_where_nothing_was_measured() -> None:
    body = check("/api/cp/metrics/summary", views.summary([], tenant_id="quiet", now=NOW))
    assert body["callsToday"] == 0 and body["callsTodayDelta"] == 0
    assert body["avgLatencyMs"] is None and body["avgLatencyMsDelta"] is None
    assert body["errorRatePct"] is None and body["errorRatePctDelta"] is None
    assert body["cost24hUsd"] == 0.0  # no session, nothing spent
    store = Store()
    store.apply(
        event("session.finalized", "f", "t1", NOW, scenarioId="healthcare-intake", outcome="other", durationSeconds=5)
    )
    assert views.summary(store.list(), tenant_id="t1", now=NOW)["cost24hUsd"] is None  # spent, amount unknown


@pytest.mark.parametrize("window, resolution, buckets", [("24h", "hour", 24), ("7d", "day", 7), ("30d", "day", 30)])
def test_trends(world, window: str, resolution: str, buckets: int) -> None:
    items, store = world
    body = check("/api/cp/metrics/trends", views.trends(store.list("t1"), tenant_id="t1", window=window, now=NOW))
    assert body["tenantId"] == "t1" and body["resolution"] == resolution
    keys = last_hours(NOW, buckets) if resolution == "hour" else last_days(NOW, buckets)
    series = body["series"]
    assert [point["t"] for point in series["callsByHour"]] == [iso(key.start) for key in keys]
    for index, key in enumerate(keys):
        started = of(items, "t1", "session.started", [key])
        assert series["callsByHour"][index]["value"] == len(started)
        assert series["latencyByHour"][index]["value"] == near(mean_latency(items, "t1", [key]))
        assert series["errorRateByHour"][index]["value"] == tool_error_pct(items, "t1", [key])
        assert series["activeScenariosByHour"][index]["value"] == len({item.scenarioId for item in started})


def test_scenario_health(world) -> None:
    items, store = world
    body = check("/api/cp/metrics/scenario-health", views.scenario_health(store.list("t1"), tenant_id="t1", now=NOW))
    catalog = content.scenarios()
    assert [row["scenarioId"] for row in body["rows"]] == list(catalog)
    hours = last_hours(NOW, 24)
    assert body["windowStart"] == iso(hours[0].start) and body["windowEnd"] == iso(NOW)
    for row in body["rows"]:
        sid = row["scenarioId"]
        assert row["scenarioTitle"] == catalog[sid]["title"] and row["industry"] == catalog[sid]["industry"]
        started = [item for item in of(items, "t1", "session.started", hours) if item.scenarioId == sid]
        finalized = [item for item in of(items, "t1", "session.finalized", hours) if item.scenarioId == sid]
        opened = [item for item in of(items, "t1", "exception.opened") if item.scenarioId == sid]
        resolved = [item for item in of(items, "t1", "exception.resolved") if item.scenarioId == sid]
        assert row["callsLast24h"] == len(started)
        assert row["exceptionsOpen"] == len(opened) - len(resolved)
        if finalized:
            successes = sum(item.outcome == "success" for item in finalized)
            assert row["completionRatePct"] == round(100 * successes / len(finalized), 2)
            mean = sum(round(item.durationSeconds * 1000) for item in finalized) / len(finalized) / 1000
            assert row["avgDurationSeconds"] == round(mean, 1)
        else:
            assert row["completionRatePct"] is None and row["avgDurationSeconds"] is None
        if not started and not finalized and row["exceptionsOpen"] == 0:
            assert row["status"] == "no_data"
        else:
            assert row["status"] in ("healthy", "degraded", "unhealthy")


def test_scenario_health_status_thresholds() -> None:
    store = Store()
    at = NOW - timedelta(minutes=5)

    def session(number: int, scenario: str, outcome: str) -> None:
        store.apply(event("session.started", f"s{scenario}{number}", "t1", at, scenarioId=scenario))
        store.apply(
            event(
                "session.finalized",
                f"f{scenario}{number}",
                "t1",
                at,
                scenarioId=scenario,
                outcome=outcome,
                durationSeconds=60,
            )
        )

    store.apply(event("exception.opened", "x1", "t1", at - timedelta(hours=3), scenarioId="quiet-but-open"))
    for number in range(10):
        session(number, "ok-scenario", "success")
        session(number, "shaky", "failure" if number < 3 else "success")  # 30 % failures
        session(number, "broken", "failure" if number < 6 else "success")  # 60 % failures
    store.apply(event("exception.opened", "x2", "t1", at - timedelta(days=3), scenarioId="late"), now=at)
    assert "late" not in store.docs[("t1", "total")]["scenarios"]  # past the replay horizon: left to reconciliation
    catalog = {"ok-scenario": {"title": "OK", "industry": "test"}, "idle": {"title": "Idle", "industry": "test"}}
    body = check(
        "/api/cp/metrics/scenario-health",
        views.scenario_health(store.list(), tenant_id="t1", now=NOW, catalog=catalog),
    )
    status = {row["scenarioId"]: row["status"] for row in body["rows"]}
    assert status == {
        "ok-scenario": "healthy",
        "idle": "no_data",
        "broken": "unhealthy",
        "quiet-but-open": "degraded",
        "shaky": "degraded",
    }
    unknown = next(row for row in body["rows"] if row["scenarioId"] == "broken")
    assert unknown["scenarioTitle"] == "broken" and unknown["industry"] == "unknown"


def test_pipeline(world) -> None:
    items, store = world
    body = check("/api/cp/metrics/pipeline", views.pipeline(store.list("t1"), tenant_id="t1", now=NOW))
    by_status, by_tier = lead_states(items, "t1")
    pilots = pilot_states(items, "t1")
    assert body["leads"] == {
        "total": len(of(items, "t1", "lead.created")),
        "last7d": len(of(items, "t1", "lead.created", last_days(NOW, 7))),
        "byStatus": {status: by_status[status] for status in LEAD_STATUSES},
        "byTier": {tier: by_tier[tier] for tier in LEAD_TIERS},
    }
    assert body["pilots"] == {
        "total": sum(item.previousStatus is None for item in of(items, "t1", "pilot.moved")),
        "activeOrSetup": pilots["active"] + pilots["setup"],
        "converted": pilots["converted"],
        "byStatus": {status: pilots[status] for status in PILOT_STATUSES},
    }
    assert sum(body["leads"]["byStatus"].values()) == body["leads"]["total"]


def test_scenario_metrics(world) -> None:
    items, store = world
    body = check("/api/cp/metrics/scenarios", views.scenario_metrics(store.list("t1"), tenant_id="t1"))
    started = Counter(item.scenarioId for item in of(items, "t1", "session.started"))
    assert [row["scenarioId"] for row in body["scenarios"]] == sorted(started, key=lambda sid: (-started[sid], sid))
    for row in body["scenarios"]:
        finalized = [item for item in of(items, "t1", "session.finalized") if item.scenarioId == row["scenarioId"]]
        assert row["totalSessions"] == started[row["scenarioId"]]
        assert row["successfulOutcomes"] == sum(item.outcome == "success" for item in finalized)
        assert row["failedOutcomes"] == sum(item.outcome == "failure" for item in finalized)
        mean = sum(round(item.durationSeconds * 1000) for item in finalized) / len(finalized) / 1000
        assert row["averageDurationSeconds"] == round(mean, 1)


def test_public_slos_across_tenants(world) -> None:
    items, store = world
    small = [
        event(
            "session.finalized",
            "tiny-f",
            "t3",
            NOW,
            scenarioId="vet-after-hours-triage",
            outcome="success",
            durationSeconds=60,
        ),
        event("realtime.latency", "tiny-l", "t3", NOW, scenarioId="vet-after-hours-triage", latencyMs=812.5),
        event(
            "session.finalized",
            "hidden",
            "t3",
            NOW,
            scenarioId="healthcare-intake-urdu",
            outcome="success",
            durationSeconds=9,
        ),
    ]
    store.apply_all(small)
    every = items + small
    body = check("/api/public/slos", views.public_slos(store.list(), now=NOW, period_days=30))
    public = [slug for slug, entry in content.scenarios().items() if entry["visibility"] in ("core", "proof")]
    assert [row["slug"] for row in body["scenarios"]] == public  # every public scenario, hidden ones never
    period = last_days(NOW, 30)
    rows = {row["slug"]: row for row in body["scenarios"]}
    for slug, row in rows.items():
        finalized = [item for item in of(every, None, "session.finalized", period) if item.scenarioId == slug]
        tools = [item for item in of(every, None, "tool.executed", period) if item.scenarioId == slug]
        latencies = sorted(
            item.latencyMs for item in of(every, None, "realtime.latency", period) if item.scenarioId == slug
        )
        assert row["sampleSize"] == len(finalized) and row["periodDays"] == 30
        successes = sum(item.outcome == "success" for item in finalized)
        assert row["successRate"] == (round(successes / len(finalized), 4) if finalized else 0.0)
        tools_ok = sum(item.ok for item in tools)
        assert row["toolCallSuccessRate"] == (round(tools_ok / len(tools), 4) if tools else 0.0)
        for field, q in (("latencyP50Ms", 0.5), ("latencyP95Ms", 0.95)):
            if not latencies:
                assert row[field] == 0.0
                continue
            exact = latencies[math.floor(q * (len(latencies) - 1))]
            # Within the histogram's 1 %, plus the 0.05 ms of rounding to one decimal.
            assert abs(row[field] - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-9) + 0.05, (slug, field)
    assert rows["vet-after-hours-triage"] == {
        "slug": "vet-after-hours-triage",
        "title": "After-Hours Toxin Ingestion Triage",
        "industry": "veterinary",
        "latencyP50Ms": 812.5,
        "latencyP95Ms": 812.5,
        "successRate": 1.0,
        "toolCallSuccessRate": 0.0,
        "sampleSize": 1,
        "periodDays": 30,
    }
    assert rows["banking-card-dispute-in"]["sampleSize"] == 0  # listed with its (empty) sample, not hidden
    assert rows["healthcare-intake"]["sampleSize"] > 100
    text = json.dumps(body)
    assert all(tenant not in text for tenant in ('"t1"', '"t2"', '"t3"', "tenant"))


def test_views_read_only_their_own_buckets_and_tenant(world) -> None:
    _, store = world
    mine = store.list("t1")
    everything = store.list() + mine  # other tenants' documents, and duplicates
    for view in (views.dashboard, views.overview, views.summary, views.scenario_health, views.pipeline):
        assert view(everything, tenant_id="t1", now=NOW) == view(mine, tenant_id="t1", now=NOW)
    needed = {key.id for key in views.summary_keys(NOW)}
    assert views.summary([doc for doc in mine if doc["id"] in needed], tenant_id="t1", now=NOW) == views.summary(
        mine, tenant_id="t1", now=NOW
    )
    assert views.scenario_metrics(everything, tenant_id="t1") == views.scenario_metrics(mine, tenant_id="t1")


def test_each_view_reads_a_fixed_number_of_documents() -> None:
    # O(buckets in the window), whatever the number of sessions behind them.
    assert len(views.dashboard_keys(NOW)) == 25
    assert views.overview_keys() == views.scenario_metrics_keys() == [views.TOTAL]
    assert len(views.summary_keys(NOW)) == 49
    assert [len(views.trends_keys(window, NOW)) for window in ("24h", "7d", "30d")] == [24, 7, 30]
    assert len(views.scenario_health_keys(NOW)) == 25
    assert len(views.pipeline_keys(NOW)) == 8
    assert len(views.slo_keys(NOW, 30)) == 30
    with pytest.raises(ValueError):
        views.slo_keys(NOW, 0)


def test_every_view_of_an_empty_tenant_matches_the_contract() -> None:
    check("/api/cp/metrics", views.dashboard([], tenant_id="t", now=NOW))
    check("/api/cp/metrics/overview", views.overview([], tenant_id="t", now=NOW))
    for window in ("24h", "7d", "30d"):
        body = check("/api/cp/metrics/trends", views.trends([], tenant_id="t", window=window, now=NOW))
        assert all(point["value"] in (0, None) for points in body["series"].values() for point in points)
    check("/api/cp/metrics/scenario-health", views.scenario_health([], tenant_id="t", now=NOW))
    pipeline = check("/api/cp/metrics/pipeline", views.pipeline([], tenant_id="t", now=NOW))
    assert pipeline["pilots"]["total"] == 0 and set(pipeline["leads"]["byStatus"].values()) == {0}
    assert check("/api/cp/metrics/scenarios", views.scenario_metrics([], tenant_id="t")) == {
        "success": True,
        "scenarios": [],
    }
    slos = check("/api/public/slos", views.public_slos([], now=NOW))
    assert all(row["sampleSize"] == 0 and row["latencyP95Ms"] == 0.0 for row in slos["scenarios"])


def test_gauges_below_zero_read_as_zero() -> None:
    # A lead moved after metrics began but created before: the net count of its old status is -1.
    store = Store()
    store.apply(event("lead.updated", "u1", "t1", NOW, status="contacted", previousStatus="new"))
    store.apply(event("exception.resolved", "r1", "t1", NOW, scenarioId="healthcare-intake"))
    body = check("/api/cp/metrics/pipeline", views.pipeline(store.list(), tenant_id="t1", now=NOW))
    assert body["leads"]["byStatus"]["new"] == 0 and body["leads"]["byStatus"]["contacted"] == 1
    assert views.overview(store.list(), tenant_id="t1", now=NOW)["exceptionsOpen"] == 0


def test_trends_query_takes_the_contract_windows() -> None:
    contract_windows = load_contract()["paths"]["/api/cp/metrics/trends"]["get"]["parameters"][0]["schema"]["enum"]
    assert sorted(views.TREND_WINDOWS) == sorted(contract_windows)
    assert TrendsQuery().window == "24h"
    assert TrendsQuery(window="7d").window == "7d"
    with pytest.raises(ValueError):
        TrendsQuery(window="1y")
