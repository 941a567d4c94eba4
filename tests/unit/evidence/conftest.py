"""Finalized session documents (as finalize stores them) and signing keys for the evidence tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from shared.evidence import keys

FINALIZED_AT = "2026-03-02T10:15:00.000Z"


def stored_session(scenario: str = "healthcare-intake", **overrides: Any) -> dict[str, Any]:
    """A session document shaped exactly as finalize stores it, with results computed by the real service."""
    from shared.catalog.service import scenario_or_400
    from shared.results.session import compute as compute_results

    doc: dict[str, Any] = {
        "id": "0f8e9d7c6b5a49382716a5b4c3d2e1f0",
        "tenantId": "clinic-north",
        "type": "session",
        "scenarioId": scenario,
        "scenarioTitle": "Patient intake",
        "companyName": "Clínica Norte",
        "industry": "healthcare",
        "status": "finalized",
        "personaId": "healthcare_patient_intake",
        "requestedLocale": "en-US",
        "transcript": [
            {"role": "assistant", "text": "Thanks for calling, how can I help?", "timestamp": 0},
            {"role": "user", "text": "I need to book a new-patient visit.", "timestamp": 4.5},
            {"role": "assistant", "text": "Of course. What is your date of birth?", "timestamp": 9},
        ],
        "timelineEvents": [
            {
                "id": "evt-1",
                "type": "intent_detected",
                "title": "New patient intake",
                "description": "Caller wants a first visit",
                "system": "",
                "timestamp": "2026-03-02T10:12:10.000Z",
            },
            {
                "id": "evt-2",
                "type": "record_created",
                "title": "Patient record created",
                "description": "Demographics saved",
                "system": "ehr",
                "timestamp": "2026-03-02T10:13:40.000Z",
            },
        ],
        "toolsUsed": ["lookup_patient"],
        "beatsCompleted": 3,
        "totalBeats": 4,
        "extractedData": {"fullName": "Ana Pérez"},
        "integrationOutcomes": [
            {
                "id": "out-ehr",
                "kind": "ehr",
                "providerId": "athena",
                "action": "intake.completed",
                "status": "sent",
                "summary": "Intake sent to ehr in 120 ms",
                "attemptedAt": "2026-03-02T10:15:00.100Z",
                "completedAt": "2026-03-02T10:15:00.220Z",
                "retryCount": 0,
                "payloadPreview": {"event": "intake.completed", "fields": ["dateOfBirth", "fullName"]},
                "idempotencyKey": "intake:0f8e:ehr",
            },
            {
                "id": "out-hook",
                "kind": "webhook",
                "providerId": "webhook",
                "action": "intake.completed",
                "status": "failed",
                "summary": "Intake could not be sent to webhook: HTTP 500",
                "attemptedAt": "2026-03-02T10:15:00.300Z",
                "retryCount": 0,
                "payloadPreview": {"event": "intake.completed", "fields": []},
            },
        ],
        "bookingExceptions": [],
        "duration": 185.0,
        "tokenUsage": {"inputTokens": 1200, "outputTokens": 800, "totalTokens": 2000},
        "realtimeSnapshot": {"personaId": "healthcare_patient_intake", "voice": "marin"},
        "createdAt": "2026-03-02T10:11:55.000Z",
        "expiresAt": "2026-03-09T10:11:55.000Z",
        "finalizedAt": FINALIZED_AT,
    }
    doc.update(overrides)
    # Results as finalize stores them: computed once, at the finalize time (so two builds are equal).
    doc["results"] = {
        **compute_results(copy.deepcopy(doc), scenario_or_400(doc["scenarioId"])),
        "computedAt": FINALIZED_AT,
    }
    return doc


TOOL_EXECUTIONS = [
    {
        "id": "exec-1",
        "tool": "lookup_patient",
        "startedAt": "2026-03-02T10:12:30.000Z",
        "latencyMs": 84,
        "status": "success",
        "inputsPreview": {"lastName": "Pérez", "apiKey": "sk-should-never-appear-in-evidence-0001"},
        "outputsPreview": {"found": False, "note": "Bearer abcdefghijklmnop1234567890"},
        "tenantId": "clinic-north",
    },
    {"id": "exec-2", "tool": "schedule_visit", "startedAt": "2026-03-02T10:14:00.000Z", "status": "pending"},
]
APPROVALS = [
    {
        "id": "appr-1",
        "requestedAt": "2026-03-02T10:14:05.000Z",
        "reviewer": "front-desk@clinic-north",
        "decision": "approved",
        "decidedAt": "2026-03-02T10:14:30.000Z",
        "note": "Insurance verified",
    }
]


@pytest.fixture(scope="session")
def key() -> keys.SigningKey:
    """A fresh signing key for the run."""
    return keys.signing_key_from_pem(keys.generate_private_key_pem())


@pytest.fixture(scope="session")
def other_key() -> keys.SigningKey:
    """A second, unrelated key (a stranger's, or the key after a rotation)."""
    return keys.signing_key_from_pem(keys.generate_private_key_pem())


@pytest.fixture
def session_factory() -> Callable[..., dict[str, Any]]:
    """Build stored session documents."""
    return stored_session
