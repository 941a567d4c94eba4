"""The Metrics tag's responses and the public SLOs, computed from rollup documents only (never from sessions).

Each view has a `*_keys` function naming the documents it reads (O(buckets in its window), one partition for the
tenant views) and a pure function turning those documents into the contract's 200 body. Documents that are not
among the keys (or of another tenant) are ignored, a missing document counts as zero, and a document given twice
counts once.

Definitions, shared by every view:
- a call is a started session; a handled call a finalized one;
- a session's outcome (success / failure / other) is `models.classify_outcome` of its disposition; the
  completion rate is successes / finalized sessions;
- the error rate is failed / all tool executions (the only event with an explicit error signal);
- latency is the realtime latency samples' histogram: means are exact, percentiles within 1 % (histogram.py);
- windows are whole UTC buckets ending with the current one: "24 h" is the current hour and the 23 before it
  (windowStart is the start of the first, windowEnd is now), "the previous 24 h" the 24 hours before those;
- deltas are current minus previous (percentage points for rates), null when either side is null;
- gauges (leads and pilots by status, open exceptions) come from the total document, floored at zero: a move
  recorded for an entity created before metrics existed can drive a net count below zero until reconciliation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from shared.metrics.models import LEAD_STATUSES, LEAD_TIERS, PILOT_STATUSES, TrendWindow
from shared.metrics.rollups import TOTAL, Aggregate, RollupKey, ScenarioAggregate, aggregate, last_days, last_hours
from shared.platform.clock import iso
from shared.platform.envelope import success

ERROR_RATE_DEGRADED = 0.05
ERROR_RATE_DOWN = 0.5
SCENARIO_TOOL_ERRORS_DEGRADED = 0.05
SCENARIO_TOOL_ERRORS_UNHEALTHY = 0.25
SCENARIO_FAILURES_DEGRADED = 0.2
SCENARIO_FAILURES_UNHEALTHY = 0.5
ACTIVE_SESSION_HOURS = 2
PIPELINE_RECENT_DAYS = 7
SLO_PERIOD_DAYS = 30
PUBLIC_VISIBILITIES = ("core", "proof")
TREND_WINDOWS: dict[str, tuple[str, int]] = {"24h": ("hour", 24), "7d": ("day", 7), "30d": ("day", 30)}

Catalog = Mapping[str, Mapping[str, Any]]
_MAX_INT = 9_007_199_254_740_991


def _pick(docs: Iterable[dict[str, Any]], keys: Iterable[RollupKey], tenant_id: str | None) -> list[dict[str, Any]]:
    wanted = {key.id for key in keys}
    chosen: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in docs:
        if doc.get("id") in wanted and (tenant_id is None or doc.get("tenantId") == tenant_id):
            chosen[(doc.get("tenantId"), doc["id"])] = doc
    return list(chosen.values())


def _sum(docs: Iterable[dict[str, Any]], keys: Iterable[RollupKey], tenant_id: str | None) -> Aggregate:
    return aggregate(_pick(docs, keys, tenant_id))


def _ratio(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction * 100, 2)


def _delta(current: float | None, previous: float | None, places: int) -> float | None:
    return None if current is None or previous is None else round(current - previous, places)


def _count(value: int) -> int:
    return min(max(0, value), _MAX_INT)


def _tool_error_fraction(figures: Aggregate | ScenarioAggregate) -> float | None:
    failed = figures.count("toolsFailed")
    return _ratio(failed, failed + figures.count("toolsOk"))


def _active_scenarios(figures: Aggregate) -> int:
    return sum(1 for part in figures.scenarios.values() if part.count("sessionsStarted") > 0)


def _open_exceptions(figures: Aggregate | ScenarioAggregate) -> int:
    return _count(figures.count("exceptionsOpened") - figures.count("exceptionsResolved"))


def _default_catalog() -> Catalog:
    from shared.catalog import content

    return content.scenarios()


# GET /api/cp/metrics


def dashboard_keys(now: datetime) -> list[RollupKey]:
    """The total and the last 24 hours."""
    return [TOTAL, *last_hours(now, 24)]


def dashboard(docs: Iterable[dict[str, Any]], *, tenant_id: str, now: datetime) -> dict[str, Any]:
    """Dashboard counters: sessions and leads ever, sessions live now, the 24 h error rate and a health word.

    activeSessions is started minus finalized over the current and previous hour (a demo lasts minutes, so this
    counts the calls in progress; one never finalized drops out after two hours). systemHealth is "healthy"
    below a 5 % tool error rate (or with no tool calls), "degraded" below 50 %, "down" from there.
    """
    docs = list(docs)
    total = _sum(docs, [TOTAL], tenant_id)
    day = _sum(docs, last_hours(now, 24), tenant_id)
    recent = _sum(docs, last_hours(now, ACTIVE_SESSION_HOURS), tenant_id)
    error_rate = _tool_error_fraction(day)
    if error_rate is None or error_rate < ERROR_RATE_DEGRADED:
        health = "healthy"
    elif error_rate < ERROR_RATE_DOWN:
        health = "degraded"
    else:
        health = "down"
    return success(
        totalSessions=_count(total.count("sessionsStarted")),
        activeSessions=_count(recent.count("sessionsStarted") - recent.count("sessionsFinalized")),
        totalLeads=_count(total.count("leadsCreated")),
        errorRate=round(error_rate or 0.0, 4),
        systemHealth=health,
    )


# GET /api/cp/metrics/overview


def overview_keys() -> list[RollupKey]:
    """The total only."""
    return [TOTAL]


def overview(docs: Iterable[dict[str, Any]], *, tenant_id: str, now: datetime) -> dict[str, Any]:
    """Headline counts since the tenant began: calls handled, leads, active pilots, bookings, documents, payments."""
    total = _sum(docs, [TOTAL], tenant_id)
    return success(
        tenantId=tenant_id,
        generatedAt=iso(now),
        callsHandled=_count(total.count("sessionsFinalized")),
        leadsCaptured=_count(total.count("leadsCreated")),
        activePilots=_count(total.pilotsByStatus.get("active", 0)),
        bookingsRequested=_count(total.count("bookingsRequested")),
        bookingsConfirmed=_count(total.count("bookingsConfirmed")),
        documentsRequested=_count(total.count("documentsRequested")),
        paymentsFollowedUp=_count(total.count("paymentsFollowedUp")),
        exceptionsOpen=_open_exceptions(total),
    )


# GET /api/cp/metrics/summary


def summary_keys(now: datetime) -> list[RollupKey]:
    """The total and the last 48 hours (this 24 h and the 24 h before)."""
    return [TOTAL, *last_hours(now, 48)]


def _cost_usd(figures: Aggregate) -> float | None:
    if figures.count("costReported") > 0:
        return round(figures.count("costMicroUsd") / 1_000_000, 6)
    # No finalized session means nothing was spent; finalized sessions without a reported cost mean unknown.
    return 0.0 if figures.count("sessionsFinalized") == 0 else None


def summary(docs: Iterable[dict[str, Any]], *, tenant_id: str, now: datetime) -> dict[str, Any]:
    """The last 24 h with deltas against the 24 h before: calls, latency, error rate, scenarios, cost, leads, pilots.

    leadsNew and pilotsConverted count in the window; leadsHot counts leads that became hot in it (created hot
    or moved to hot); pilotsActive is the current number of active pilots. cost24hUsd is null when sessions
    finalized in the window but none reported a cost.
    """
    docs = list(docs)
    hours = last_hours(now, 48)
    previous_hours, current_hours = hours[:24], hours[24:]
    current = _sum(docs, current_hours, tenant_id)
    previous = _sum(docs, previous_hours, tenant_id)
    total = _sum(docs, [TOTAL], tenant_id)
    latency, latency_before = _round(current.latency.mean, 1), _round(previous.latency.mean, 1)
    errors, errors_before = _pct(_tool_error_fraction(current)), _pct(_tool_error_fraction(previous))
    calls = current.count("sessionsStarted")
    return {
        "tenantId": tenant_id,
        "windowStart": iso(current_hours[0].start),
        "windowEnd": iso(now),
        "callsToday": _count(calls),
        "callsTodayDelta": calls - previous.count("sessionsStarted"),
        "avgLatencyMs": latency,
        "avgLatencyMsDelta": _delta(latency, latency_before, 1),
        "errorRatePct": errors,
        "errorRatePctDelta": _delta(errors, errors_before, 2),
        "activeScenarios": _active_scenarios(current),
        "cost24hUsd": _cost_usd(current),
        "leadsNew": _count(current.count("leadsCreated")),
        "leadsHot": _count(current.count("leadsHot")),
        "pilotsActive": _count(total.pilotsByStatus.get("active", 0)),
        "pilotsConverted": _count(current.count("pilotsConverted")),
    }


# GET /api/cp/metrics/trends


def trends_keys(window: TrendWindow, now: datetime) -> list[RollupKey]:
    """24h: the last 24 hour documents; 7d and 30d: the last 7 or 30 day documents."""
    resolution, count = TREND_WINDOWS[window]
    return last_hours(now, count) if resolution == "hour" else last_days(now, count)


def trends(docs: Iterable[dict[str, Any]], *, tenant_id: str, window: TrendWindow, now: datetime) -> dict[str, Any]:
    """Per-bucket series (hourly for 24h, daily for 7d and 30d), oldest first, `t` = the bucket's start.

    Calls and active scenarios are counts (0 for an empty bucket); latency (mean ms) and error rate (percent of
    tool executions) are null for a bucket without samples. The series keep the contract's `...ByHour` names at
    either resolution.
    """
    docs = list(docs)
    resolution, _ = TREND_WINDOWS[window]
    series: dict[str, list[dict[str, Any]]] = {
        "callsByHour": [],
        "latencyByHour": [],
        "errorRateByHour": [],
        "activeScenariosByHour": [],
    }
    for key in trends_keys(window, now):
        figures = _sum(docs, [key], tenant_id)
        moment = iso(key.start)
        series["callsByHour"].append({"t": moment, "value": figures.count("sessionsStarted")})
        series["latencyByHour"].append({"t": moment, "value": _round(figures.latency.mean, 1)})
        series["errorRateByHour"].append({"t": moment, "value": _pct(_tool_error_fraction(figures))})
        series["activeScenariosByHour"].append({"t": moment, "value": _active_scenarios(figures)})
    return {"tenantId": tenant_id, "resolution": resolution, "series": series}


# GET /api/cp/metrics/scenario-health


def scenario_health_keys(now: datetime) -> list[RollupKey]:
    """The total (open exceptions) and the last 24 hours."""
    return [TOTAL, *last_hours(now, 24)]


def _scenario_status(figures: ScenarioAggregate, exceptions_open: int) -> str:
    started, finalized = figures.count("sessionsStarted"), figures.count("sessionsFinalized")
    tools = figures.count("toolsOk") + figures.count("toolsFailed")
    if started == 0 and finalized == 0 and tools == 0:
        return "no_data" if exceptions_open == 0 else "degraded"
    tool_errors = _tool_error_fraction(figures) or 0.0
    failures = _ratio(figures.count("outcomesFailure"), finalized) or 0.0
    if tool_errors >= SCENARIO_TOOL_ERRORS_UNHEALTHY or failures >= SCENARIO_FAILURES_UNHEALTHY:
        return "unhealthy"
    if tool_errors >= SCENARIO_TOOL_ERRORS_DEGRADED or failures >= SCENARIO_FAILURES_DEGRADED or exceptions_open:
        return "degraded"
    return "healthy"


def scenario_health(
    docs: Iterable[dict[str, Any]], *, tenant_id: str, now: datetime, catalog: Catalog | None = None
) -> dict[str, Any]:
    """One row per catalog scenario (and any other scenario with data), for the last 24 h.

    status: no_data without calls, finalizations or tool calls (degraded instead if exceptions are open);
    unhealthy from 25 % tool errors or 50 % failed outcomes; degraded from 5 % tool errors, 20 % failed outcomes
    or any open exception; healthy otherwise. A scenario the catalog does not know shows its id as title and
    "unknown" as industry.
    """
    docs = list(docs)
    catalog = _default_catalog() if catalog is None else catalog
    hours = last_hours(now, 24)
    current = _sum(docs, hours, tenant_id)
    total = _sum(docs, [TOTAL], tenant_id)
    extra = {sid for sid in current.scenarios if sid not in catalog}
    extra |= {sid for sid, part in total.scenarios.items() if sid not in catalog and _open_exceptions(part)}
    rows = []
    for scenario_id in [*catalog, *sorted(extra)]:
        entry = catalog.get(scenario_id, {})
        figures = current.scenarios.get(scenario_id, ScenarioAggregate())
        exceptions_open = _open_exceptions(total.scenarios.get(scenario_id, ScenarioAggregate()))
        finalized = figures.count("sessionsFinalized")
        duration = _ratio(figures.count("durationMsSum"), finalized)
        rows.append(
            {
                "scenarioId": scenario_id,
                "scenarioTitle": str(entry.get("title") or scenario_id),
                "industry": str(entry.get("industry") or "unknown"),
                "callsLast24h": _count(figures.count("sessionsStarted")),
                "completionRatePct": _pct(_ratio(figures.count("outcomesSuccess"), finalized)),
                "avgDurationSeconds": None if duration is None else round(duration / 1000, 1),
                "exceptionsOpen": exceptions_open,
                "status": _scenario_status(figures, exceptions_open),
            }
        )
    return {"tenantId": tenant_id, "windowStart": iso(hours[0].start), "windowEnd": iso(now), "rows": rows}


# GET /api/cp/metrics/pipeline


def pipeline_keys(now: datetime) -> list[RollupKey]:
    """The total and the last 7 days."""
    return [TOTAL, *last_days(now, PIPELINE_RECENT_DAYS)]


def pipeline(docs: Iterable[dict[str, Any]], *, tenant_id: str, now: datetime) -> dict[str, Any]:
    """Leads (ever, created in the last 7 UTC days, by status and tier) and pilots (ever, by status).

    Every contract status and tier is listed, with 0 where none; `pilots` is always an object, with zeros for a
    tenant without pilots.
    """
    docs = list(docs)
    total = _sum(docs, [TOTAL], tenant_id)
    recent = _sum(docs, last_days(now, PIPELINE_RECENT_DAYS), tenant_id)
    pilots = {status: _count(total.pilotsByStatus.get(status, 0)) for status in PILOT_STATUSES}
    return success(
        tenantId=tenant_id,
        generatedAt=iso(now),
        leads={
            "total": _count(total.count("leadsCreated")),
            "last7d": _count(recent.count("leadsCreated")),
            "byStatus": {status: _count(total.leadsByStatus.get(status, 0)) for status in LEAD_STATUSES},
            "byTier": {tier: _count(total.leadsByTier.get(tier, 0)) for tier in LEAD_TIERS},
        },
        pilots={
            "total": _count(total.count("pilotsCreated")),
            "activeOrSetup": pilots["active"] + pilots["setup"],
            "converted": pilots["converted"],
            "byStatus": pilots,
        },
    )


# GET /api/cp/metrics/scenarios


def scenario_metrics_keys() -> list[RollupKey]:
    """The total only."""
    return [TOTAL]


def scenario_metrics(docs: Iterable[dict[str, Any]], *, tenant_id: str) -> dict[str, Any]:
    """Per scenario since the tenant began: sessions, successful and failed outcomes, mean duration (0 if none).

    Only scenarios with sessions are listed, busiest first.
    """
    total = _sum(docs, [TOTAL], tenant_id)
    rows = []
    for scenario_id, figures in total.scenarios.items():
        started, finalized = figures.count("sessionsStarted"), figures.count("sessionsFinalized")
        if started == 0 and finalized == 0:
            continue
        duration = _ratio(figures.count("durationMsSum"), finalized)
        rows.append(
            {
                "scenarioId": scenario_id,
                "totalSessions": _count(started),
                "successfulOutcomes": _count(figures.count("outcomesSuccess")),
                "failedOutcomes": _count(figures.count("outcomesFailure")),
                "averageDurationSeconds": 0.0 if duration is None else round(max(duration, 0) / 1000, 1),
            }
        )
    rows.sort(key=lambda row: (-row["totalSessions"], row["scenarioId"]))
    return success(scenarios=rows)


# GET /api/public/slos


def slo_keys(now: datetime, period_days: int = SLO_PERIOD_DAYS) -> list[RollupKey]:
    """The day documents of the period (every tenant's: the refresh timer reads across partitions)."""
    if period_days < 1:
        raise ValueError("period_days must be at least 1")
    return last_days(now, period_days)


def public_slos(
    docs: Iterable[dict[str, Any]],
    *,
    now: datetime,
    period_days: int = SLO_PERIOD_DAYS,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Per public (core / proof) scenario, summed over every tenant's day documents of the last `period_days`.

    sampleSize is the number of finalized sessions (the success-rate denominator); latency percentiles come from
    every latency sample of the scenario in the period (within 1 %). A scenario with few samples is listed with
    its small sampleSize; the contract allows no null, so a figure with no observation at all reads 0 (never a
    flattering guess), and sampleSize 0 says there was nothing to measure. No tenant id or per-tenant figure
    appears in the result.
    """
    figures = _sum(docs, slo_keys(now, period_days), None)
    return public_slos_of(figures, now=now, period_days=period_days, catalog=catalog)


def public_slos_of(
    figures: Aggregate, *, now: datetime, period_days: int = SLO_PERIOD_DAYS, catalog: Catalog | None = None
) -> dict[str, Any]:
    """`public_slos` of an Aggregate already summed over the period's day documents (the refresh timer streams)."""
    catalog = _default_catalog() if catalog is None else catalog
    rows = []
    for slug, entry in catalog.items():
        if entry.get("visibility") not in PUBLIC_VISIBILITIES:
            continue
        part = figures.scenarios.get(slug, ScenarioAggregate())
        finalized = part.count("sessionsFinalized")
        tools_ok = part.count("toolsOk")
        rows.append(
            {
                "slug": slug,
                "title": str(entry.get("title") or slug),
                "industry": str(entry.get("industry") or "unknown"),
                "latencyP50Ms": round(part.latency.quantile(0.5) or 0.0, 1),
                "latencyP95Ms": round(part.latency.quantile(0.95) or 0.0, 1),
                "successRate": round(_ratio(part.count("outcomesSuccess"), finalized) or 0.0, 4),
                "toolCallSuccessRate": round(_ratio(tools_ok, tools_ok + part.count("toolsFailed")) or 0.0, 4),
                "sampleSize": _count(finalized),
                "periodDays": period_days,
            }
        )
    return {"generatedAt": iso(now), "scenarios": rows}
