"""Sequential latency of the measured operations and of the raw SDK floor, interleaved round by round.

Every round runs each probe once, in a shuffled order, so a neighbour's burst of CPU on this shared
machine lands on all probes alike and the ratios stay comparable even when absolute times drift.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.floor import RawFloor

SCENARIO = "insurance-fnol"
WARMUP_ROUNDS = 20
# A ratio's denominator: liveness plus the raw SDK calls the operation cannot avoid.
FLOORS = {
    "GET /api/sessions/{id}": {"read": 2},
    "PATCH /api/sessions/{id}/state": {"read": 1, "replace": 2},
    "POST /api/sessions": {"create": 3},
    "GET /api/personas": {},
}
FLOOR_NOTES = {
    "GET /api/sessions/{id}": "2 reads",
    "PATCH /api/sessions/{id}/state": "1 read + 2 writes",
    "POST /api/sessions": "3 writes",
    "GET /api/personas": "none",
}
LIVENESS = "GET /api/health/live"
RAW = {"read": "raw point read", "create": "raw create", "replace": "raw replace"}


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of the samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Samples:
    """Milliseconds per probe name."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, elapsed_ms: float) -> None:
        self.values.setdefault(name, []).append(elapsed_ms)

    def p50(self, name: str) -> float:
        return percentile(self.values[name], 0.5)

    def p95(self, name: str) -> float:
        return percentile(self.values[name], 0.95)


@dataclass(frozen=True)
class Ratio:
    """One operation's p50 over its floor."""

    operation: str
    p50: float
    floor: float
    note: str

    @property
    def value(self) -> float:
        return self.p50 / self.floor


def _timed(client: httpx.Client, method: str, path: str, expected: int, **kwargs) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.request(method, path, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expected:
        raise RuntimeError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response


def start_session(client: httpx.Client) -> dict:
    """A new public demo session (its body carries the id and the access key)."""
    return _timed(client, "POST", "/api/sessions", 201, json={"scenarioId": SCENARIO})[1].json()


def measure(base_url: str, rounds: int) -> Samples:
    """Run `rounds` interleaved rounds of every probe (after a warm-up) and return the samples."""
    samples = Samples()
    with httpx.Client(base_url=base_url, timeout=10) as client:
        session = start_session(client)
        sid, headers = session["sessionId"], {"x-session-access": session["accessKey"]}
        floor = RawFloor("sessions", _stored_session(sid), "tenantId")
        probes: dict[str, Callable[[], float]] = {
            LIVENESS: lambda: _timed(client, "GET", "/api/health/live", 200)[0],
            "GET /api/personas": lambda: _timed(client, "GET", "/api/personas", 200)[0],
            "GET /api/sessions/{id}": lambda: _timed(client, "GET", f"/api/sessions/{sid}", 200, headers=headers)[0],
            "PATCH /api/sessions/{id}/state": lambda: _timed(
                client,
                "PATCH",
                f"/api/sessions/{sid}/state",
                200,
                json={"currentPhase": "qualification"},
                headers=headers,
            )[0],
            "POST /api/sessions": lambda: _timed(client, "POST", "/api/sessions", 201, json={"scenarioId": SCENARIO})[
                0
            ],
            RAW["read"]: floor.read_ms,
            RAW["create"]: floor.create_ms,
            RAW["replace"]: floor.replace_ms,
        }
        order = list(probes)
        shuffler = random.Random(9)
        for round_number in range(WARMUP_ROUNDS + rounds):
            shuffler.shuffle(order)
            for name in order:
                elapsed = probes[name]()
                if round_number >= WARMUP_ROUNDS:
                    samples.add(name, elapsed)
    return samples


def _stored_session(session_id: str) -> dict:
    """The stored document of a session, found through its handle (the handle names the tenant)."""
    from shared.sessions import aggregate

    tenant_id = aggregate.read_handle(session_id)["tenantId"]
    return dict(aggregate.read_live(tenant_id, session_id))


def ratios(samples: Samples) -> list[Ratio]:
    """Each operation's p50 over liveness plus the raw calls it cannot avoid."""
    liveness = samples.p50(LIVENESS)
    result = []
    for operation, calls in FLOORS.items():
        floor = liveness + sum(count * samples.p50(RAW[kind]) for kind, count in calls.items())
        result.append(Ratio(operation, samples.p50(operation), floor, FLOOR_NOTES[operation]))
    return result
