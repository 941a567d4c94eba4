"""Tool policy: global rules seeded from the registry, tenant overrides, and the effective decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.audit import service as audit
from shared.catalog import content
from shared.platform import clock
from shared.platform.errors import BadRequest, Conflict, NotFound
from shared.platform.principal import Principal
from shared.platform.store.repository import Document
from shared.toolpolicy.repository import GLOBAL_SCOPE, ToolPolicyRepository, tenant_scope

if TYPE_CHECKING:
    from shared.toolpolicy.models import TenantOverridePatch, ToolRulePatch

RULE_FIELDS = ("toolId", "category", "description", "access", "hipaaImpact", "updatedAt", "updatedBy")
OVERRIDE_FIELDS = ("toolId", "tenantId", "enabled", "reason", "updatedAt", "updatedBy")
REGISTRY_AUTHOR = "registry"

policies = ToolPolicyRepository()


def _registry_tool(tool_id: str) -> dict[str, Any]:
    tool = content.tools().get(tool_id)
    if tool is None:
        raise NotFound(f"Tool {tool_id!r} not found")
    return tool


def default_rule(tool: dict[str, Any]) -> Document:
    """The rule a registry tool has until someone changes it."""
    return {
        "id": tool["id"],
        "scope": GLOBAL_SCOPE,
        "toolId": tool["id"],
        "category": tool["category"],
        "description": tool["description"],
        "access": tool["defaultAccess"],
        "hipaaImpact": tool["hipaaImpact"],
        "updatedAt": f"{content.version('tools')}T00:00:00.000Z",
        "updatedBy": REGISTRY_AUTHOR,
    }


def _view(doc: Document, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: doc[name] for name in fields if doc.get(name) is not None}


def list_rules() -> list[dict[str, Any]]:
    """Every registry tool's rule: the stored one, else the registry default."""
    stored = {doc["toolId"]: doc for doc in policies.rules()}
    return [_view(stored.get(tool_id) or default_rule(tool), RULE_FIELDS) for tool_id, tool in content.tools().items()]


def rule(tool_id: str) -> Document:
    """One tool's effective global rule."""
    return policies.read(tool_id, GLOBAL_SCOPE) or default_rule(_registry_tool(tool_id))


def seed_rules() -> int:
    """Store the registry default of every tool without a stored rule; returns how many were added."""
    stored = {doc["toolId"] for doc in policies.rules()}
    added = 0
    for tool_id, tool in content.tools().items():
        if tool_id in stored:
            continue
        try:
            policies.create(default_rule(tool))
            added += 1
        except Conflict:
            pass
    return added


def update_rule(actor: Principal, tool_id: str, patch: ToolRulePatch, *, ip: str | None = None) -> dict[str, Any]:
    """Change a global rule and audit the change."""
    tool = _registry_tool(tool_id)
    changes = patch.model_dump(exclude_unset=True)
    if not changes:
        return _view(rule(tool_id), RULE_FIELDS)
    stamp = {"updatedAt": clock.now_iso(), "updatedBy": actor.user_id}
    try:
        before, after = default_rule(tool), policies.create({**default_rule(tool), **changes, **stamp})
    except Conflict:
        before, after = policies.update_fields(tool_id, GLOBAL_SCOPE, {**changes, **stamp}, what="Tool rule")
    audit.record(
        actor,
        "tool_policy.updated",
        target_type="tool",
        target_id=tool_id,
        tenant_id=None,
        changes=audit.diff(before, after, list(changes)),
        ip=ip,
    )
    return _view(after, RULE_FIELDS)


def list_overrides(tenant_id: str) -> list[dict[str, Any]]:
    """A tenant's overrides."""
    return [_view(doc, OVERRIDE_FIELDS) for doc in policies.overrides(tenant_id)]


def set_override(
    actor: Principal, tenant_id: str, tool_id: str, patch: TenantOverridePatch, *, ip: str | None = None
) -> dict[str, Any]:
    """Enable or disable a tool for one tenant; a globally blocked tool cannot be enabled.

    A patch without `enabled` changes nothing and answers the tenant's current state of the tool.
    """
    _registry_tool(tool_id)
    if patch.enabled is None:
        current = policies.read(tool_id, tenant_scope(tenant_id))
        if current:
            return _view(current, OVERRIDE_FIELDS)
        return {"toolId": tool_id, "tenantId": tenant_id, "enabled": is_allowed(tenant_id, tool_id)}
    if patch.enabled and rule(tool_id)["access"] == "blocked":
        raise BadRequest(f"{tool_id} is blocked for every tenant", code="tool_blocked")
    scope = tenant_scope(tenant_id)
    fields: Document = {
        "enabled": patch.enabled,
        "reason": patch.reason,
        "updatedAt": clock.now_iso(),
        "updatedBy": actor.user_id,
    }
    try:
        before, after = (
            {},
            policies.create(
                {
                    "id": tool_id,
                    "scope": scope,
                    "tenantId": tenant_id,
                    "toolId": tool_id,
                    "type": "toolOverride",
                    **fields,
                }
            ),
        )
    except Conflict:
        before, after = policies.update_fields(tool_id, scope, fields, what="Tool override")
    audit.record(
        actor,
        "tool_policy.override_set",
        target_type="tool",
        target_id=tool_id,
        tenant_id=tenant_id,
        changes=audit.diff(before, after, ["enabled", "reason"]),
        ip=ip,
    )
    return _view(after, OVERRIDE_FIELDS)


def decision(tenant_id: str, tool_id: str) -> tuple[bool, str]:
    """Whether the tenant may run the tool, and why: the global rule, then the tenant's override.

    global unless the tenant disabled it, tenant_optin only when the tenant enabled it, never when blocked.
    """
    access = rule(tool_id)["access"]
    if access == "blocked":
        return False, f"{tool_id} is blocked for every tenant by the platform's tool policy"
    override = policies.read(tool_id, tenant_scope(tenant_id))
    if access == "tenant_optin":
        if override and override.get("enabled"):
            return True, f"{tool_id} is enabled for this tenant (opt-in)"
        return False, f"{tool_id} is opt-in and this tenant has not enabled it"
    if override and override.get("enabled") is False:
        reason = f": {override['reason']}" if override.get("reason") else ""
        return False, f"{tool_id} is disabled for this tenant{reason}"
    return True, f"{tool_id} is allowed for every tenant"


def is_allowed(tenant_id: str, tool_id: str) -> bool:
    """Whether the tenant may run the tool: global unless disabled, opt-in only when enabled, never if blocked."""
    return decision(tenant_id, tool_id)[0]
