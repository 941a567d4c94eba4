"""The catalog's versioned data files under shared/catalog/data, loaded once per process."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


@cache
def _document(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def version(name: str) -> str:
    """The version stamp of one data file."""
    return str(_document(name).get("version", ""))


@cache
def voices() -> tuple[dict[str, Any], ...]:
    """Every realtime voice, in catalog order."""
    return tuple(_document("voices")["voices"])


@cache
def voice_ids() -> frozenset[str]:
    """The ids of every voice."""
    return frozenset(voice["id"] for voice in voices())


@cache
def tools() -> dict[str, dict[str, Any]]:
    """The tool registry by tool id."""
    return {tool["id"]: tool for tool in _document("tools")["tools"]}


@cache
def personas() -> dict[str, dict[str, Any]]:
    """Personas by id, each with its server-only `runtime` section."""
    return {persona["id"]: persona for persona in _document("personas")["personas"]}


@cache
def scenarios() -> dict[str, dict[str, Any]]:
    """Scenarios by slug, in catalog order."""
    return {scenario["slug"]: scenario for scenario in _document("scenarios")["scenarios"]}


@cache
def packs() -> tuple[dict[str, Any], ...]:
    """Vertical packs with their workflows."""
    return tuple(_document("verticals")["packs"])


@cache
def workflows() -> dict[str, dict[str, Any]]:
    """Every workflow of every pack, by workflow id."""
    return {workflow["workflowId"]: workflow for pack in packs() for workflow in pack["workflows"]}
