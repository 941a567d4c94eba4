"""Demo sessions: create, read, snapshot, cost, results and the tenant's admin list."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from shared.catalog import content
from shared.catalog.service import scenario_or_400
from shared.platform import clock, events
from shared.platform.envelope import success
from shared.platform.errors import BadRequest
from shared.platform.principal import Principal
from shared.platform.settings import get_settings
from shared.platform.store.repository import Document
from shared.sessions import access, aggregate, state
from shared.sessions.access import SessionGrant
from shared.tenants import tenant_settings
from shared.tenants.ids import DEFAULT_TENANT_ID

if TYPE_CHECKING:
    from shared.sessions.models import CreateSessionBody, RealtimeSnapshotBody, SessionListQuery

LOCALE_PATTERN = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")

# Fields of the contract's session object that are stored as they are.
SESSION_VIEW_FIELDS = (
    "id",
    "scenarioId",
    "scenarioTitle",
    "companyName",
    "requestedLocale",
    "transcript",
    "timelineEvents",
    "toolsUsed",
    "beatsCompleted",
    "totalBeats",
    "leadScore",
    "leadTier",
    "tenantId",
    "extractedData",
    "interactionSummary",
    "consentRetention",
    "bookingRequest",
    "bookingQualification",
    "availabilitySuggestions",
    "bookingOutcome",
    "bookingExceptions",
    "integrationOutcomes",
    "duration",
    "tokenUsage",
    "realtimeSnapshot",
    "latencyMetrics",
    "createdAt",
    "expiresAt",
)


def normalise_locale(value: str | None) -> str | None:
    """A BCP-47 tag in canonical case (es-mx → es-MX), or None when absent or malformed."""
    if not value:
        return None
    tag = value.split(",")[0].split(";")[0].strip().replace("_", "-")
    if not LOCALE_PATTERN.fullmatch(tag):
        return None
    parts = tag.split("-")
    return "-".join([parts[0].lower(), *[p.upper() if len(p) == 2 else p for p in parts[1:]]])


def default_persona(scenario: dict[str, Any]) -> dict[str, Any] | None:
    """The scenario's default persona (the first allowed one)."""
    allowed = scenario.get("allowedPersonaIds") or []
    return content.personas().get(allowed[0]) if allowed else None


def resolve_locale(scenario: dict[str, Any], *candidates: str | None) -> str | None:
    """The first well-formed hint, kept inside a locked persona's supported languages."""
    hint = next((locale for locale in map(normalise_locale, candidates) if locale), None)
    persona = default_persona(scenario)
    if persona is None:
        return hint
    policy = persona["runtime"]["languagePolicy"]
    if policy.get("locked") and hint not in policy["supported"]:
        return policy["primary"]
    return hint


def resolve_tenant(principal: Principal | None, requested: str | None, origin: str | None) -> str:
    """The operator's tenant; else a named tenant that takes public demos from this origin; else the demo tenant.

    An anonymous caller may name a tenant only when that tenant's settings allow public demos from the
    request's Origin; otherwise 403, with one answer whether or not the tenant exists.
    """
    if principal is not None and principal.tenant_id:
        return principal.tenant_id
    if not requested or requested == DEFAULT_TENANT_ID:
        return DEFAULT_TENANT_ID
    tenant_settings.require_public_demo(requested, origin)
    return requested


def new_session(
    scenario: dict[str, Any],
    tenant_id: str,
    *,
    title: str | None,
    company: str | None,
    locale: str | None,
    onboarding: dict[str, Any] | None = None,
) -> tuple[Document, Document, str]:
    """A new session document, its handle (with the initial call state) and its access key; nothing stored yet.

    `onboarding` (`shared.onboarding.service.session_binding`) ties the session to a fast-start profile:
    the profile's persona answers and its published workflow drives the call state.
    """
    settings = get_settings()
    now = clock.utc_now()
    session_id = uuid.uuid4().hex
    key, key_hash = access.new_key(tenant_id)
    expires_at = clock.iso(now + timedelta(seconds=settings.session_ttl_seconds))
    ttl = max(1, settings.session_ttl_seconds)  # Cosmos refuses a ttl of 0
    persona = default_persona(scenario)
    published = None
    if onboarding:
        persona = content.personas().get(onboarding.get("personaId") or "") or persona
        published = onboarding.get("workflow")
    doc: Document = {
        "id": session_id,
        "tenantId": tenant_id,
        "scenarioId": scenario["slug"],
        "scenarioTitle": title or scenario["title"],
        "companyName": company or scenario["companyName"],
        "industry": scenario["industry"],
        "status": "active",
        "transcript": [],
        "timelineEvents": [],
        "toolsUsed": [],
        "beatsCompleted": 0,
        "totalBeats": len(scenario.get("scriptedBeats", [])),
        "leadScore": 0,
        "leadTier": "cold",
        "extractedData": {},
        "integrationOutcomes": [],
        "bookingExceptions": [],
        "duration": 0,
        "keyHash": key_hash,
        "createdAt": clock.iso(now),
        "expiresAt": expires_at,
        "ttl": ttl,
    }
    if persona:
        doc["personaId"] = persona["id"]
    if locale:
        doc["requestedLocale"] = locale
    if onboarding:
        doc["onboardingProfileId"] = onboarding["profileId"]
        if published:
            doc["onboardingWorkflowVersion"] = published["version"]
    handle = {
        "id": session_id,
        "sessionId": session_id,
        "tenantId": tenant_id,
        "keyHash": key_hash,
        "expiresAt": expires_at,
        "ttl": ttl,
        **state.initial_state(scenario, persona, now=doc["createdAt"], published=published),
    }
    return doc, handle, key


def create_session(
    body: CreateSessionBody,
    *,
    principal: Principal | None,
    locale_header: str | None,
    origin: str | None,
    onboarding: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """Start a session; returns the 201 body and the access key (the caller sets the cookie).

    `onboarding` is the binding of a fast-start profile of the caller's tenant
    (`shared.onboarding.service.session_binding`): the session is that profile's test call.
    """
    scenario = scenario_or_400(body.scenarioId)
    tenant_id = resolve_tenant(principal, body.tenantId, origin)
    locale = resolve_locale(scenario, body.requestedLocale, locale_header, body.navigatorLanguage)
    doc, handle, key = new_session(
        scenario, tenant_id, title=body.scenarioTitle, company=body.companyName, locale=locale, onboarding=onboarding
    )
    aggregate.create(doc, handle)
    events.publish("session.started", doc)
    response = success(sessionId=doc["id"], accessKey=key, createdAt=doc["createdAt"], expiresAt=doc["expiresAt"])
    if locale:
        response["requestedLocale"] = locale
    return response, key


def session_view(doc: Document) -> dict[str, Any]:
    """The contract's session object."""
    view = {name: doc[name] for name in SESSION_VIEW_FIELDS if name in doc}
    view.setdefault("integrationOutcomes", [])
    return view


CHANNEL_EVENT_FIELDS = ("timestamp", "type", "status", "rawStatus", "callSid", "providerId", "label", "meta")


def channel_events_view(grant: SessionGrant) -> dict[str, Any]:
    """The session's channel events, in order."""
    events = [
        {key: value for key, value in doc.items() if key in CHANNEL_EVENT_FIELDS}
        for doc in aggregate.channel_events_of(grant.session_id)
    ]
    return {"sessionId": grant.session_id, "events": events, "count": len(events)}


def save_snapshot(grant: SessionGrant, body: RealtimeSnapshotBody) -> dict[str, Any]:
    """Store the client's effective realtime settings; a payload carrying a secret is refused."""
    from shared.sessions.secret_guard import find_secrets

    raw = body.model_dump(exclude_none=True)
    leaks = find_secrets(raw)
    if leaks:
        raise BadRequest(
            "The snapshot must not carry keys or tokens: " + ", ".join(sorted(leaks)[:10]), code="secret_in_payload"
        )
    doc = aggregate.load(grant)
    snapshot = {
        "personaId": raw.get("personaId") or doc.get("personaId") or "",
        "reportedAt": raw.get("reportedAt") or clock.now_iso(),
        **{k: v for k, v in raw.items() if k not in ("personaId", "reportedAt")},
    }
    aggregate.update(grant.tenant_id, grant.session_id, lambda d: d.update(realtimeSnapshot=snapshot), loaded=doc)
    return {"sessionId": grant.session_id, "snapshot": snapshot}


def session_cost(grant: SessionGrant) -> dict[str, Any]:
    """Token counts and the estimated cost under the configured price table."""
    from shared.results import cost

    doc = aggregate.load(grant)
    usage = doc.get("tokenUsage") or {}
    deployment = (doc.get("realtimeSnapshot") or {}).get("realtimeDeployment") or (
        get_settings().azure_openai_deployment_realtime
    )
    table = cost.price_table(get_settings().realtime_price_table)
    estimate = cost.estimate(int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0)), deployment, table)
    return {"sessionId": grant.session_id, **estimate}


def session_results(grant: SessionGrant) -> dict[str, Any]:
    """The stored, server-computed results (computed now for a session not finalized yet)."""
    from shared.results import session as results

    doc = aggregate.load(grant)
    stored = doc.get("results") or results.compute(doc, scenario_or_400(doc["scenarioId"]))
    return {"sessionId": grant.session_id, "results": {**stored, "isExpired": aggregate.is_expired(doc)}}


LIST_ITEM_FIELDS = (
    "id",
    "scenarioId",
    "companyName",
    "interactionSummary",
    "bookingOutcome",
    "duration",
    "leadScore",
    "leadTier",
    "createdAt",
)


def _list_item(doc: Document) -> dict[str, Any]:
    item = {name: doc[name] for name in LIST_ITEM_FIELDS if name in doc}
    item["bookingExceptionsOpen"] = sum(1 for e in doc.get("bookingExceptions", []) if e.get("status") == "open")
    item["consentStatus"] = (doc.get("consentRetention") or {}).get("consentStatus", "unknown")
    return item


def list_sessions(tenant_id: str, query: SessionListQuery) -> dict[str, Any]:
    """A tenant's sessions: filtered, sorted and paged, with totals (single-partition queries only)."""
    where, params, filters = [], {}, {}
    if query.search:
        params["search"] = query.search.lower()
        where.append(
            "(CONTAINS(LOWER(c.companyName), @search) OR CONTAINS(LOWER(c.scenarioTitle), @search) "
            "OR CONTAINS(LOWER(c.id), @search))"
        )
        filters["search"] = query.search
    if query.domain:
        params["domain"] = query.domain
        where.append("c.industry = @domain")
        filters["domain"] = query.domain
    if query.leadTier:
        params["leadTier"] = query.leadTier
        where.append("c.leadTier = @leadTier")
        filters["leadTier"] = query.leadTier
    if query.disposition:
        params["disposition"] = query.disposition
        where.append("c.interactionSummary.disposition = @disposition")
        filters["disposition"] = query.disposition
    total = aggregate.count(tenant_id, where, params)
    wanted = query.page * query.pageSize
    clauses = " AND ".join(["c.tenantId = @tenantId", *where])
    docs = aggregate.query(
        tenant_id,
        f"SELECT * FROM c WHERE {clauses} ORDER BY c.{query.sortBy} {query.sortOrder.upper()}",
        params,
        limit=wanted,
    )
    page_docs = docs[(query.page - 1) * query.pageSize : wanted]
    return success(
        sessions=[_list_item(doc) for doc in page_docs],
        pagination={
            "page": query.page,
            "pageSize": query.pageSize,
            "total": total,
            "totalPages": (total + query.pageSize - 1) // query.pageSize,
        },
        filters=filters,
        sort={"sortBy": query.sortBy, "sortOrder": query.sortOrder},
    )


def desk_list(tenant_id: str, page: int, limit: int) -> dict[str, Any]:
    """The control-plane desk: the tenant's sessions newest first, `limit` a page, with the tenant's total."""
    total = aggregate.count(tenant_id, [], {})
    wanted = page * limit
    docs = aggregate.query(
        tenant_id, "SELECT * FROM c WHERE c.tenantId = @tenantId ORDER BY c.createdAt DESC", {}, limit=wanted
    )
    return success(sessions=[session_view(doc) for doc in docs[(page - 1) * limit : wanted]], count=total)


def desk_cost(doc: Document) -> dict[str, Any]:
    """The desk's cost of a session: the estimate of session_cost, in its currency."""
    from shared.results import cost

    usage = doc.get("tokenUsage") or {}
    deployment = (doc.get("realtimeSnapshot") or {}).get("realtimeDeployment") or (
        get_settings().azure_openai_deployment_realtime
    )
    table = cost.price_table(get_settings().realtime_price_table)
    estimate = cost.estimate(int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0)), deployment, table)
    return success(cost=estimate["estimatedCostUsd"], currency="USD")
