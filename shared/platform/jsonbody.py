"""Parsing of raw JSON bodies, shared by the HTTP adapter and services that verify raw bytes first."""

from __future__ import annotations

import json
from typing import Any

from shared.platform.errors import BadRequest


def parse_json(raw: bytes) -> Any:
    """Parse a JSON body; BadRequest (invalid_json) when it is not valid UTF-8 JSON."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest("The request body is not valid JSON", code="invalid_json") from exc
