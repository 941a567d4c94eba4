"""Feature flags: stored states over the registry, tenant overrides, and the one evaluation the code calls.

Evaluation (`is_enabled`) for a per-tenant flag: the tenant's override wins; otherwise the flag must be
enabled and the tenant must fall inside the rollout, where a tenant's bucket is the first 8 bytes of
sha256("<flag>:<tenant>") modulo 10,000 and the flag covers buckets below rolloutPct × 100. So a rollout
is deterministic (the same tenants every time, on every instance) and raising it only adds tenants. A
global flag is the same for everyone: enabled or not.

Each process keeps its copy of a flag (state and overrides) for FEATURE_FLAG_CACHE_SECONDS (5 s): a guarded
code path makes no store call in the common case, and a change reaches every instance within that time
(at once on the instance that made it). Filling the copy is a per-process cache fill (amortized).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import TYPE_CHECKING, Any

from shared.audit import service as audit
from shared.flags import registry
from shared.flags.registry import FlagSpec
from shared.flags.repository import FLAGS_SCOPE, FlagRepository, overrides_scope
from shared.platform import clock, lifecycle
from shared.platform.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from shared.platform.principal import Principal
from shared.platform.settings import get_settings
from shared.platform.store import metering
from shared.platform.store.repository import Document

if TYPE_CHECKING:
    from shared.flags.models import FlagOverridePatch, FlagPatch

BUCKETS = 10_000
LIST_OVERRIDES_MAX = 1000
FULL_ROLLOUT = 100
FLAG_FIELDS = ("id", "name", "description", "scope", "enabled", "rolloutPct", "createdAt", "updatedAt")
OVERRIDE_FIELDS = ("flag", "tenantId", "enabled", "reason", "updatedAt", "updatedBy")

store = FlagRepository()


# ---------------------------------------------------------------- evaluation


def bucket(name: str, tenant_id: str) -> int:
    """The tenant's rollout bucket for this flag, 0..9999 (stable across processes and releases)."""
    digest = hashlib.sha256(f"{name}:{tenant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_rollout(name: str, tenant_id: str, rollout_pct: float) -> bool:
    """Whether the tenant falls inside a rollout of `rollout_pct` percent."""
    return bucket(name, tenant_id) < round(rollout_pct * BUCKETS / 100)


def decide(flag: FlagSpec, state: Document, override: bool | None, tenant_id: str | None) -> bool:
    """The evaluation rule, given the flag's effective state and the tenant's override (pure)."""
    if flag.scope == "global":
        return bool(state["enabled"])
    if override is not None:
        return override
    if not state["enabled"]:
        return False
    rollout = float(state.get("rolloutPct", FULL_ROLLOUT))
    if tenant_id is None:
        return rollout >= FULL_ROLLOUT
    return in_rollout(flag.name, tenant_id, rollout)


class _Snapshot:
    __slots__ = ("overrides", "state", "taken")

    def __init__(self, state: Document, overrides: dict[str, bool], taken: float) -> None:
        self.state = state
        self.overrides = overrides
        self.taken = taken


_snapshots: dict[str, _Snapshot] = {}
_lock = threading.Lock()


def _snapshot(flag: FlagSpec) -> _Snapshot:
    ttl = get_settings().feature_flag_cache_seconds
    now = time.monotonic()
    with _lock:
        cached = _snapshots.get(flag.name)
    if cached is not None and now - cached.taken < ttl:
        return cached
    with metering.amortized():
        state = store.state(flag.name) or default_state(flag)
        overrides = (
            {doc["tenantId"]: bool(doc["enabled"]) for doc in store.overrides(flag.name)}
            if flag.scope == "per_tenant"
            else {}
        )
    fresh = _Snapshot(state, overrides, now)
    with _lock:
        _snapshots[flag.name] = fresh
    return fresh


def is_enabled(name: str, tenant_id: str | None = None) -> bool:
    """Whether flag `name` is on for `tenant_id`: the one evaluation every guarded code path calls.

    An unknown name raises UnknownFlag: a typo in code must fail loudly, never read as "off".
    """
    flag = registry.spec(name)
    snapshot = _snapshot(flag)
    override = snapshot.overrides.get(tenant_id) if tenant_id else None
    return decide(flag, snapshot.state, override, tenant_id)


def forget(name: str | None = None) -> None:
    """Drop this process's copy of one flag (after a change made here) or of all of them (tests)."""
    with _lock:
        if name is None:
            _snapshots.clear()
        else:
            _snapshots.pop(name, None)


# ---------------------------------------------------------------- the control plane


def default_state(flag: FlagSpec) -> Document:
    """A flag's state until a super-admin stores one: its setting's value, full rollout."""
    stamp = f"{registry.version()}T00:00:00.000Z"
    return {
        "id": flag.name,
        "scope": FLAGS_SCOPE,
        "name": flag.name,
        "enabled": registry.default_enabled(flag),
        "rolloutPct": FULL_ROLLOUT,
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def flag_view(flag: FlagSpec, state: Document) -> dict[str, Any]:
    """The contract's flag object: the registry's description and scope over the stored state."""
    view = {
        "id": flag.name,
        "name": flag.name,
        "description": flag.description,
        "scope": flag.scope,
        "enabled": bool(state["enabled"]),
        "createdAt": state["createdAt"],
        "updatedAt": state["updatedAt"],
    }
    if flag.scope == "per_tenant":
        view["rolloutPct"] = state.get("rolloutPct", FULL_ROLLOUT)
    return view


def list_flags() -> list[dict[str, Any]]:
    """Every registered flag with its current state (one partition query)."""
    stored = {doc["id"]: doc for doc in store.states()}
    return [flag_view(flag, stored.get(name) or default_state(flag)) for name, flag in registry.flags().items()]


def update_flag(actor: Principal, name: str, patch: FlagPatch, *, ip: str | None = None) -> dict[str, Any]:
    """Turn a flag on or off or change its rollout; audited. An empty patch answers the current state."""
    flag = registry.spec(name)
    changes = patch.model_dump(exclude_unset=True)
    if "rolloutPct" in changes and flag.scope == "global":
        raise BadRequest(f"{name} is a global flag: it has no rollout", code="flag_is_global")
    if not changes:
        return flag_view(flag, store.state(name) or default_state(flag))
    stamp = {"updatedAt": clock.now_iso(), "updatedBy": actor.user_id}
    before = default_state(flag)
    try:
        after = store.create({**before, **changes, **stamp, "createdAt": clock.now_iso()})
    except Conflict:
        before, after = store.update_fields(name, FLAGS_SCOPE, {**changes, **stamp}, what="Feature flag")
    forget(name)
    audit.record(
        actor,
        "feature_flag.updated",
        target_type="feature_flag",
        target_id=name,
        tenant_id=None,
        changes=audit.diff(before, after, list(changes)),
        ip=ip,
    )
    return flag_view(flag, after)


def _override_view(doc: Document) -> dict[str, Any]:
    return {field: doc[field] for field in OVERRIDE_FIELDS if doc.get(field) is not None}


def list_overrides(name: str) -> list[dict[str, Any]]:
    """A flag's tenant overrides (one partition query); a global flag has none."""
    flag = registry.spec(name)
    if flag.scope == "global":
        return []
    return [_override_view(doc) for doc in store.overrides(name, limit=LIST_OVERRIDES_MAX)]


def set_override(
    actor: Principal, name: str, tenant_id: str, patch: FlagOverridePatch, *, ip: str | None = None
) -> dict[str, Any]:
    """Force a per-tenant flag on or off for one tenant, or drop the override; audited.

    The answer carries `effective`: what the flag now evaluates to for that tenant.
    """
    flag = registry.spec(name)
    if flag.scope == "global":
        raise BadRequest(f"{name} is a global flag: it has no tenant overrides", code="flag_is_global")
    from shared.tenants import service as tenants

    if not tenants.tenant_exists(tenant_id):
        raise NotFound("Tenant not found")
    scope = overrides_scope(name)
    current = store.read(tenant_id, scope)
    if patch.remove:
        if current is not None:
            store.delete(tenant_id, scope)
            _audit_override(actor, name, tenant_id, current, {}, ip)
        forget(name)
        return {"flag": name, "tenantId": tenant_id, "removed": True, "effective": is_enabled(name, tenant_id)}
    fields: Document = {"enabled": patch.enabled, "updatedAt": clock.now_iso(), "updatedBy": actor.user_id}
    if patch.reason is not None:
        fields["reason"] = patch.reason
    after = _write_override(name, tenant_id, scope, current, fields)
    _audit_override(actor, name, tenant_id, current or {}, after, ip)
    forget(name)
    return {**_override_view(after), "effective": is_enabled(name, tenant_id)}


def _write_override(name: str, tenant_id: str, scope: str, current: Document | None, fields: Document) -> Document:
    """Create the override, or replace the copy just read (ETag); a lost race falls back to read-and-retry."""
    if current is None:
        try:
            return store.create(
                {"id": tenant_id, "scope": scope, "flag": name, "tenantId": tenant_id, "type": "flagOverride", **fields}
            )
        except Conflict:
            pass
    else:
        try:
            return store.replace({**current, **fields})
        except (PreconditionFailed, NotFound):
            pass
    _, after = store.update_fields(tenant_id, scope, fields, what="Flag override")
    return after


def _audit_override(
    actor: Principal, name: str, tenant_id: str, before: Document, after: Document, ip: str | None
) -> None:
    audit.record(
        actor,
        "feature_flag.override_set" if after else "feature_flag.override_removed",
        target_type="feature_flag",
        target_id=name,
        tenant_id=tenant_id,
        changes=audit.diff(before, after, ["enabled", "reason"]),
        ip=ip,
    )


# Every cached flag is forgotten when the process state is reset (settings changed: dev host, tests).
lifecycle.on_reset(forget)
