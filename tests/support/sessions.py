"""Helpers for session tests: start sessions and finalize payloads."""

from __future__ import annotations

from typing import Any

# The extracted answers of a complete healthcare-intake call (every required field, consent granted).
HEALTHCARE_INTAKE: dict[str, str] = {
    "fullName": "Maria Lopez",
    "dateOfBirth": "1984-03-02",
    "phone": "+1-555-0142",
    "reasonForVisit": "persistent cough",
    "insuranceCarrier": "Aetna",
    "memberId": "W123456789",
    "preferredLanguage": "es-MX",
    "consentToTreat": "granted",
}


def start_session(client, scenario: str = "insurance-fnol", headers: dict | None = None, **body: Any) -> dict:
    """POST /api/sessions and return its body (with the access key)."""
    response = client.post("/api/sessions", json={"scenarioId": scenario, **body}, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()


def key_headers(session: dict) -> dict[str, str]:
    """The x-session-access header of a started session."""
    return {"x-session-access": session["accessKey"]}


def finalize_payload(scenario: str = "insurance-fnol", **overrides: Any) -> dict[str, Any]:
    """A realistic finalize body: a short call that captured contact details and booked."""
    payload: dict[str, Any] = {
        "scenarioId": scenario,
        "transcript": [
            {"role": "assistant", "text": "Thanks for calling, how can I help?", "timestamp": 1},
            {
                "role": "user",
                "text": "I had an accident and want to file a claim, and book an adjuster.",
                "timestamp": 2,
            },
            {"role": "assistant", "text": "I can do that. What is your policy number?", "timestamp": 3},
            {"role": "user", "text": "It's PN-1234. What would a pilot cost for our agency?", "timestamp": 4},
        ],
        "timelineEvents": [
            {
                "type": "record_created",
                "title": "FNOL claim created",
                "system": "claims",
                "timestamp": "2026-11-28T10:00:00Z",
            },
            {
                "type": "system_update",
                "title": "Adjuster visit booked",
                "system": "scheduling",
                "timestamp": "2026-11-28T10:01:00Z",
            },
        ],
        "toolsUsed": ["lookup_policy", "create_fnol_claim"],
        "beatsCompleted": 3,
        "totalBeats": 4,
        "extractedData": {"fullName": "Dana Smith", "email": "dana@example.com", "phone": "+1-555-0100"},
        "interactionSummary": {
            "channel": "voice",
            "disposition": "booked",
            "intent": "file claim",
            "contact": {"displayName": "Dana Smith", "email": "dana@example.com"},
        },
        "duration": 240,
        "totalInputTokens": 12000,
        "totalOutputTokens": 3000,
    }
    payload.update(overrides)
    return payload
