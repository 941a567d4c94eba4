"""Every storage resource the app uses, declared once: Cosmos containers, blob containers, queues.

The dev setup (`python -m devhost provision`), the tests and `infra/` all follow this module;
a test checks the Bicep templates against it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """A Cosmos container: its name, partition key path and default TTL (None: off, -1: per item)."""

    name: str
    partition_key: str
    default_ttl: int | None = None
    purpose: str = ""


WEEK_SECONDS = 7 * 24 * 60 * 60
DAY_SECONDS = 24 * 60 * 60

# Domains append their containers here as they are built; docs/ARCHITECTURE.md mirrors this table.
CONTAINERS: tuple[ContainerSpec, ...] = (
    ContainerSpec("tenants", "/tenantId", purpose="tenant directory entries (id = tenantId)"),
    ContainerSpec("org_links", "/orgId", purpose="Clerk organization id -> tenantId"),
    ContainerSpec("users", "/userId", purpose="Clerk users synced by webhook"),
    ContainerSpec("memberships", "/tenantId", purpose="a user's role in a tenant (id = userId)"),
    ContainerSpec("audit", "/tenantId", purpose="immutable audit events; platform-wide ones under 'platform'"),
    ContainerSpec("webhook_receipts", "/id", WEEK_SECONDS, purpose="processed webhook delivery ids (replay guard)"),
    ContainerSpec("rate_limits", "/id", -1, purpose="fixed-window counters, each with its own ttl"),
    ContainerSpec("tool_policy", "/scope", purpose="global tool rules ('global') and tenant overrides ('tenant:<id>')"),
    ContainerSpec("onboarding_profiles", "/tenantId", purpose="fast-start onboarding profiles (id = profileId)"),
    ContainerSpec(
        "workflows",
        "/tenantId",
        purpose="a profile's workflow draft ('<profileId>:draft') and its immutable published versions "
        "('<profileId>:v<N>')",
    ),
    ContainerSpec(
        "workflow_executions",
        "/tenantId",
        90 * 24 * 60 * 60,
        purpose="triggered workflow executions (id = executionId) and their journaled steps "
        "('<executionId>:<seq>'), 90 days",
    ),
    ContainerSpec("practice_connectors", "/tenantId", purpose="a tenant's connector per kind (id = kind)"),
    ContainerSpec("sessions", "/tenantId", -1, purpose="demo sessions (id = sessionId); ttl = retention"),
    ContainerSpec(
        "session_handles",
        "/sessionId",
        -1,
        purpose="a session's handle (id = sessionId): its tenant, key hash, expiry and live call state",
    ),
    ContainerSpec("channel_events", "/sessionId", -1, purpose="append-only telephony events of a session"),
    ContainerSpec("booking_ledger", "/sessionId", -1, purpose="append-only booking transitions of a session"),
    ContainerSpec("booking_reminders", "/dueDay", -1, purpose="reminders by UTC due day (YYYY-MM-DD)"),
    ContainerSpec(
        "realtime_sessions",
        "/sessionId",
        -1,
        purpose="realtime runtime sessions (id = sessionId): state, counters, latest media stats, latency summary",
    ),
    ContainerSpec("realtime_utterances", "/sessionId", -1, purpose="append-only utterances of a runtime session"),
    ContainerSpec("realtime_stats", "/sessionId", -1, purpose="every media stats report of a runtime session"),
    ContainerSpec(
        "feature_flags", "/scope", purpose="stored flag states ('flags') and tenant overrides ('overrides:<flag>')"
    ),
    ContainerSpec("support_tickets", "/tenantId", purpose="support tickets (id = '<tenantId>:<ticket>')"),
    ContainerSpec("billing_accounts", "/tenantId", purpose="a tenant's billing terms (id = tenantId)"),
    ContainerSpec("compliance_items", "/tenantId", purpose="compliance control items (id = '<tenantId>:<control>')"),
    ContainerSpec(
        "integration_activity",
        "/tenantId",
        30 * DAY_SECONDS,
        purpose="one item per connector execution (intake, tool, test, retry): provider, action, outcome, latency",
    ),
    ContainerSpec(
        "session_exceptions",
        "/tenantId",
        90 * DAY_SECONDS,
        purpose="the operators' exceptions desk: booking, connector, reminder, tool and telephony exceptions",
    ),
    ContainerSpec(
        "demo_records",
        "/tenantId",
        30 * DAY_SECONDS,
        purpose="what demo-tier providers did (once per idempotency key), read back by results screens",
    ),
    ContainerSpec(
        "metrics_rollups",
        "/tenantId",
        -1,
        purpose="a tenant's metric rollups by UTC hour, day and in total (ttl per granularity)",
    ),
    ContainerSpec("session_feed", "/tenantId", -1, purpose="a tenant's live session events, gapless sequence (7 days)"),
    ContainerSpec("public_slos", "/id", purpose="the precomputed public SLO snapshot (id = current)"),
    ContainerSpec(
        "evidence_index",
        "/tenantId",
        -1,
        purpose="one evidence index row per session (id = sessionId): outcome, status, summary line, ingestion "
        "and citation summary; ttl = the session's",
    ),
    ContainerSpec("leads", "/tenantId", purpose="leads (id = leadId) and their append-only notes (type leadNote)"),
    ContainerSpec("feedback", "/tenantId", purpose="demo feedback (id = FB- id), joined to its session when named"),
    ContainerSpec(
        "tool_executions",
        "/tenantId",
        -1,
        purpose="the tool execution journal: one item per execution (id = executionId, derived from the "
        "idempotency key) and per approval request; ttl per item",
    ),
    ContainerSpec(
        "telephony_calls",
        "/id",
        -1,
        purpose="provider call id (Twilio CallSid, ACS callConnectionId/serverCallId) -> its session and tenant",
    ),
    ContainerSpec(
        "pending_emails",
        "/tenantId",
        purpose="emails that could not be queued (id = digest of the idempotency key), re-queued by a timer",
    ),
    ContainerSpec(
        "pilots",
        "/tenantId",
        purpose="pilots (id = pilotId) with their notes, contract and ROI versions, weekly snapshots and "
        "attestations, each an item carrying its pilotId",
    ),
    ContainerSpec(
        "quality_scores",
        "/tenantId",
        -1,
        purpose="one quality record per session (id = qs_<sessionId>: its scorecard and the funnel facts it "
        "contributed) and the tenant's funnel counters (id = funnel); records expire with their session",
    ),
)

# Blob containers and queues, by the names the code and the triggers use.
EMAIL_OUTBOX_CONTAINER = "email-outbox"
EMAILS_QUEUE = "emails"
BOOKING_REMINDERS_QUEUE = "booking-reminders"
BOOKING_RECOVERY_QUEUE = "booking-recovery"
BOOKING_ORCHESTRATION_QUEUE = "booking-orchestration"
INTEGRATION_RETRIES_QUEUE = "integration-retries"
METRICS_EVENTS_QUEUE = "metrics-events"
EVIDENCE_INDEX_QUEUE = "evidence-index"
WORKFLOW_EXECUTIONS_QUEUE = "workflow-executions"
ONBOARDING_TEST_CALLS_QUEUE = "onboarding-test-calls"
TOOL_APPROVALS_QUEUE = "tool-approvals"
PILOT_SNAPSHOTS_QUEUE = "pilot-snapshots"
QUALITY_FACTS_QUEUE = "quality-facts"
EVIDENCE_PACKS_CONTAINER = "evidence-packs"
PDFS_CONTAINER = "pdfs"

BLOB_CONTAINERS: tuple[str, ...] = (
    EMAIL_OUTBOX_CONTAINER,
    EVIDENCE_PACKS_CONTAINER,
    PDFS_CONTAINER,
)
QUEUES: tuple[str, ...] = (
    EMAILS_QUEUE,
    BOOKING_REMINDERS_QUEUE,
    BOOKING_RECOVERY_QUEUE,
    BOOKING_ORCHESTRATION_QUEUE,
    INTEGRATION_RETRIES_QUEUE,
    METRICS_EVENTS_QUEUE,
    EVIDENCE_INDEX_QUEUE,
    WORKFLOW_EXECUTIONS_QUEUE,
    ONBOARDING_TEST_CALLS_QUEUE,
    TOOL_APPROVALS_QUEUE,
    PILOT_SNAPSHOTS_QUEUE,
    QUALITY_FACTS_QUEUE,
)


def container_spec(name: str) -> ContainerSpec:
    """The declared spec of one container; an undeclared name is a programming error."""
    for spec in CONTAINERS:
        if spec.name == name:
            return spec
    raise KeyError(f"container {name!r} is not declared in shared.platform.store.registry")
