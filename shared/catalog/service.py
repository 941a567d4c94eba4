"""Catalog reads: personas, voices, scenarios (by visibility), vertical workflows, persona tools."""

from __future__ import annotations

from typing import Any

from shared.catalog import content
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, NotFound

PUBLIC_VISIBILITIES = frozenset({"core", "proof"})


def list_voices() -> dict[str, Any]:
    """The voice catalog."""
    items = list(content.voices())
    return {"items": items, "count": len(items)}


def public_persona(persona: dict[str, Any]) -> dict[str, Any]:
    """A persona as the catalog shows it: without its server-only runtime section."""
    return {key: value for key, value in persona.items() if key != "runtime"}


def list_personas() -> dict[str, Any]:
    """The persona catalog."""
    items = [public_persona(persona) for persona in content.personas().values()]
    return {"items": items, "count": len(items), "version": content.version("personas")}


def persona(persona_id: str) -> dict[str, Any]:
    """One persona with its runtime section; NotFound when unknown."""
    found = content.personas().get(persona_id)
    if found is None:
        raise NotFound(f"Persona {persona_id!r} not found")
    return found


def _is_public(scenario: dict[str, Any]) -> bool:
    return scenario.get("visibility", "core") in PUBLIC_VISIBILITIES and not scenario.get("hidden", False)


def list_scenarios(*, industry: str | None, visibility: str | None, include_hidden: bool) -> dict[str, Any]:
    """Scenarios filtered by industry and visibility; the public catalog holds only core and proof."""
    items = [
        scenario
        for scenario in content.scenarios().values()
        if (include_hidden or _is_public(scenario))
        and (industry is None or scenario["industry"] == industry)
        and (visibility is None or scenario.get("visibility", "core") == visibility)
    ]
    return {"items": items, "count": len(items)}


def get_scenario(slug: str, *, include_hidden: bool) -> dict[str, Any]:
    """One scenario; a hidden one does not exist for the public catalog."""
    scenario = content.scenarios().get(slug)
    if scenario is None or not (include_hidden or _is_public(scenario)):
        raise NotFound(f"Scenario {slug!r} not found")
    return scenario


def scenario_or_400(slug: str) -> dict[str, Any]:
    """A scenario named by a client in a payload or query: unknown is a bad request, not a 404."""
    scenario = content.scenarios().get(slug)
    if scenario is None:
        raise BadRequest(f"Unknown scenario {slug!r}", code="unknown_scenario")
    return scenario


def vertical_workflows(vertical: str) -> dict[str, Any]:
    """The workflows of one vertical pack."""
    pack = next((pack for pack in content.packs() if pack["verticalPack"] == vertical), None)
    if pack is None:
        raise NotFound(f"Vertical pack {vertical!r} not found")
    return success(verticalPack=vertical, workflows=pack["workflows"])


def list_packs() -> dict[str, Any]:
    """Every vertical pack with its workflows (admin catalog)."""
    return success(packs=list(content.packs()))


def realtime_tool(tool_id: str) -> dict[str, Any]:
    """A registry tool in the realtime API's function-tool format."""
    tool = content.tools()[tool_id]
    return {
        "type": "function",
        "name": tool["id"],
        "description": tool["description"],
        "parameters": tool["parameters"],
    }


def persona_tools(persona_id: str | None) -> dict[str, Any]:
    """The persona's tools as realtime function tools; a missing or unknown persona is a 400."""
    if not persona_id:
        raise BadRequest("personaId is required", code="validation_error")
    found = content.personas().get(persona_id)
    if found is None:
        raise BadRequest(f"Unknown persona {persona_id!r}", code="unknown_persona")
    return {"personaId": persona_id, "tools": [realtime_tool(tool_id) for tool_id in found["runtime"]["tools"]]}
