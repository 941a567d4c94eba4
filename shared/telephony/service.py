"""Telephony: the signed provider webhook, inbound calls, and outbound calls started by operators.

**Webhook** (`POST /api/webhooks/telephony-events`). With TELEPHONY_WEBHOOK_SECRET set, the header
X-Telephony-Signature must be the hex HMAC-SHA256 of the raw body under it (constant-time compare), else
401; unset outside local mode the webhook refuses everything (503), so unsigned events are never accepted
in Azure. Each event (`shared.telephony.events`) is attached to its session by the provider's call id
through the call directory (`telephony_calls`, one point read); a call not in the directory is attached
by the session id the provider echoes (Twilio's StatusCallback query, ACS's operationContext), and an
inbound call without a session creates one in the tenant that owns the called number. Each event is a
channel event item whose id is derived from its dedupe key, so a replayed delivery is applied once.

**Inbound numbers.** TELEPHONY_INBOUND_NUMBERS is the directory of the numbers callers dial:
`+E164=tenantId[/scenarioSlug],...` (the scenario defaults to the catalog's first). A number outside it
is refused (400 `unknown_number`): an inbound call never lands in a tenant by guesswork.

**Outbound** (`POST /api/cp/sessions/outbound`). A session is created in the operator's tenant, the
tenant's telephony connector places the call (Twilio Calls API or ACS createCall, idempotency key
`outbound:<sessionId>`), the call id goes into the directory and an `outbound_initiated` channel event
is recorded. No connector → 400 `telephony_not_configured`, and no session is created; a provider
failure → a `provider_error` channel event and an open telephony exception, answered as a 400
`telephony_provider_error` (never a success).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import cache
from typing import Any

from shared.platform import clock, events
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, Conflict, NotFound, ServiceUnavailable, Unauthorized
from shared.platform.settings import SettingsError, get_settings
from shared.platform.store.repository import Document
from shared.telephony.events import CallEvent, UnreadableEvent, parse
from shared.telephony.repository import CallRepository

logger = logging.getLogger("tellgence.telephony")

calls = CallRepository()

SIGNATURE_HEADER = "x-telephony-signature"
E164_PREFIX = "+"


# --- the number directory --------------------------------------------------------------------------------


@cache
def _directory(text: str) -> dict[str, tuple[str, str | None]]:
    import re

    from shared.platform.ids import is_valid_id

    directory: dict[str, tuple[str, str | None]] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        number, _, target = entry.partition("=")
        tenant, _, scenario = target.strip().partition("/")
        number = number.strip()
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", number) or not is_valid_id(tenant.strip()):
            raise SettingsError("TELEPHONY_INBOUND_NUMBERS entries are +E164=tenantId[/scenarioSlug]")
        directory[number] = (tenant.strip(), scenario.strip() or None)
    return directory


def number_owner(number: str | None) -> tuple[str, str | None] | None:
    """(tenant, scenario) of a dialled number, or None when the directory does not list it."""
    if not number:
        return None
    return _directory(get_settings().telephony_inbound_numbers).get(number)


# --- the webhook -----------------------------------------------------------------------------------------


def verify_signature(raw: bytes, signature: str | None) -> None:
    """401 unless the body carries the HMAC of the configured secret; 503 when none is configured outside local."""
    settings = get_settings()
    secret = settings.telephony_webhook_secret
    if not secret:
        if settings.is_local:
            return
        raise ServiceUnavailable(
            "TELEPHONY_WEBHOOK_SECRET is not set: telephony events are refused until it is",
            code="telephony_webhook_not_configured",
        )
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    given = (signature or "").strip().lower()
    if not given or not hmac.compare_digest(expected, given):
        raise Unauthorized("The telephony signature is missing or does not match the body", code="invalid_signature")


def receive(raw: bytes, media_type: str, signature: str | None, query: dict[str, str]) -> dict[str, Any]:
    """Verify, normalise and apply one webhook delivery; each provider event is applied once."""
    verify_signature(raw, signature)
    try:
        batch = parse(raw, media_type, query, clock.now_iso())
    except UnreadableEvent as exc:
        raise BadRequest(str(exc), code="unsupported_event") from exc
    applied = duplicates = 0
    for event in batch:
        target = _session_for(event)
        if _append(target, event):
            applied += 1
        else:
            duplicates += 1
    return success(applied=applied, duplicates=duplicates)


def _session_for(event: CallEvent) -> Document:
    """The directory entry of the event's call: found, learnt from the echoed session, or a new inbound call."""
    known = calls.read(event.call_id, event.call_id)
    if known is not None:
        return known
    if event.session_hint:
        from shared.sessions import aggregate

        try:
            tenant_id = aggregate.locate(event.session_hint)
        except NotFound:
            tenant_id = None
        if tenant_id:
            return _register(event, event.session_hint, tenant_id)
    if event.inbound:
        return _inbound(event)
    raise BadRequest("The event names a call this API does not know", code="unknown_call")


def _register(event: CallEvent, session_id: str, tenant_id: str, direction: str | None = None) -> Document:
    doc = {
        "id": event.call_id,
        "sessionId": session_id,
        "tenantId": tenant_id,
        "providerId": event.provider_id,
        "direction": direction or event.direction or "outbound",
        "createdAt": clock.now_iso(),
        "ttl": get_settings().session_ttl_seconds,
    }
    try:
        return calls.create(doc)
    except Conflict:
        return calls.get(event.call_id, event.call_id, what="Call")


def _inbound(event: CallEvent) -> Document:
    """A new inbound call: the dialled number's tenant gets a session (the call is claimed first, so once)."""
    import uuid

    owner = number_owner(event.to_number)
    if owner is None:
        raise BadRequest("The called number is not in the inbound number directory", code="unknown_number")
    tenant_id, scenario_slug = owner
    session_id = uuid.uuid4().hex
    entry = _register(event, session_id, tenant_id, "inbound")
    if entry["sessionId"] != session_id:
        return entry  # another delivery of the same call created its session
    contact = {"phoneNumber": event.from_number} if event.from_number else {}
    _create_session(tenant_id, scenario_slug, "inbound", contact, session_id=session_id)
    return entry


def _create_session(
    tenant_id: str,
    scenario_slug: str | None,
    direction: str,
    contact: dict[str, str],
    *,
    session_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Document:
    from shared.catalog import content
    from shared.catalog.service import scenario_or_400
    from shared.sessions import aggregate
    from shared.sessions import service as sessions

    scenario = scenario_or_400(scenario_slug or next(iter(content.scenarios())))
    doc, handle, _key = sessions.new_session(scenario, tenant_id, title=None, company=None, locale=None)
    if session_id:
        doc["id"] = handle["id"] = handle["sessionId"] = session_id
    summary: dict[str, Any] = {"channel": "phone", "direction": direction}
    if contact:
        summary["contact"] = contact
    doc["interactionSummary"] = summary
    doc.update(extra or {})
    stored = aggregate.create(doc, handle)
    events.publish("session.started", stored)
    return stored


def _append(entry: Document, event: CallEvent) -> bool:
    """Store the event in its session's log; False when this provider event was applied before."""
    from shared.sessions import aggregate

    return _append_event(
        entry["sessionId"],
        entry["tenantId"],
        {
            "id": "ce-" + hashlib.sha256(event.dedupe_key.encode()).hexdigest()[:32],
            "timestamp": event.timestamp,
            "sequence": event.sequence,
            "type": event.type,
            "status": event.status,
            "rawStatus": event.raw_status,
            "callSid": event.call_id[:128],
            "providerId": event.provider_id,
            "label": event.label(),
            "meta": event.meta,
        },
        aggregate,
    )


def _append_event(session_id: str, tenant_id: str, item: Document, aggregate: Any) -> bool:
    item.setdefault("ttl", get_settings().session_ttl_seconds)
    try:
        aggregate.append_channel_event(session_id, tenant_id, item)
    except Conflict:
        return False
    return True


# --- outbound --------------------------------------------------------------------------------------------


def start_outbound(principal: Any, body: Any) -> dict[str, Any]:
    """Create the session and place the call through the tenant's telephony connector."""
    from shared.catalog.service import scenario_or_400
    from shared.integrations import connectors

    tenant_id = principal.tenant_id
    scenario = scenario_or_400(body.scenarioId)
    connector = connectors.live_connector(tenant_id, "telephony")
    if connector is None:
        raise BadRequest(
            "Telephony is not configured for this practice: connect a telephony connector (Twilio or Azure "
            "Communication Services) first",
            code="telephony_not_configured",
        )
    extra = {"promptOverrides": dict(body.promptOverrides)} if body.promptOverrides else {}
    session = _create_session(tenant_id, scenario["slug"], "outbound", {"phoneNumber": body.phoneNumber}, extra=extra)
    session_id = session["id"]
    result = connectors.run_action(
        tenant_id,
        "telephony",
        "place_call",
        {"to": body.phoneNumber, "sessionId": session_id},
        idempotency_key=f"outbound:{session_id}",
        source="telephony",
        session_id=session_id,
        connector=connector,
    )
    from shared.sessions import aggregate

    now = clock.now_iso()
    if not result.ok:
        _append_event(
            session_id,
            tenant_id,
            {
                "id": f"ce-outbound-{session_id}",
                "timestamp": now,
                "sequence": 0,
                "type": "provider_error",
                "status": "failed",
                "rawStatus": result.error_class or "failed",
                "providerId": result.provider_id,
                "label": "The provider did not place the call",
                "meta": {"errorClass": result.error_class or "", "responseCode": result.response_code},
            },
            aggregate,
        )
        from shared.exceptions import service as exceptions

        exceptions.open_exception(
            tenant_id,
            session_id,
            category="telephony",
            error_type="outbound_call_failed",
            title="Outbound call not placed",
            message=f"{result.provider_id}: {result.summary}",
            connector_kind="telephony",
            provider_id=result.provider_id,
            suggested_actions=("retry", "assign_escalate", "mark_resolved"),
            session=session,
        )
        raise BadRequest(
            f"The telephony provider did not place the call ({result.error_class}); an exception is open on the desk",
            code="telephony_provider_error",
            fields={"sessionId": session_id},
        )
    call_id = str(result.external_id)
    _register(
        CallEvent(result.provider_id, call_id, "outbound_initiated", "initiated", "", now, ""),
        session_id,
        tenant_id,
        "outbound",
    )
    _append_event(
        session_id,
        tenant_id,
        {
            "id": f"ce-outbound-{session_id}",
            "timestamp": now,
            "sequence": 0,
            "type": "outbound_initiated",
            "status": "initiated",
            "rawStatus": str(result.data.get("status") or result.data.get("state") or "created"),
            "callSid": call_id[:128],
            "providerId": result.provider_id,
            "label": "Outbound call started",
            "meta": {"to": body.phoneNumber},
        },
        aggregate,
    )
    logger.info("outbound call %s placed for session %s tenant %s", result.provider_id, session_id, tenant_id)
    return success(sessionId=session_id)
