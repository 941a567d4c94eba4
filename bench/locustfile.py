"""The public demo flow under load: create → state PATCHes → finalize → results, by anonymous users.

Run by `bench.load` (headless, loopback only, bounded users and run time). Each user repeats the flow
with no think time, so the run measures how much the app serves, not how long people wait.
"""

from __future__ import annotations

from locust import FastHttpUser, constant, task

SCENARIO = "insurance-fnol"
STATE_PATCHES = (
    {"currentPhase": "qualification", "completedStep": "greet"},
    {"currentPhase": "data_capture", "completedStep": "capture_fullName"},
    {"currentPhase": "action", "completedStep": "capture_email"},
)
FINALIZE_BODY = {
    "scenarioId": SCENARIO,
    "transcript": [
        {"role": "assistant", "text": "Thanks for calling, how can I help?", "timestamp": 1},
        {"role": "user", "text": "I had an accident and want to file a claim.", "timestamp": 2},
        {"role": "assistant", "text": "I can do that. What is your policy number?", "timestamp": 3},
        {"role": "user", "text": "It's PN-1234.", "timestamp": 4},
    ],
    "toolsUsed": ["lookup_policy", "create_fnol_claim"],
    "beatsCompleted": 3,
    "totalBeats": 4,
    "extractedData": {"fullName": "Dana Smith", "email": "dana@example.com", "phone": "+1-555-0100"},
    "duration": 240,
    "totalInputTokens": 12000,
    "totalOutputTokens": 3000,
}


class DemoVisitor(FastHttpUser):
    """An anonymous visitor running one demo after another."""

    wait_time = constant(0)

    @task
    def demo(self) -> None:
        """One whole demo; a failed step ends this demo (the failure is counted by locust)."""
        with self.client.post(
            "/api/sessions", json={"scenarioId": SCENARIO}, name="/api/sessions", catch_response=True
        ) as created:
            if created.status_code != 201:
                created.failure(f"create answered {created.status_code}")
                return
            session = created.json()
        sid = session["sessionId"]
        headers = {"x-session-access": session["accessKey"]}
        for patch in STATE_PATCHES:
            response = self.client.patch(
                f"/api/sessions/{sid}/state", json=patch, headers=headers, name="/api/sessions/{id}/state"
            )
            if response.status_code != 200:
                return
        finalized = self.client.post(
            "/api/sessions/finalize",
            json={**FINALIZE_BODY, "sessionId": sid},
            headers=headers,
            name="/api/sessions/finalize",
        )
        if finalized.status_code != 200:
            return
        self.client.get(f"/api/sessions/{sid}/results", headers=headers, name="/api/sessions/{id}/results")
