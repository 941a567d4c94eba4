"""A scripted stream of metric events for the metrics tests, and a store that applies them as writers would."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from shared.metrics import rollups
from shared.metrics.models import MetricEvent

SCENARIOS = ("healthcare-intake", "dental-recall-booking", "legal-pi-intake", "banking-lost-card")
TOOLS = ("check_availability", "collect_documents_request", "payment_reminder", "lookup_crm_contact")


def event(kind: str, event_id: str, tenant: str, at: datetime, **fields: Any) -> MetricEvent:
    """One metric event."""
    return MetricEvent(id=event_id, kind=kind, tenantId=tenant, occurredAt=at, **fields)


def scripted(tenant: str, start: datetime, hours: int, seed: int, sessions_per_hour: int = 6) -> list[MetricEvent]:
    """Sessions with tools, latency, exceptions, bookings, leads and pilots over `hours` hours from `start`."""
    rng = random.Random(seed)
    events: list[MetricEvent] = []
    leads: dict[str, tuple[str, str | None]] = {}
    pilots: dict[str, str] = {}
    exceptions: list[tuple[str, str]] = []
    serial = 0
    for hour in range(hours):
        base = start + timedelta(hours=hour)
        for _ in range(rng.randint(0, sessions_per_hour)):
            serial += 1
            sid, scenario = f"s{seed}-{serial}", rng.choice(SCENARIOS)
            at = base + timedelta(minutes=rng.randint(0, 50), seconds=rng.randint(0, 59))
            events.append(
                event("session.started", f"session.started:{sid}", tenant, at, sessionId=sid, scenarioId=scenario)
            )
            for step in range(rng.randint(0, 4)):
                events.append(
                    event(
                        "tool.executed",
                        f"tool:{sid}:{step}",
                        tenant,
                        at + timedelta(seconds=10 + step),
                        sessionId=sid,
                        scenarioId=scenario,
                        toolName=rng.choice(TOOLS),
                        ok=rng.random() > 0.15,
                    )
                )
            for report in range(rng.randint(0, 3)):
                events.append(
                    event(
                        "realtime.latency",
                        f"stats:{sid}:{report}",
                        tenant,
                        at + timedelta(seconds=20 + report),
                        sessionId=sid,
                        scenarioId=scenario,
                        latencyMs=round(rng.lognormvariate(6, 0.6), 2),
                    )
                )
            if rng.random() < 0.3:
                events.append(event("booking.requested", f"booking.requested:{sid}", tenant, at, scenarioId=scenario))
                if rng.random() < 0.5:
                    events.append(
                        event("booking.confirmed", f"booking.confirmed:{sid}", tenant, at, scenarioId=scenario)
                    )
            if rng.random() < 0.2:
                exception_id = f"x{seed}-{serial}"
                exceptions.append((exception_id, scenario))
                events.append(
                    event("exception.opened", f"exception.opened:{exception_id}", tenant, at, scenarioId=scenario)
                )
            if rng.random() < 0.85:
                end = at + timedelta(minutes=rng.randint(1, 8))
                cost = round(rng.uniform(0.01, 0.5), 6) if rng.random() < 0.9 else None
                events.append(
                    event(
                        "session.finalized",
                        f"session.finalized:{sid}",
                        tenant,
                        end,
                        sessionId=sid,
                        scenarioId=scenario,
                        outcome=rng.choice(["success", "success", "failure", "other"]),
                        durationSeconds=round(rng.uniform(30, 480), 1),
                        costUsd=cost,
                    )
                )
            if rng.random() < 0.4:
                lead_id = f"lead{seed}-{serial}"
                tier = rng.choice(["hot", "warm", "cold", None])
                leads[lead_id] = ("new", tier)
                events.append(
                    event(
                        "lead.created",
                        f"lead.created:{lead_id}",
                        tenant,
                        at,
                        scenarioId=scenario,
                        status="new",
                        tier=tier,
                    )
                )
        if leads and rng.random() < 0.6:
            lead_id = rng.choice(sorted(leads))
            status, tier = leads[lead_id]
            new_status = rng.choice(["contacted", "pilot_requested", "lost", "paid"])
            new_tier = rng.choice(["hot", "warm"])
            leads[lead_id] = (new_status, new_tier)
            events.append(
                event(
                    "lead.updated",
                    f"lead.updated:{lead_id}:{hour}",
                    tenant,
                    base + timedelta(minutes=55),
                    status=new_status,
                    previousStatus=status,
                    tier=new_tier,
                    previousTier=tier,
                )
            )
        if rng.random() < 0.3:
            pilot_id = f"pilot{seed}-{hour}"
            pilots[pilot_id] = "invited"
            events.append(
                event("pilot.moved", f"pilot:{pilot_id}:0", tenant, base + timedelta(minutes=56), status="invited")
            )
        if pilots and rng.random() < 0.5:
            pilot_id = rng.choice(sorted(pilots))
            order = ["invited", "setup", "active", "completed", "converted"]
            before = pilots[pilot_id]
            if before in order[:-1]:
                after = order[order.index(before) + 1]
                pilots[pilot_id] = after
                events.append(
                    event(
                        "pilot.moved",
                        f"pilot:{pilot_id}:{after}",
                        tenant,
                        base + timedelta(minutes=57),
                        status=after,
                        previousStatus=before,
                    )
                )
        if exceptions and rng.random() < 0.4:
            exception_id, scenario = exceptions.pop(0)
            events.append(
                event(
                    "exception.resolved",
                    f"exception.resolved:{exception_id}",
                    tenant,
                    base + timedelta(minutes=58),
                    scenarioId=scenario,
                )
            )
    return sorted(events, key=lambda item: item.occurredAt)


class Store:
    """Rollup documents by (tenant, id), updated the way the write-time hooks do: read, apply, write if applied."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, str], dict[str, Any]] = {}
        self.statuses: list[str] = []

    def apply(self, item: MetricEvent, now: datetime | None = None) -> list[str]:
        """Apply one event to each of its documents; the per-document statuses."""
        now = now or item.occurredAt
        statuses = []
        for key in rollups.keys_for_event(item):
            slot = (item.tenantId, key.id)
            current = self.docs.get(slot) or rollups.new_document(item.tenantId, key)
            result = rollups.apply(item, current, now=now)
            if result.status == "applied":
                self.docs[slot] = result.doc
            statuses.append(result.status)
        self.statuses += statuses
        return statuses

    def apply_all(self, items: Iterable[MetricEvent]) -> None:
        """Apply events in order, each at its own time."""
        for item in items:
            self.apply(item)

    def list(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """Every document (of one tenant)."""
        return [doc for (owner, _), doc in self.docs.items() if tenant is None or owner == tenant]
