"""The contract's success envelope, built in one place: `{"success": true, ...}`."""

from __future__ import annotations

from typing import Any


def success(**fields: Any) -> dict[str, Any]:
    """`{"success": True, **fields}`: the body most operations answer with."""
    return {"success": True, **fields}
