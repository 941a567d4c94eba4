"""The versioned flag registry (data/flags.json): every flag the code reads, its scope and its default.

A flag's default is the setting it names (`defaultSetting`), so an environment can turn a flag on before
anyone stores a state for it; a state stored by a super-admin wins over that default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from shared.platform.errors import NotFound

DATA_FILE = Path(__file__).resolve().parent / "data" / "flags.json"

BOOKING_TEMPORAL_ORCHESTRATION = "booking_temporal_orchestration"
TOOL_EXECUTION_PERSISTENCE = "tool_execution_persistence"

Scope = Literal["global", "per_tenant"]


@dataclass(frozen=True, slots=True)
class FlagSpec:
    """One registered flag."""

    name: str
    description: str
    scope: Scope
    default_setting: str


class UnknownFlag(NotFound):
    """A flag name the registry does not hold."""

    code = "flag_not_found"
    default_message = "Feature flag not found"


@cache
def _document() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def version() -> str:
    """The registry's version stamp (the createdAt of a flag no one has changed yet)."""
    return str(_document()["version"])


@cache
def flags() -> dict[str, FlagSpec]:
    """Every registered flag by name, in registry order."""
    return {
        item["name"]: FlagSpec(item["name"], item["description"], item["scope"], item["defaultSetting"])
        for item in _document()["flags"]
    }


def spec(name: str) -> FlagSpec:
    """One registered flag; UnknownFlag (404) otherwise."""
    found = flags().get(name)
    if found is None:
        raise UnknownFlag(f"Feature flag {name!r} not found")
    return found


def default_enabled(flag: FlagSpec) -> bool:
    """The flag's default: the boolean setting it names (FEATURE_X is the settings field `x`)."""
    from shared.platform.settings import get_settings

    return bool(getattr(get_settings(), setting_field(flag)))


def setting_field(flag: FlagSpec) -> str:
    """The Settings field holding the flag's default."""
    return flag.default_setting.removeprefix("FEATURE_").lower()
