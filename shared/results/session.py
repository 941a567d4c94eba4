"""A session's results: ROI, lead score and systems updated, from the stored session only."""

from __future__ import annotations

from typing import Any

from shared.results import roi, scoring


def compute(doc: dict[str, Any], scenario: dict[str, Any]) -> dict[str, Any]:
    """The contract's results object; client-sent scores are never read.

    Every instant comes from the stored session (its finalize time, else its creation), so the same
    stored session always yields byte-identical results, however often and concurrently it is asked.
    """
    lead = scoring.lead_score(scoring.signals_from_session(doc, scenario=scenario))
    breakdown = roi.roi_breakdown(doc, scenario)
    stamp = doc.get("finalizedAt") or doc["createdAt"]
    return {
        "roiBreakdown": breakdown,
        "leadScore": lead,
        "tier": lead["tier"],
        "scoreLabel": scoring.score_label(lead["tier"]),
        "systemsUpdated": roi.systems_updated(doc, now=stamp),
        "isExpired": False,
        "completionPct": breakdown["completionPct"],
        "computedAt": stamp,
    }
