"""The versioned control catalog (data/controls.json): which controls each tenant must attest, by framework."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "controls.json"
FRAMEWORKS = ("HIPAA", "SOC2", "GDPR", "CCPA")


@cache
def _document() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def version() -> str:
    """The catalog's version stamp (recorded on every item it seeds)."""
    return str(_document()["version"])


def controls() -> tuple[dict[str, Any], ...]:
    """Every control, in catalog order."""
    return tuple(_document()["controls"])


def is_healthcare(industry: object) -> bool:
    """Whether a tenant's industry makes it a HIPAA covered entity (or its business associate)."""
    return isinstance(industry, str) and industry.strip().lower() in set(_document()["hipaaIndustries"])


def applicable(industry: object) -> tuple[dict[str, Any], ...]:
    """The controls a tenant of this industry must attest: every `all` control, and `healthcare` ones for it."""
    healthcare = is_healthcare(industry)
    return tuple(c for c in controls() if c["appliesTo"] == "all" or (healthcare and c["appliesTo"] == "healthcare"))
