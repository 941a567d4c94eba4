"""Practice connectors: a tenant's configured connection per kind, its tests, and running actions through it.

A connector document (`practice_connectors`, partition = tenantId, id = kind) holds the provider, a
status, the config (each secret field sealed by `shared.platform.secrets`, bound to
`<tenant>/practiceConnector/<kind>`), who changed it when, and the last connection test. Responses
show a preview with every secret masked; audit records name a changed secret without its value.

Writing a config:
- the provider must be one of the catalog's for that kind; the config is validated against the
  provider's fields, every URL through the SSRF guard (400 naming each problem);
- a secret field left out, empty or sent back as the mask keeps the stored secret, but only while
  every URL field is unchanged: a secret is never carried to a destination it was not entered for;
- a changed config forgets the last test (health goes back to configured_unverified); saving the
  same config again writes nothing.

Other domains run connector actions with `run_action` / `run_provider_action` (tool execution,
telephony, onboarding): the stored secrets are opened for that call only, demo providers record
into the Cosmos demo store, and every execution lands in the activity log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shared.integrations import activity, catalog, safety
from shared.integrations.repository import PracticeConnectorRepository
from shared.platform import clock
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, Conflict, NotFound, PreconditionFailed, ValidationFailed
from shared.platform.secrets import MASK, SecretUnreadable, decrypt_fields, encrypt_fields, is_envelope
from shared.platform.store.repository import Document

if TYPE_CHECKING:
    from datetime import datetime

    from shared.integrations.dispatch import ActionResult
    from shared.integrations.models import ActionTestBody, ConnectorBody
    from shared.platform.principal import Principal

logger = logging.getLogger("tellgence.integrations.connectors")

CONNECTED = "connected"
DISCONNECTED = "disconnected"
MAX_WRITE_ATTEMPTS = 5
REDACTED = "[redacted]"
LAST_TEST_FIELDS = ("ok", "checkedAt", "summary", "errorMessage")
# What stops working when a kind is disconnected (DELETE says so).
STOPS_WORKING = {
    "ehr": [
        "Finished healthcare intakes are no longer sent to the EHR",
        "EHR tools (create or update patients and appointments) answer that no EHR is connected",
        "Open EHR delivery failures can no longer be retried",
    ],
    "calendar": [
        "Calendar tools can no longer create events",
        "Open calendar delivery failures can no longer be retried",
    ],
    "webhook": [
        "Finished healthcare intakes are no longer posted to the webhook",
        "Open webhook delivery failures can no longer be retried",
    ],
    "erp": [
        "ERP tools can no longer upsert customers or create invoices",
        "Open ERP delivery failures can no longer be retried",
    ],
    "telephony": [
        "The telephony channel leaves the channel list",
        "Outbound calls are refused until a telephony connector is connected again",
    ],
}

connectors = PracticeConnectorRepository()


class NotConfigured(BadRequest):
    """The tenant has no live connector of the kind an action needs."""

    code = "connector_not_configured"


def secret_context(tenant_id: str, kind: str) -> str:
    """The associated data every secret of one connector is sealed under."""
    return f"{tenant_id}/practiceConnector/{kind}"


def check_kind(kind: str) -> str:
    """The kind when it is a connector kind; 400 otherwise."""
    if kind not in catalog.CONNECTOR_KINDS:
        raise BadRequest(
            f"Unknown connector kind; use one of {', '.join(catalog.CONNECTOR_KINDS)}", code="unknown_connector_kind"
        )
    return kind


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _secret_names(config: Mapping[str, Any], provider: catalog.Provider | None) -> set[str]:
    names = {key for key, value in config.items() if is_envelope(value)}
    if provider is not None:
        names |= set(provider.secret_keys)
    return names


def open_config(doc: Document) -> dict[str, Any]:
    """The connector's config with its secrets opened (for the one call that needs them)."""
    config = doc.get("config") or {}
    sealed = [key for key, value in config.items() if is_envelope(value)]
    return decrypt_fields(config, sealed, context=secret_context(doc["tenantId"], doc["id"]))


def _stored_clear(doc: Document | None, provider: catalog.Provider) -> dict[str, Any] | None:
    """The stored clear config of the same provider, or None (other provider, none stored, unreadable)."""
    if not doc or doc.get("providerId") != provider.id or not isinstance(doc.get("config"), dict):
        return None
    try:
        return open_config(doc)
    except SecretUnreadable:
        logger.warning("stored secrets of the %s connector of tenant %s cannot be opened", doc["id"], doc["tenantId"])
        return None


def _url_value(field: catalog.ConfigField, config: Mapping[str, Any]) -> str:
    value = config.get(field.key)
    return str(value) if _present(value) else (field.default or "")


def resolve_config(
    provider: catalog.Provider, posted: Mapping[str, Any], stored: Document | None
) -> tuple[dict[str, Any], list[str]]:
    """The clear config to validate: the posted one, with stored secrets kept where allowed; and the problems."""
    clear = dict(posted)
    problems: list[str] = []
    stored_clear = _stored_clear(stored, provider)
    changed_urls = []
    if stored_clear is not None:
        changed_urls = [
            f.key for f in provider.fields if f.type == "url" and _url_value(f, clear) != _url_value(f, stored_clear)
        ]
    for key in provider.secret_keys:
        value = clear.get(key)
        if _present(value) and value != MASK:
            continue
        clear.pop(key, None)
        field = provider.field(key)
        if stored_clear is None or not _present(stored_clear.get(key)) or field is None:
            continue
        if not field.applies({k: v for k, v in clear.items() if _present(v)}):
            continue
        if changed_urls:
            problems.append(f"{key}: enter it again, because {', '.join(changed_urls)} changed")
            continue
        clear[key] = stored_clear[key]
    return clear, problems


def validated(provider: catalog.Provider, clear: Mapping[str, Any], problems: list[str]) -> dict[str, Any]:
    """The config as stored (empty values dropped, no defaults); 400 naming every problem."""
    from shared.integrations.validation import config_problems

    named = {problem.split(":", 1)[0] for problem in problems}
    everything = problems + [p for p in config_problems(provider, clear) if p.split(":", 1)[0] not in named]
    if everything:
        raise ValidationFailed(
            f"The {provider.name} configuration is not valid: " + "; ".join(everything),
            code="invalid_config",
            fields={"details": everything},
        )
    return {key: value for key, value in clear.items() if _present(value)}


def _provider_for(kind: str, provider_id: str) -> catalog.Provider:
    provider = catalog.providers().get(provider_id)
    if provider is None:
        raise BadRequest("Unknown integration provider", code="unknown_provider")
    if provider.kind != kind:
        choices = ", ".join(p.id for p in catalog.providers_for_kind(kind))
        raise BadRequest(f"A {kind} connector uses one of: {choices}", code="provider_kind_mismatch")
    return provider


# --- views -------------------------------------------------------------------------------------


def config_preview(doc: Document) -> dict[str, Any]:
    """The config safe to show: every secret (and every sealed value) masked."""
    config = doc.get("config") or {}
    secret = _secret_names(config, catalog.providers().get(str(doc.get("providerId"))))
    return {key: (MASK if key in secret and _present(value) else value) for key, value in config.items()}


def connector_view(doc: Document, *, now: datetime) -> dict[str, Any]:
    """The contract's connector object: status, masked preview, last test and derived health."""
    view: dict[str, Any] = {
        "kind": doc["id"],
        "providerId": str(doc.get("providerId") or ""),
        "status": doc.get("status") or DISCONNECTED,
        "updatedAt": str(doc.get("updatedAt") or ""),
        "configPreview": config_preview(doc),
        "healthStatus": safety.health_status(doc, now=now),
    }
    for name in ("connectedAt", "disconnectedAt", "updatedBy"):
        if doc.get(name):
            view[name] = doc[name]
    test = doc.get("lastTest")
    if isinstance(test, dict) and isinstance(test.get("ok"), bool):
        view["lastTest"] = {name: test[name] for name in LAST_TEST_FIELDS if name in test}
    return view


def _unconfigured_view(kind: str) -> dict[str, Any]:
    # Never configured: no provider, no update time (the contract requires both as strings).
    return {
        "kind": kind,
        "providerId": "",
        "status": DISCONNECTED,
        "updatedAt": "",
        "configPreview": {},
        "healthStatus": "configured_unverified",
    }


def settings_view(tenant_id: str, docs: Mapping[str, Document]) -> dict[str, Any]:
    """The contract's practice connector settings: every kind, configured or not, and the latest change."""
    now = clock.utc_now()
    views = {
        kind: connector_view(docs[kind], now=now) if kind in docs else _unconfigured_view(kind)
        for kind in catalog.CONNECTOR_KINDS
    }
    latest = max((docs[kind] for kind in docs if kind in views), key=lambda d: d.get("updatedAt") or "", default=None)
    settings: dict[str, Any] = {
        "tenantId": tenant_id,
        "updatedAt": str((latest or {}).get("updatedAt") or ""),
        "connectors": views,
    }
    if latest and latest.get("updatedBy"):
        settings["updatedBy"] = latest["updatedBy"]
    return settings


def practice_connectors(tenant_id: str) -> dict[str, Any]:
    """GET practice-connectors: the tenant's connectors with their health (one query)."""
    return success(tenantId=tenant_id, settings=settings_view(tenant_id, connectors.for_tenant(tenant_id)))


def integrations_overview(tenant_id: str) -> dict[str, Any]:
    """GET integrations: the provider catalog and the release-safety report of this tenant (one query)."""
    from shared.platform.settings import get_settings

    report = safety.release_safety(
        settings=get_settings(),
        tenant_id=tenant_id,
        connectors=connectors.for_tenant(tenant_id),
        now=clock.utc_now(),
    )
    return success(providers=list(catalog.public_providers()), releaseSafety=report)


# --- changes -----------------------------------------------------------------------------------


def _open_for_audit(doc: Document | None) -> dict[str, Any]:
    if not doc:
        return {}
    try:
        return open_config(doc)
    except SecretUnreadable:
        # Unreadable secrets count as changed: the audit never needs their values.
        return {key: value for key, value in (doc.get("config") or {}).items() if not is_envelope(value)}


def _config_changes(
    before: Document | None, after: Document, before_clear: Mapping[str, Any], after_clear: Mapping[str, Any]
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("providerId", "status"):
        if (before or {}).get(name) != after.get(name):
            changes[name] = {"from": (before or {}).get(name), "to": after.get(name)}
    secret = _secret_names(
        (before or {}).get("config") or {}, catalog.providers().get(str((before or {}).get("providerId")))
    )
    secret |= _secret_names(after.get("config") or {}, catalog.providers().get(str(after.get("providerId"))))
    for key in sorted(set(before_clear) | set(after_clear)):
        old, new = before_clear.get(key), after_clear.get(key)
        if old == new:
            continue
        if key in secret:
            old = REDACTED if old is not None else None
            new = REDACTED if new is not None else None
        changes[f"config.{key}"] = {"from": old, "to": new}
    return changes


def _write(doc: Document, existing: Document | None) -> Document:
    if existing is not None:
        return connectors.replace({**doc, "_etag": existing["_etag"]})
    return connectors.create(doc)


def upsert(principal: Principal, kind: str, body: ConnectorBody, *, ip: str | None = None) -> dict[str, Any]:
    """PUT a connector: validate, seal the secrets, store (ETag-safe), audit without secret values."""
    from shared.audit import service as audit

    check_kind(kind)
    provider = _provider_for(kind, body.providerId)
    tenant_id = principal.tenant_id
    docs = connectors.for_tenant(tenant_id)
    for _ in range(MAX_WRITE_ATTEMPTS):
        existing = docs.get(kind)
        clear, problems = resolve_config(provider, body.config, existing)
        clean = validated(provider, clear, problems)
        before_clear = _open_for_audit(existing)
        same_provider = bool(existing) and existing.get("providerId") == provider.id
        was_connected = same_provider and existing.get("status") == CONNECTED
        if was_connected and before_clear == clean:
            return success(tenantId=tenant_id, settings=settings_view(tenant_id, docs))
        now = clock.now_iso()
        doc: Document = {
            "id": kind,
            "tenantId": tenant_id,
            "kind": kind,
            "providerId": provider.id,
            "status": CONNECTED,
            "config": encrypt_fields(clean, provider.secret_keys, context=secret_context(tenant_id, kind)),
            "connectedAt": existing["connectedAt"] if was_connected and existing.get("connectedAt") else now,
            "updatedAt": now,
            "updatedBy": principal.user_id,
        }
        try:
            written = _write(doc, existing)
        except (PreconditionFailed, Conflict):
            latest = connectors.connector(tenant_id, kind)
            docs = {**docs, kind: latest} if latest else {k: v for k, v in docs.items() if k != kind}
            continue
        audit.record(
            principal,
            "practice_connector.upsert",
            target_type="practiceConnector",
            target_id=kind,
            tenant_id=tenant_id,
            changes=_config_changes(existing, written, before_clear, clean),
            ip=ip,
        )
        logger.info("connector %s of tenant %s now uses %s", kind, tenant_id, provider.id)
        return success(tenantId=tenant_id, settings=settings_view(tenant_id, {**docs, kind: written}))
    raise Conflict("The connector is being changed by others; try again", code="write_conflict")


def disconnect(principal: Principal, kind: str, *, ip: str | None = None) -> dict[str, Any]:
    """DELETE a connector: it stops being used, its secrets are erased, and the answer says what stops working."""
    from shared.audit import service as audit

    check_kind(kind)
    tenant_id = principal.tenant_id
    docs = connectors.for_tenant(tenant_id)
    for _ in range(MAX_WRITE_ATTEMPTS):
        existing = docs.get(kind)
        if existing is None:
            raise NotFound(f"No {kind} connector is configured", code="connector_not_found")
        impact = {"kind": kind, "providerId": existing.get("providerId"), "stopsWorking": STOPS_WORKING[kind]}
        if existing.get("status") == DISCONNECTED:
            settings = settings_view(tenant_id, docs)
            return success(tenantId=tenant_id, settings={**settings, "disconnected": impact})
        provider = catalog.providers().get(str(existing.get("providerId")))
        config = existing.get("config") or {}
        secret = _secret_names(config, provider)
        now = clock.now_iso()
        doc = {
            **{k: v for k, v in existing.items() if k not in ("lastTest", "_etag")},
            "status": DISCONNECTED,
            "config": {key: value for key, value in config.items() if key not in secret},
            "disconnectedAt": now,
            "updatedAt": now,
            "updatedBy": principal.user_id,
        }
        try:
            written = _write(doc, existing)
        except PreconditionFailed:
            latest = connectors.connector(tenant_id, kind)
            docs = {**docs, kind: latest} if latest else {k: v for k, v in docs.items() if k != kind}
            continue
        changes: dict[str, Any] = {"status": {"from": existing.get("status"), "to": DISCONNECTED}}
        for key in sorted(secret & set(config)):
            changes[f"config.{key}"] = {"from": REDACTED, "to": None}
        audit.record(
            principal,
            "practice_connector.disconnect",
            target_type="practiceConnector",
            target_id=kind,
            tenant_id=tenant_id,
            changes=changes,
            ip=ip,
        )
        settings = settings_view(tenant_id, {**docs, kind: written})
        return success(tenantId=tenant_id, settings={**settings, "disconnected": impact})
    raise Conflict("The connector is being changed by others; try again", code="write_conflict")


# --- tests -------------------------------------------------------------------------------------


def _posted_config(body: Mapping[str, Any]) -> dict[str, Any]:
    # The connection test takes the config itself, or {"config": {...}} like the action test.
    if set(body) == {"config"} and isinstance(body["config"], Mapping):
        return dict(body["config"])
    return dict(body)


def _test_config(
    provider: catalog.Provider, posted: Mapping[str, Any], docs: Mapping[str, Document]
) -> tuple[dict[str, Any], Document | None]:
    """The clear config a test runs with, and the stored connector it tests (None when it tests another config)."""
    stored = docs.get(provider.kind)
    if not stored or stored.get("providerId") != provider.id or stored.get("status") != CONNECTED:
        stored = None
    stored_clear = _stored_clear(stored, provider)
    if not posted and stored_clear is not None:
        return validated(provider, stored_clear, []), stored
    clear, problems = resolve_config(provider, posted, stored)
    clean = validated(provider, clear, problems)
    return clean, stored if stored_clear is not None and stored_clear == clean else None


def _recorder(provider: catalog.Provider, tenant_id: str, session_id: str | None = None) -> Any:
    if not provider.is_demo:
        return None
    from shared.integrations.demo_store import CosmosDemoRecorder

    return CosmosDemoRecorder(tenant_id, session_id)


def _record_last_test(stored: Document, check: Any) -> None:
    test = {"ok": check.ok, "checkedAt": check.checked_at, "summary": check.message, "latencyMs": check.latency_ms}
    if not check.ok:
        test["errorMessage"] = check.message
        if check.error_class:
            test["errorClass"] = check.error_class
    try:
        connectors.replace({**stored, "lastTest": test})
    except (PreconditionFailed, NotFound):
        # The connector changed while it was tested: the result belongs to a config that is gone.
        logger.info("connector %s changed during its test; last test not recorded", stored["id"])


def test_connection(principal: Principal, provider_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Run the provider's health check with the posted (or stored) config; a failing provider is a 200 "failed"."""
    from shared.integrations import dispatch

    provider = catalog.provider(provider_id)
    tenant_id = principal.tenant_id
    docs = connectors.for_tenant(tenant_id) if provider.kind in catalog.CONNECTOR_KINDS else {}
    clear, stored = _test_config(provider, _posted_config(body), docs)
    check = dispatch.health_check(provider.id, clear, recorder=_recorder(provider, tenant_id))
    kind = provider.kind if provider.kind in catalog.CONNECTOR_KINDS else None
    activity.record_check(tenant_id, check, connector_kind=kind)
    if stored is not None:
        _record_last_test(stored, check)
    return success(providerId=provider.id, status=check.status)


def test_action(principal: Principal, provider_id: str, action_id: str, body: ActionTestBody) -> dict[str, Any]:
    """Run one action for real with the posted (or stored) config and params, under a fresh idempotency key."""
    from shared.integrations import dispatch
    from shared.integrations.validation import validate_params

    provider = catalog.provider(provider_id)
    action = provider.action(action_id)
    validate_params(action, body.params)
    tenant_id = principal.tenant_id
    docs = connectors.for_tenant(tenant_id) if provider.kind in catalog.CONNECTOR_KINDS else {}
    clear, _ = _test_config(provider, body.config, docs)
    result = dispatch.execute(
        provider.id,
        action.id,
        clear,
        body.params,
        idempotency_key=f"action-test:{uuid.uuid4().hex}",
        recorder=_recorder(provider, tenant_id),
    )
    kind = provider.kind if provider.kind in catalog.CONNECTOR_KINDS else None
    activity.record_result(tenant_id, result, source="action_test", connector_kind=kind)
    return success(result=result.to_dict())


# --- running actions for other domains ------------------------------------------------------


def live_connectors(tenant_id: str) -> dict[str, Document]:
    """The tenant's connected connectors by kind (one query)."""
    return {kind: doc for kind, doc in connectors.for_tenant(tenant_id).items() if doc.get("status") == CONNECTED}


def live_connector(tenant_id: str, kind: str) -> Document | None:
    """The tenant's connected connector of one kind, or None (one point read)."""
    doc = connectors.connector(tenant_id, check_kind(kind))
    return doc if doc and doc.get("status") == CONNECTED else None


def run_action(
    tenant_id: str,
    kind: str,
    action_id: str,
    params: Mapping[str, Any],
    *,
    idempotency_key: str,
    source: str,
    session_id: str | None = None,
    first_sent_at: datetime | None = None,
    connector: Document | None = None,
    attempt: int | None = None,
) -> ActionResult:
    """Run an action through the tenant's connector of `kind`; recorded in the activity log.

    NotConfigured (400) when no such connector is connected; ValidationFailed (400) when the params
    or the stored config do not fit the provider. A provider failure is a result with ok=False.
    """
    from shared.integrations import dispatch

    connector = connector or live_connector(tenant_id, kind)
    if connector is None:
        raise NotConfigured(f"No {kind} connector is connected for this practice")
    provider = catalog.provider(str(connector.get("providerId")))
    result = dispatch.execute(
        provider.id,
        action_id,
        open_config(connector),
        params,
        idempotency_key=idempotency_key,
        recorder=_recorder(provider, tenant_id, session_id),
        first_sent_at=first_sent_at,
    )
    activity.record_result(
        tenant_id, result, source=source, session_id=session_id, connector_kind=kind, attempt=attempt
    )
    return result


def run_provider_action(
    tenant_id: str,
    provider_id: str,
    action_id: str,
    params: Mapping[str, Any],
    *,
    idempotency_key: str,
    source: str,
    session_id: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> ActionResult:
    """Run an action of a provider that needs no stored connector (e.g. the demo CRM); recorded in the activity log."""
    from shared.integrations import dispatch

    provider = catalog.provider(provider_id)
    result = dispatch.execute(
        provider.id,
        action_id,
        dict(config or {}),
        params,
        idempotency_key=idempotency_key,
        recorder=_recorder(provider, tenant_id, session_id),
    )
    activity.record_result(tenant_id, result, source=source, session_id=session_id)
    return result
