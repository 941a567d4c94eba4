"""The ROI model and systemsUpdated: numbers, grades, determinism and the contract's shapes."""

from __future__ import annotations

import copy

import pytest

from shared.catalog import content
from shared.results import roi
from shared.results.roi import roi_breakdown, systems_updated
from tests.support.schemas import assert_valid

NOW = "2026-03-01T12:00:00.000Z"
INSURANCE = {"slug": "insurance-fnol", "industry": "insurance"}


def event(kind: str, system: str, title: str, timestamp: str | float = "2026-03-01T10:00:00Z") -> dict:
    return {"id": title, "type": kind, "title": title, "description": "", "system": system, "timestamp": timestamp}


def fnol_session() -> dict:
    return {
        "scenarioId": "insurance-fnol",
        "duration": 300,
        "beatsCompleted": 5,
        "totalBeats": 6,
        "toolsUsed": ["lookup_policy", "create_fnol_claim", "schedule_vehicle_inspection", "send_sms_confirmation"],
        "timelineEvents": [
            event("record_created", "Claims", "Claim CLM-1 opened", "2026-03-01T10:01:00Z"),
            event("system_update", "claims", "Adjuster assigned", "2026-03-01T10:03:00.250Z"),
            event("beat_completed", "Policy Administration", "Policy verified", "2026-03-01T10:00:30Z"),
            event("tool_error", "calendar", "Inspection slot lookup failed", "2026-03-01T10:02:00Z"),
        ],
    }


def test_roi_of_an_insurance_claim() -> None:
    result = roi_breakdown(fnol_session(), INSURANCE)
    # 4 distinct tools + 2 system writes = 6 tasks * 18 min = 108 manual min; 5 automated min.
    assert result == {
        "timeSavedMinutes": 103.0,
        "costSavedUsd": 58.37,  # 103 / 60 * 34
        "efficiencyPct": 95.4,
        "tasksAutomated": 6,
        "manualTimeEstimateMinutes": 108.0,
        "manualHours": 1.8,
        "automatedHours": 0.08,
        "grade": "A",  # 0.6 * 95.4 + 0.4 * 83.3 = 90.6
        "completionPct": 83.3,
        "successRatePct": 87.5,  # 8 attempts (4 tools + 4 events), 1 error event
        "impactMessage": (
            "The agent automated 6 tasks in 5.0 min that would take about 108 min by hand, "
            "saving 103.0 min and $58.37 (95% less staff time)."
        ),
        "assumptions": {"hourlyRate": 34.0, "manualTimePerTask": 18.0},
    }
    assert_valid("roi_breakdown_schema", result)


def test_hourly_rate_override_and_validation() -> None:
    result = roi_breakdown(fnol_session(), INSURANCE, hourly_rate=60)
    assert result["assumptions"]["hourlyRate"] == 60.0
    assert result["costSavedUsd"] == 103.0
    for bad in (-1, float("nan"), float("inf"), True, "50"):
        with pytest.raises(ValueError):
            roi_breakdown(fnol_session(), INSURANCE, hourly_rate=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("industry", "per_task"), sorted(roi.MANUAL_MINUTES_PER_TASK.items()))
def test_every_catalog_industry_has_a_rate_and_a_task_time(industry: str, per_task: float) -> None:
    assert industry in roi.HOURLY_RATE_USD
    result = roi_breakdown({"toolsUsed": ["a"]}, {"industry": industry})
    assert result["assumptions"] == {"hourlyRate": float(roi.HOURLY_RATE_USD[industry]), "manualTimePerTask": per_task}


def test_every_catalog_scenario_industry_is_in_the_tables() -> None:
    industries = {scenario["industry"] for scenario in content.scenarios().values()}
    assert industries <= set(roi.MANUAL_MINUTES_PER_TASK)
    assert set(roi.MANUAL_MINUTES_PER_TASK) == set(roi.HOURLY_RATE_USD)


def test_unknown_industry_uses_defaults() -> None:
    result = roi_breakdown({"toolsUsed": ["a"]}, {"industry": "space"})
    assert result["assumptions"] == {
        "hourlyRate": roi.DEFAULT_HOURLY_RATE_USD,
        "manualTimePerTask": roi.DEFAULT_MANUAL_MINUTES_PER_TASK,
    }


def test_nothing_automated() -> None:
    result = roi_breakdown({"duration": 600, "beatsCompleted": 0, "totalBeats": 5}, INSURANCE)
    assert result["tasksAutomated"] == 0
    assert result["timeSavedMinutes"] == 0.0
    assert result["costSavedUsd"] == 0.0
    assert result["efficiencyPct"] == 0.0
    assert result["successRatePct"] == 0.0
    assert result["grade"] == "F"
    assert result["impactMessage"] == "No tasks were automated in this session, so no time or cost was saved."
    assert_valid("roi_breakdown_schema", result)


def test_a_call_longer_than_the_manual_work_saves_nothing() -> None:
    result = roi_breakdown({"duration": 3600, "toolsUsed": ["a"]}, {"industry": "dental"})
    assert result["timeSavedMinutes"] == 0.0
    assert result["costSavedUsd"] == 0.0
    assert result["efficiencyPct"] == 0.0


@pytest.mark.parametrize(
    ("efficiency", "completion", "grade"),
    [
        (100, 100, "A"),
        (85, 85, "A"),
        (90, 77.5, "A"),  # 54 + 31 = 85
        (84.9, 85, "B"),
        (70, 70, "B"),
        (55, 55, "C"),
        (60, 40, "D"),  # 36 + 16 = 52
        (40, 40, "D"),
        (39.9, 40, "F"),
        (0, 100, "D"),
        (0, 0, "F"),
    ],
)
def test_grades(efficiency: float, completion: float, grade: str) -> None:
    assert roi.grade_for(efficiency, completion) == grade


def test_completion_is_clamped_and_safe() -> None:
    assert roi.completion_pct({"beatsCompleted": 9, "totalBeats": 6}) == 100.0
    assert roi.completion_pct({"beatsCompleted": 2, "totalBeats": 0}) == 0.0
    assert roi.completion_pct({"beatsCompleted": 1, "totalBeats": 3}) == 33.3
    assert roi.completion_pct({"beatsCompleted": 2, "totalBeats": 3}) == 66.7


def test_success_rate_counts_failed_integrations() -> None:
    session = {
        "toolsUsed": ["a", "b"],
        "integrationOutcomes": [{"status": "sent"}, {"status": "failed"}],
        "timelineEvents": [event("integration-failed", "CRM", "Push failed")],
    }
    assert roi.success_rate_pct(session) == 60.0


def test_tasks_count_distinct_tools_and_system_writes() -> None:
    session = {
        "toolsUsed": ["a", "a", "b"],
        "timelineEvents": [
            event("System Update", "CRM", "1"),
            event("record-updated", "CRM", "2"),
            event("note", "CRM", "3"),
        ],
    }
    assert roi.tasks_automated(session) == 4


def test_cost_is_rounded_to_cents_half_up() -> None:
    # 1 task * 15 min (sales) - 0 = 15 min; 15 / 60 * 40.02 = 10.005 -> 10.01
    result = roi_breakdown({"toolsUsed": ["a"]}, {"industry": "sales"}, hourly_rate=40.02)
    assert result["costSavedUsd"] == 10.01


def test_roi_is_deterministic_and_does_not_mutate() -> None:
    session = fnol_session()
    before = copy.deepcopy(session)
    assert roi_breakdown(session, INSURANCE) == roi_breakdown(copy.deepcopy(session), INSURANCE)
    assert session == before


def test_systems_updated_groups_events_and_tools() -> None:
    items = systems_updated(fnol_session(), now=NOW)
    assert items == [
        {
            "system": "claims",
            "label": "Claims",
            "updates": 3,  # two events + create_fnol_claim
            "lastUpdated": "2026-03-01T10:03:00.250Z",
            "keyChanges": ["Claim CLM-1 opened", "Adjuster assigned", "Create FNOL claim"],
        },
        {
            "system": "policy",
            "label": "Policy Administration",
            "updates": 2,
            "lastUpdated": "2026-03-01T10:00:30.000Z",
            "keyChanges": ["Policy verified", "Lookup policy"],
        },
        {
            "system": "scheduling",
            "label": "Scheduling",
            "updates": 2,
            "lastUpdated": "2026-03-01T10:02:00.000Z",
            "keyChanges": ["Inspection slot lookup failed", "Schedule vehicle inspection"],
        },
        {
            "system": "messaging",
            "label": "Messaging",
            "updates": 1,
            "lastUpdated": NOW,  # tools carry no timestamp
            "keyChanges": ["Send SMS confirmation"],
        },
    ]
    assert_valid("systems_updated_schema", items)


def test_systems_updated_custom_systems_limits_and_timestamps() -> None:
    session = {
        "timelineEvents": [
            *[event("system_update", "Salesforce (demo)", f"Change {n}", f"2026-03-01T09:0{n}:00Z") for n in range(7)],
            event("system_update", "Salesforce (demo)", "Change 1", 1772355600000),  # epoch ms, 2026-03-01T09:00:00Z
            event("system_update", "", "Orphan", "not a date"),
            "junk",
        ],
        "toolsUsed": ["mystery_tool"],
    }
    items = systems_updated(session, now=NOW, registry={})
    assert items == [
        {
            "system": "salesforce_demo",
            "label": "Salesforce (demo)",
            "updates": 8,
            "lastUpdated": "2026-03-01T09:06:00.000Z",
            "keyChanges": ["Change 0", "Change 1", "Change 2", "Change 3", "Change 4"],
        },
        {
            "system": "other",
            "label": "Other systems",
            "updates": 2,
            "lastUpdated": NOW,
            "keyChanges": ["Orphan", "Mystery tool"],
        },
    ]
    assert_valid("systems_updated_schema", items)


def test_systems_updated_of_an_empty_session() -> None:
    assert systems_updated({}, now=NOW) == []


def test_every_registry_category_has_a_label() -> None:
    categories = {tool["category"] for tool in content.tools().values()}
    assert categories <= set(roi.CATEGORY_LABELS)


@pytest.mark.parametrize(
    ("tool", "title"),
    [
        ("create_fnol_claim", "Create FNOL claim"),
        ("lookup_crm_contact", "Lookup CRM contact"),
        ("verify_identity_kba", "Verify identity KBA"),
        ("x", "X"),
        ("__", "__"),
    ],
)
def test_tool_titles(tool: str, title: str) -> None:
    assert roi.tool_title(tool) == title


def test_epoch_timestamps_count_for_last_updated() -> None:
    session = {"timelineEvents": [event("system_update", "CRM", "A"), event("note", "crm", "B", 1772362800.5)]}
    [item] = systems_updated(session, now=NOW, registry={})
    assert item["system"] == "crm"
    assert item["lastUpdated"] == "2026-03-01T11:00:00.500Z"  # epoch seconds beat the 10:00 ISO event
