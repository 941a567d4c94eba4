"""The quality funnel of a tenant, summarised from its rollup counters instead of scanning sessions.

One rollup document per tenant holds these counters (all whole numbers ≥ 0 except `scoreSum`):

    sessions                finalized sessions seen
    transferRequested       sessions that asked for a transfer or escalation
    transferCompleted       sessions whose transfer or escalation completed
    fallbackSessions        sessions whose workflowPolicy.state is fallback
    retrySessions           sessions whose workflowPolicy.state is retry
    scored                  sessions with a scorecard
    passed                  scorecards that pass
    scoreSum                sum of the scorecards' totalScore (average = scoreSum / scored)
    bandExcellent, bandGood, bandFair, bandNeedsImprovement     scorecards per band
    evidenceIndexed         sessions with an evidence-index entry
    citationBacked          of those, entries with at least one citation
    degradedIngestion       entries whose ingestion is partial / failed or health degraded / unhealthy
    zeroCitation            entries without a citation
    retryableIngestion      entries with retryable chunks
    gapScenarios            {scenarioId: entries with zero citations or degraded ingestion}

How the counters move. Each source (a session, its scorecard, its evidence entry) contributes a small set of
facts (`session_facts`, `scorecard_facts`, `evidence_facts`). The writer stores the facts it last applied for a
source (e.g. on the scorecard or evidence document) and calls `apply_*` with the new facts and those previous
ones: the counters move by the difference. A first sighting passes previous=None; re-applying the same facts
moves nothing (replays are no-ops); a recompute that changes a band moves one count from the old band to the
new one. Counters never go below zero. The `apply_*` functions are pure: they return a new dict.

`summarize` turns the counters into the contract's funnel summary (GET /api/cp/quality/funnel). Rates are
ratios from 0 to 1 (4 decimals), as elsewhere in the contract; scores are 0-100 (1 decimal). A rate over an
empty denominator is 0. Target statuses: on_track when the current value reaches the target, at_risk within
10% of it (current ≥ 0.9 × target), else off_track; with no sample at all the status is at_risk (it cannot be
shown on track) and the proof says there is no sample yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shared.platform import clock
from shared.platform.envelope import success
from shared.quality.evaluator import DEFAULT_TARGET_SCORE

COUNT_FIELDS: tuple[str, ...] = (
    "sessions",
    "transferRequested",
    "transferCompleted",
    "fallbackSessions",
    "retrySessions",
    "scored",
    "passed",
    "bandExcellent",
    "bandGood",
    "bandFair",
    "bandNeedsImprovement",
    "evidenceIndexed",
    "citationBacked",
    "degradedIngestion",
    "zeroCitation",
    "retryableIngestion",
)
BAND_COUNTERS: dict[str, str] = {
    "excellent": "bandExcellent",
    "good": "bandGood",
    "fair": "bandFair",
    "needs_improvement": "bandNeedsImprovement",
}
MAX_GAP_SCENARIOS = 100
TOP_GAP_SCENARIOS = 5
AT_RISK_FRACTION = 0.9

# Targets of the competitive metrics and differentiators (rates as ratios, the score 0-100).
TARGETS: dict[str, float] = {
    "average_quality_score": DEFAULT_TARGET_SCORE,
    "pass_rate": 0.85,
    "transfer_completion_rate": 0.9,
    "citation_coverage_rate": 0.8,
    "transport_continuity": 0.95,
    "trusted_grounding": 0.8,
    "orchestration_resilience": 0.9,
    "handoff_execution": 0.9,
}
METRIC_LABELS: dict[str, str] = {
    "average_quality_score": "Average quality score",
    "pass_rate": "Scorecard pass rate",
    "transfer_completion_rate": "Transfer completion rate",
    "citation_coverage_rate": "Citation coverage rate",
}
DIFFERENTIATOR_LABELS: dict[str, str] = {
    "transport_continuity": "Transport continuity",
    "trusted_grounding": "Trusted grounding",
    "orchestration_resilience": "Orchestration resilience",
    "handoff_execution": "Handoff execution",
}


def empty_counters() -> dict[str, Any]:
    """A tenant's rollup before anything happened."""
    return {**dict.fromkeys(COUNT_FIELDS, 0), "scoreSum": 0.0, "gapScenarios": {}}


def _count(counters: Mapping[str, Any], name: str) -> int:
    value = counters.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(0, int(value))


def _score_sum(counters: Mapping[str, Any]) -> float:
    value = counters.get("scoreSum")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return max(0.0, float(value))


def _copy(counters: Mapping[str, Any] | None) -> dict[str, Any]:
    source = counters or {}
    gaps = source.get("gapScenarios") if isinstance(source.get("gapScenarios"), Mapping) else {}
    return {
        **{name: _count(source, name) for name in COUNT_FIELDS},
        "scoreSum": _score_sum(source),
        "gapScenarios": {str(k): _count(gaps, k) for k in gaps if _count(gaps, k) > 0},
    }


def counters_of(doc: Mapping[str, Any] | None) -> dict[str, Any]:
    """Only the counters of a stored rollup document (every field present, valid, and no other key)."""
    return _copy(doc)


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def session_facts(session: Mapping[str, Any]) -> dict[str, bool]:
    """What one finalized session contributes: transfer asked / completed, fallback, retry."""
    summary = _dict(session.get("interactionSummary"))
    telephony, escalation = _dict(summary.get("telephony")), _dict(summary.get("escalation"))
    transfer = _dict(session.get("transferHandoff"))
    requested = telephony.get("requested") is True or escalation.get("requested") is True or bool(transfer)
    completed = requested and (
        (telephony.get("requested") is True and telephony.get("status") == "completed")
        or (escalation.get("requested") is True and escalation.get("status") == "completed")
        or bool(transfer)
    )
    state = _dict(session.get("workflowPolicy")).get("state")
    return {
        "transferRequested": requested,
        "transferCompleted": completed,
        "fallbackSessions": state == "fallback",
        "retrySessions": state == "retry",
    }


def scorecard_facts(scorecard: Mapping[str, Any]) -> dict[str, Any]:
    """What one scorecard contributes: its score, pass and band."""
    summary = _dict(scorecard.get("qualitySummary"))
    score = scorecard.get("totalScore")
    valid = isinstance(score, int | float) and not isinstance(score, bool) and math.isfinite(score)
    band = summary.get("overallBand")
    return {
        "score": max(0.0, float(score)) if valid else 0.0,
        "passed": summary.get("pass") is True,
        "band": band if band in BAND_COUNTERS else "needs_improvement",
    }


def evidence_facts(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What one evidence-index entry contributes (the contract's evidence-pack index item)."""
    ingestion = _dict(entry.get("ingestionSummary"))
    citations = ingestion.get("citationCount")
    citations = citations if isinstance(citations, int) and not isinstance(citations, bool) else 0
    retryable = ingestion.get("retryableChunkCount")
    retryable = retryable if isinstance(retryable, int) and not isinstance(retryable, bool) else 0
    degraded = ingestion.get("ingestionStatus") in ("partial", "failed") or ingestion.get("healthStatus") in (
        "degraded",
        "unhealthy",
    )
    return {
        "scenarioId": str(entry.get("scenarioId") or ""),
        "citationBacked": citations > 0,
        "zeroCitation": citations <= 0,
        "degradedIngestion": degraded,
        "retryableIngestion": retryable > 0,
    }


def _move(counters: dict[str, Any], name: str, delta: int) -> None:
    counters[name] = max(0, counters[name] + delta)


def _move_flag(
    counters: dict[str, Any], name: str, facts: Mapping[str, Any], previous: Mapping[str, Any] | None
) -> None:
    """Count the flag `name` once per session: +1 when it turned on, -1 when it turned off, else nothing."""
    _move(counters, name, int(bool(facts.get(name))) - int(bool((previous or {}).get(name))))


def apply_session(
    counters: Mapping[str, Any] | None, facts: Mapping[str, bool], previous: Mapping[str, bool] | None = None
) -> dict[str, Any]:
    """Counters after a session's facts replace its previous ones (None: the session is new)."""
    result = _copy(counters)
    if previous is None:
        _move(result, "sessions", 1)
    for name in ("transferRequested", "transferCompleted", "fallbackSessions", "retrySessions"):
        _move_flag(result, name, facts, previous)
    return result


def apply_scorecard(
    counters: Mapping[str, Any] | None, facts: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Counters after a session's scorecard facts replace its previous ones (None: first scorecard)."""
    result = _copy(counters)
    if previous is None:
        _move(result, "scored", 1)
    else:
        _move(result, BAND_COUNTERS.get(previous.get("band"), "bandNeedsImprovement"), -1)
        result["scoreSum"] = max(0.0, result["scoreSum"] - float(previous.get("score") or 0.0))
    _move(result, BAND_COUNTERS.get(facts.get("band"), "bandNeedsImprovement"), 1)
    result["scoreSum"] = result["scoreSum"] + float(facts.get("score") or 0.0)
    _move_flag(result, "passed", facts, previous)
    return result


def apply_evidence(
    counters: Mapping[str, Any] | None, facts: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Counters after a session's evidence facts replace its previous ones (None: first index entry)."""
    result = _copy(counters)
    if previous is None:
        _move(result, "evidenceIndexed", 1)
    for name in ("citationBacked", "zeroCitation", "degradedIngestion", "retryableIngestion"):
        _move_flag(result, name, facts, previous)
    gaps = result["gapScenarios"]

    def gap(item: Mapping[str, Any] | None) -> str | None:
        if item and (item.get("zeroCitation") or item.get("degradedIngestion")) and item.get("scenarioId"):
            return str(item["scenarioId"])
        return None

    old, new = gap(previous), gap(facts)
    if old != new:
        if old is not None and gaps.get(old):
            gaps[old] -= 1
            if gaps[old] <= 0:
                del gaps[old]
        # The map stays bounded: a new scenario beyond the cap is not tracked (the catalog has far fewer).
        if new is not None and (new in gaps or len(gaps) < MAX_GAP_SCENARIOS):
            gaps[new] = gaps.get(new, 0) + 1
    return result


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole > 0 else 0.0


def _status(current: float, target: float, sample: int) -> str:
    if sample <= 0:
        return "at_risk"
    if current >= target:
        return "on_track"
    return "at_risk" if current >= AT_RISK_FRACTION * target else "off_track"


def _target(current: float, target: float, sample: int, digits: int = 4) -> dict[str, Any]:
    return {
        "currentValue": current,
        "targetValue": target,
        "deltaToTarget": round(current - target, digits),
        "status": _status(current, target, sample),
    }


def summarize(
    counters: Mapping[str, Any] | None, *, tenant_id: str, now: str | None = None, target_score: float | None = None
) -> dict[str, Any]:
    """The contract's funnel summary from a tenant's rollup counters."""
    c = _copy(counters)
    generated_at = now or clock.now_iso()
    sessions, scored = c["sessions"], c["scored"]
    average = round(c["scoreSum"] / scored, 1) if scored else 0.0
    pass_rate = _rate(c["passed"], scored)
    transfer_rate = _rate(c["transferCompleted"], c["transferRequested"])
    coverage = _rate(c["citationBacked"], c["evidenceIndexed"])
    overall_target = float(target_score) if target_score is not None else TARGETS["average_quality_score"]

    metrics = [
        {
            "metricId": "average_quality_score",
            "label": METRIC_LABELS["average_quality_score"],
            **_target(average, overall_target, scored, digits=1),
        }
    ]
    for metric, current, sample in (
        ("pass_rate", pass_rate, scored),
        ("transfer_completion_rate", transfer_rate, c["transferRequested"]),
        ("citation_coverage_rate", coverage, c["evidenceIndexed"]),
    ):
        metrics.append(
            {"metricId": metric, "label": METRIC_LABELS[metric], **_target(current, TARGETS[metric], sample)}
        )

    continuity = round(1 - c["fallbackSessions"] / sessions, 4) if sessions else 0.0
    resilience = round(1 - c["retrySessions"] / sessions, 4) if sessions else 0.0
    differentiators = []
    for ident, current, sample, proof in (
        (
            "transport_continuity",
            continuity,
            sessions,
            f"{sessions - c['fallbackSessions']} of {sessions} sessions finished without a transport fallback",
        ),
        (
            "trusted_grounding",
            coverage,
            c["evidenceIndexed"],
            f"{c['citationBacked']} of {c['evidenceIndexed']} indexed sessions are backed by citations",
        ),
        (
            "orchestration_resilience",
            resilience,
            sessions,
            f"{sessions - c['retrySessions']} of {sessions} sessions needed no workflow retry",
        ),
        (
            "handoff_execution",
            transfer_rate,
            c["transferRequested"],
            f"{c['transferCompleted']} of {c['transferRequested']} requested transfers completed",
        ),
    ):
        if sample <= 0:
            proof = "no sample yet: " + proof
        differentiators.append(
            {
                "id": ident,
                "label": DIFFERENTIATOR_LABELS[ident],
                **_target(current, TARGETS[ident], sample),
                "proof": proof,
            }
        )

    gaps = sorted(c["gapScenarios"].items(), key=lambda item: (-item[1], item[0]))[:TOP_GAP_SCENARIOS]
    return {
        "tenantId": tenant_id,
        "generatedAt": generated_at,
        "totalSessions": sessions,
        "scoredSessions": scored,
        "passedSessions": c["passed"],
        "passRate": pass_rate,
        "transferRequestedSessions": c["transferRequested"],
        "transferCompletedSessions": c["transferCompleted"],
        "transferCompletionRate": transfer_rate,
        "fallbackSessions": c["fallbackSessions"],
        "retrySessions": c["retrySessions"],
        "bandBreakdown": {
            "excellent": c["bandExcellent"],
            "good": c["bandGood"],
            "fair": c["bandFair"],
            "needsImprovement": c["bandNeedsImprovement"],
        },
        "knowledgeGap": {
            "evidenceIndexedSessions": c["evidenceIndexed"],
            "citationBackedSessions": c["citationBacked"],
            "citationCoverageRate": coverage,
            "degradedIngestionSessions": c["degradedIngestion"],
            "zeroCitationSessions": c["zeroCitation"],
            "retryableIngestionSessions": c["retryableIngestion"],
            "topGapScenarios": [{"scenarioId": scenario, "sessions": count} for scenario, count in gaps],
        },
        "competitiveTargets": {
            "overallTargetScore": overall_target,
            "currentAverageScore": average,
            "deltaToOverallTarget": round(average - overall_target, 1),
            "metrics": metrics,
        },
        "differentiatorPackaging": {"generatedAt": generated_at, "differentiators": differentiators},
    }


def funnel_response(counters: Mapping[str, Any] | None, *, tenant_id: str, now: str | None = None) -> dict[str, Any]:
    """The 200 body of GET /api/cp/quality/funnel."""
    return success(summary=summarize(counters, tenant_id=tenant_id, now=now))
